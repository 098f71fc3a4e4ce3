"""Pure assignment: which rep gets a lead once a rule matched. No ORM, no I/O.

The directory (reps, their hours, absences, skills and territories; teams) is configuration and
may be cached. The state (round-robin cursors, weighted-rotation credits, open-lead counts) is
read under row locks by ``routing.services`` or copied for a what-if replay; :func:`assign`
updates it in place so that a replay of many leads rotates exactly as production would.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leads.conditions import LeadFacts

ROUND_ROBIN = "round_robin"
WEIGHTED = "weighted_round_robin"
LEAST_LOADED = "least_loaded"
ON_SHIFT = "on_shift"
FALLBACK = "fallback"


@dataclass(frozen=True)
class RepInfo:
    id: int
    name: str
    team_id: int
    user_id: int
    active: bool = True  # the Rep row's own switch
    can_log_in: bool = True  # their user is active and has a way in (routing.models.login_possible)
    timezone: str = "UTC"
    weight: int = 1
    capacity: int | None = None
    languages: frozenset[str] = frozenset()
    product_lines: frozenset[str] = frozenset()
    lead_types: frozenset[str] = frozenset()
    # (weekday 0=Monday, start, end) in the rep's time zone; none at all means always on shift.
    hours: tuple[tuple[int, time, time], ...] = ()
    absences: tuple[tuple[datetime, datetime], ...] = ()
    # The business's Holidays: dates on the rep's clock that close their hours (a rep without hours works them).
    holidays: frozenset[date] = frozenset()
    phone: str = ""

    @property
    def takes_leads(self) -> bool:
        """Switched on and able to log in: a rep who cannot log in is given nothing, by any strategy."""
        return self.active and self.can_log_in

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def is_away(self, now: datetime) -> bool:
        return any(start <= now < end for start, end in self.absences)

    def on_shift(self, now: datetime) -> bool:
        if not self.hours:
            return True
        local = now.astimezone(self.zone())
        if local.date() in self.holidays:
            return False
        return any(day == local.weekday() and start <= local.time() < end for day, start, end in self.hours)

    def next_shift(self, now: datetime) -> datetime | None:
        """When this rep's next working window opens (now, if on shift); None without hours in the next month."""
        if self.on_shift(now):
            return now
        local = now.astimezone(self.zone())
        starts = []
        for offset in range(32):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for weekday, start, _ in self.hours:
                if weekday == day.weekday():
                    opens = datetime.combine(day, start, tzinfo=self.zone())
                    if opens > local:
                        starts.append(opens)
        return min(starts, default=None)


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    is_fallback: bool = False


@dataclass(frozen=True)
class TerritoryInfo:
    kind: str  # country | region | postal
    code: str
    rep_id: int | None = None
    team_id: int | None = None


@dataclass(frozen=True)
class RuleTarget:
    """What a matched rule says about who gets the lead."""

    team_id: int | None = None
    rep_id: int | None = None
    strategy: str = ROUND_ROBIN
    by_account_owner: bool = False
    by_territory: bool = False
    by_skills: bool = False
    out_of_hours: str = ON_SHIFT
    fallback_team_id: int | None = None


@dataclass(frozen=True)
class Directory:
    teams: dict[int, TeamInfo]
    reps: dict[int, RepInfo]
    territories: tuple[TerritoryInfo, ...] = ()

    @property
    def fallback_team_id(self) -> int | None:
        return next((t.id for t in self.teams.values() if t.is_fallback), None)

    @cached_property
    def _by_team(self) -> dict[int, list[RepInfo]]:
        teams: dict[int, list[RepInfo]] = {}
        for rep in sorted(self.reps.values(), key=lambda r: r.id):
            if rep.takes_leads:
                teams.setdefault(rep.team_id, []).append(rep)
        return teams

    @cached_property
    def _territory_index(self) -> dict[tuple[str, str], list[TerritoryInfo]]:
        index: dict[tuple[str, str], list[TerritoryInfo]] = {}
        for t in self.territories:
            index.setdefault((t.kind, t.code), []).append(t)
        return index

    def team_reps(self, team_id: int | None) -> list[RepInfo]:
        """The team's reps who take leads (switched on, able to log in), in id order."""
        return list(self._by_team.get(team_id, ()))

    def territory_owners(self, kind: str, code: str) -> list[TerritoryInfo]:
        return self._territory_index.get((kind, code), [])


@dataclass
class RoutingState:
    """Rotation and load, keyed by team and rep ids; mutated by :func:`assign` as it assigns."""

    cursors: dict[int, int | None] = field(default_factory=dict)
    credits: dict[int, int] = field(default_factory=dict)
    loads: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Pick:
    rep: RepInfo | None
    reason: str
    team_id: int | None = None
    via_fallback: bool = False


def territory_keys(facts: LeadFacts) -> list[tuple[str, str]]:
    """The lead's location as territory keys, most specific first: postal prefixes, region, country."""
    keys = []
    postal = facts.postal_code.replace(" ", "").upper()
    keys += [("postal", postal[:n]) for n in range(len(postal), 1, -1)]
    if facts.region:
        keys.append(("region", facts.region.upper()))
    if facts.country:
        keys.append(("country", facts.country.upper()))
    return keys


def _lead_needs(facts: LeadFacts) -> list[tuple[str, str]]:
    needs = [("languages", facts.language), ("product_lines", facts.product_line), ("lead_types", facts.lead_type)]
    return [(attr, value.strip().lower()) for attr, value in needs if value and value.strip()]


def _by_territory(facts: LeadFacts, directory: Directory, scope: list[RepInfo] | None) -> tuple[list[RepInfo], str]:
    """Reps owning the lead's most specific territory, within ``scope`` (None: every team)."""
    scope_ids = None if scope is None else {r.id for r in scope}
    scope_teams = None if scope is None else {r.team_id for r in scope}
    for kind, code in territory_keys(facts):
        reps: set[int] = set()
        for t in directory.territory_owners(kind, code):
            if t.rep_id is not None and (scope_ids is None or t.rep_id in scope_ids):
                reps.add(t.rep_id)
            if t.team_id is not None and (scope_teams is None or t.team_id in scope_teams):
                reps |= {r.id for r in directory.team_reps(t.team_id)}
        chosen = [directory.reps[i] for i in sorted(reps) if i in directory.reps and directory.reps[i].takes_leads]
        if chosen:
            label = code if kind != "postal" else f"postal {code}*"
            return chosen, f"territory {label}"
    where = ", ".join(filter(None, [facts.postal_code, facts.region, facts.country])) or "no location"
    return [], f"no rep owns the territory of this lead ({where})"


def _by_skills(facts: LeadFacts, reps: list[RepInfo]) -> tuple[list[RepInfo], str]:
    needs = _lead_needs(facts)
    if not needs:
        return reps, ""
    fit = [r for r in reps if all(value in getattr(r, attr) for attr, value in needs)]
    wanted = ", ".join(value for _, value in needs)
    return fit, (f"skills {wanted}" if fit else f"no rep has the skills {wanted}")


def _capacity_note(rep: RepInfo, state: RoutingState) -> str:
    load = state.loads.get(rep.id, 0)
    return f"{load} open of {rep.capacity}" if rep.capacity is not None else f"{load} open"


def _available(reps: Iterable[RepInfo], state: RoutingState, now: datetime, *, need_shift: bool) -> list[RepInfo]:
    return [
        r
        for r in reps
        if r.takes_leads
        and not r.is_away(now)
        and (r.capacity is None or state.loads.get(r.id, 0) < r.capacity)
        and (not need_shift or r.on_shift(now))
    ]


def _unavailable_reason(reps: Sequence[RepInfo], state: RoutingState, now: datetime) -> str:
    if not reps:
        return "nobody to give it to"
    away = sum(1 for r in reps if r.is_away(now))
    full = sum(1 for r in reps if r.capacity is not None and state.loads.get(r.id, 0) >= r.capacity)
    off = sum(1 for r in reps if not r.on_shift(now))
    parts = [f"{n} {what}" for n, what in ((away, "away"), (full, "at capacity"), (off, "off shift")) if n]
    return f"all {len(reps)} unavailable ({', '.join(parts)})" if parts else "nobody available"


def _rotate(reps: list[RepInfo], cursor: int | None) -> list[RepInfo]:
    """Reps in turn order: the first one after the cursor's id comes first."""
    ordered = sorted(reps, key=lambda r: r.id)
    if cursor is None:
        return ordered
    later = [r for r in ordered if r.id > cursor]
    return later + [r for r in ordered if r.id <= cursor]


def _choose(strategy: str, reps: list[RepInfo], team_id: int | None, state: RoutingState) -> tuple[RepInfo, str]:
    turn = _rotate(reps, state.cursors.get(team_id))
    if strategy == LEAST_LOADED:
        rep = min(turn, key=lambda r: state.loads.get(r.id, 0))
        label = f"least-loaded: {rep.name} had {_capacity_note(rep, state)}"
    elif strategy == WEIGHTED:
        # Smooth weighted round-robin: every candidate earns its weight, the richest is picked and
        # pays the total back. Over any window each rep gets its share, spread out, not in bursts.
        total = sum(r.weight for r in reps)
        for r in reps:
            state.credits[r.id] = state.credits.get(r.id, 0) + r.weight
        rep = max(turn, key=lambda r: state.credits[r.id])
        state.credits[rep.id] -= total
        label = f"weighted round-robin: {rep.name} (weight {rep.weight} of {total})"
    else:
        rep = turn[0]
        label = f"round-robin: {rep.name}"
    if team_id is not None:
        state.cursors[team_id] = rep.id
    state.loads[rep.id] = state.loads.get(rep.id, 0) + 1
    return rep, label


def _fallback(
    directory: Directory, state: RoutingState, now: datetime, team_id: int | None, why: str, exclude: frozenset[int]
) -> Pick:
    if team_id is None:
        return Pick(None, f"{why} → no fallback team is set: left unassigned for a manager")
    team = directory.teams.get(team_id)
    reps = [r for r in directory.team_reps(team_id) if r.id not in exclude]
    if team is None or not reps:
        return Pick(None, f"{why} → fallback team has no active rep: left unassigned for a manager")
    available = _available(reps, state, now, need_shift=True)
    if available:
        rep, label = _choose(ROUND_ROBIN, available, team_id, state)
        return Pick(rep, f"{why} → fallback team '{team.name}' → {label}", team_id, via_fallback=True)
    # Nobody on shift anywhere: the lead still needs an owner, so it goes to whoever starts first.
    waiting = [(r.next_shift(now), r.id, r) for r in _available(reps, state, now, need_shift=False)]
    waiting = [w for w in waiting if w[0] is not None]
    if not waiting:
        reason = _unavailable_reason(reps, state, now)
        return Pick(None, f"{why} → fallback team '{team.name}': {reason}; left unassigned for a manager")
    opens, _, rep = min(waiting, key=lambda w: (w[0], w[1]))
    state.cursors[team_id] = rep.id
    state.loads[rep.id] = state.loads.get(rep.id, 0) + 1
    when = opens.astimezone(rep.zone()).strftime("%a %H:%M")
    reason = f"{why} → fallback team '{team.name}': nobody on shift; {rep.name} is first on shift ({when})"
    return Pick(rep, reason, team_id, via_fallback=True)


def assign(
    facts: LeadFacts,
    target: RuleTarget | None,
    directory: Directory,
    state: RoutingState,
    now: datetime,
    *,
    account_owner_id: int | None = None,
    exclude: frozenset[int] = frozenset(),
) -> Pick:
    """Choose a rep for a lead under a matched rule's target (None: no rule matched), updating ``state``.

    Order: the account's owner (if the rule honours it and they can take it), then the rule's
    team or rep narrowed by territory and skills, then whoever is on shift or the fallback team.
    ``exclude`` holds reps already tried (SLA reassignment never hands a lead back).
    """
    fallback_id = directory.fallback_team_id
    if target is None:
        return _fallback(directory, state, now, fallback_id, "no rule matched", exclude)
    fallback_id = target.fallback_team_id or fallback_id
    steps = []
    if target.by_account_owner and account_owner_id is not None:
        owner = directory.reps.get(account_owner_id)
        if owner is not None and owner.id not in exclude:
            if _available([owner], state, now, need_shift=True):
                state.loads[owner.id] = state.loads.get(owner.id, 0) + 1
                return Pick(owner, f"account owner: {owner.name} already owns this account", owner.team_id)
            steps.append(f"account owner {owner.name} {'unavailable' if owner.can_log_in else 'cannot log in'}")
    if target.rep_id is not None:
        rep = directory.reps.get(target.rep_id)
        scope = [rep] if rep is not None and rep.takes_leads else []
    else:
        scope = directory.team_reps(target.team_id)
    team_scope = [r for r in scope if r.id not in exclude]
    candidates = team_scope
    if target.by_territory:
        scope_or_any = candidates if target.team_id or target.rep_id else None
        candidates, label = _by_territory(facts, directory, scope_or_any)
        steps.append(label)
    if target.by_skills and candidates:
        candidates, label = _by_skills(facts, candidates)
        if label:
            steps.append(label)
    candidates = [r for r in candidates if r.id not in exclude]
    if not candidates:
        return _fallback(directory, state, now, fallback_id, " → ".join(steps) or "nobody in the rule's team", exclude)
    available = _available(candidates, state, now, need_shift=True)
    if not available and target.out_of_hours == ON_SHIFT:
        on_shift = _available(team_scope, state, now, need_shift=True)
        if on_shift:
            steps.append(f"{_unavailable_reason(candidates, state, now)}; taken by whoever is on shift")
            available = on_shift
    if not available:
        steps.append(_unavailable_reason(candidates, state, now))
        return _fallback(directory, state, now, fallback_id, " → ".join(steps), exclude)
    team_id = available[0].team_id if len({r.team_id for r in available}) == 1 else target.team_id
    rep, label = _choose(target.strategy, available, team_id, state)
    steps.append(label)
    return Pick(rep, " → ".join(steps), team_id)
