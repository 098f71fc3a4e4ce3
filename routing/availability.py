"""Who can work when: a rep's working time, the first-touch clock counted in it, and who can take a lead now.

Pure: reps and teams come in as :mod:`routing.assign`'s directory; no ORM. A rep's working time is their
shifts (``WorkingHours``; every moment for a rep with none) less the business's Holidays (which close
shifts, not the time of a rep without hours) and less their Absences. The same rules decide routing
(``assign``), the SLA clock (:func:`sla_clock`) and every "tell the owner" path (:func:`takers`: the voice
ring list, Slack alerts, SLA alerts), so none of them can disagree about who is working.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from routing.assign import Directory, RepInfo
from routing.timing import local_at

# A rep with no working time in a year ahead is a configuration error: the clock then runs as wall time.
HORIZON_DAYS = 366

Span = tuple[datetime, datetime]


def _minus(span: Span, hole: Span) -> list[Span]:
    (start, end), (cut_start, cut_end) = span, hole
    if cut_end <= start or cut_start >= end:
        return [span]
    return [piece for piece in ((start, cut_start), (cut_end, end)) if piece[0] < piece[1]]


def _shifts(rep: RepInfo, start: datetime) -> Iterator[Span]:
    """Shifts in UTC: arithmetic between two datetimes of one zone is wall time, wrong across a DST change."""
    tz = rep.zone()
    # From the day before: a shift that opened yesterday on the rep's clock may still be running.
    day = start.astimezone(tz).date() - timedelta(days=1)
    for _ in range(HORIZON_DAYS):
        if not rep.hours:
            yield _utc(day, time(0), tz), _utc(day + timedelta(days=1), time(0), tz)
        elif day not in rep.holidays:
            for _, opens, closes in sorted(h for h in rep.hours if h[0] == day.weekday()):
                yield _utc(day, opens, tz), _utc(day, closes, tz)
        day += timedelta(days=1)


def _utc(day, at: time, tz) -> datetime:
    return local_at(day, at, tz).astimezone(UTC)


def work_spans(rep: RepInfo, start: datetime) -> Iterator[Span]:
    """The stretches in which ``rep`` works, from ``start`` on, in order (UTC; one may end where the next starts)."""
    start = start.astimezone(UTC)
    absences = sorted(rep.absences)
    for opens, closes in _shifts(rep, start):
        pieces = [(max(opens, start), closes)] if closes > start else []
        for hole in absences:
            pieces = [piece for span in pieces for piece in _minus(span, hole)]
        yield from pieces


def working_minutes(rep: RepInfo, start: datetime, end: datetime) -> float:
    """Minutes of ``rep``'s working time between ``start`` and ``end``."""
    end = end.astimezone(UTC)
    total = timedelta()
    for opens, closes in work_spans(rep, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total.total_seconds() / 60


def _stamp(rep: RepInfo, moment: datetime) -> str:
    return moment.astimezone(rep.zone()).strftime("%a %H:%M")


def absent_until(rep: RepInfo, now: datetime) -> datetime | None:
    """When the absence ``rep`` is in at ``now`` ends (back-to-back absences count as one); None if not away."""
    until = None
    for start, end in sorted(rep.absences):
        if start <= (until or now) < end:
            until = end
    return until


def _off_why(rep: RepInfo, now: datetime) -> str:
    """Why ``rep`` is not working at ``now``, in words: 'is away until Tue 18:00', 'is off shift'…"""
    until = absent_until(rep, now)
    if until is not None:
        return f"is away until {_stamp(rep, until)}"
    if rep.hours and now.astimezone(rep.zone()).date() in rep.holidays:
        return "is off for the holiday"
    return "is off shift"


@dataclass(frozen=True)
class SlaClock:
    """A first-touch deadline counted in the assignee's working time ("business minutes", as help desks count)."""

    starts_at: datetime  # the first working moment at or after the assignment
    due_at: datetime
    note: str  # why the deadline is not simply assignment + minutes, in words; "" when it is


def sla_clock(rep: RepInfo, start: datetime, minutes: int) -> SlaClock:
    """When ``rep`` must first touch a lead given to them at ``start``: after ``minutes`` of their working time.

    The clock starts when they can first work (their shift, the end of an absence, the day after a holiday) and
    stops while they cannot: a deadline that would fall after their shift ends goes on at their next shift.
    Without working time in the next year it runs as wall time from ``start``.
    """
    start = start.astimezone(UTC)
    left = timedelta(minutes=minutes)
    starts_at = None
    for opens, closes in work_spans(rep, start):
        starts_at = starts_at or opens
        if opens + left <= closes:
            return SlaClock(starts_at, opens + left, _clock_note(rep, start, starts_at, opens + left, minutes))
        left -= closes - opens
    return SlaClock(start, start + timedelta(minutes=minutes), f"{rep.name} has no working time ahead: wall clock")


def _clock_note(rep: RepInfo, start: datetime, starts_at: datetime, due_at: datetime, minutes: int) -> str:
    if due_at == start + timedelta(minutes=minutes):
        return ""
    head = f"SLA {minutes} min counted in {rep.name}'s working time"
    due = f"first touch due {_stamp(rep, due_at)}"
    if starts_at > start:
        opens = "absence ends" if absent_until(rep, start) == starts_at else "shift starts"
        return f"{head}: {rep.name} {_off_why(rep, start)}, the clock starts {_stamp(rep, starts_at)} ({opens}); {due}"
    return f"{head}: the clock stops while they are off (end of shift, absence, holiday); {due}"


OWNER, TEAM, FALLBACK, NOBODY = "owner", "team", "fallback", "nobody"


@dataclass(frozen=True)
class Takers:
    """Who can take a lead now, in the order to ask, and why them."""

    reps: tuple[RepInfo, ...]
    who: str  # OWNER, TEAM (the owner's team on shift), FALLBACK (the fallback team on shift), NOBODY
    team_id: int | None  # the team to tell (its Slack channel): the takers' team, else the owner's
    reason: str

    @property
    def names(self) -> str:
        return ", ".join(r.name for r in self.reps)


def takers(directory: Directory, owner_id: int | None, now: datetime, *, need_phone: bool = False) -> Takers:
    """Who can take the lead of rep ``owner_id`` (None: no rep owns it) at ``now``; with ``need_phone``, by phone.

    The owner if they can work now; else their team's reps who can; else the fallback team's; else nobody.
    "Can work" is what routing asks of a rep: able to log in, switched on, on shift, not away, and not on a holiday.
    With no owner and no fallback team set, every team's reps who can work now are asked.
    """

    def ready(reps) -> list[RepInfo]:
        return [
            r for r in reps if r.takes_leads and not r.is_away(now) and r.on_shift(now) and (r.phone or not need_phone)
        ]

    owner = directory.reps.get(owner_id) if owner_id is not None else None
    steps = []
    if owner is not None:
        if ready([owner]):
            return Takers((owner,), OWNER, owner.team_id, f"{owner.name}, the owner, is working")
        steps.append(f"owner {owner.name} {_not_ready_why(owner, now, need_phone)}")
        team = directory.teams.get(owner.team_id)
        mates = ready(r for r in directory.team_reps(owner.team_id) if r.id != owner.id)
        team_name = team.name if team else "their team"
        if mates:
            found = Takers(tuple(mates), TEAM, owner.team_id, "")
            return _with_reason(found, [*steps, f"working in {team_name}: {found.names}"])
        steps.append(f"nobody else in {team_name} is working")
    fallback_id = directory.fallback_team_id
    if fallback_id is not None and (owner is None or fallback_id != owner.team_id):
        team = directory.teams[fallback_id]
        found = Takers(tuple(ready(directory.team_reps(fallback_id))), FALLBACK, fallback_id, "")
        if found.reps:
            return _with_reason(found, [*steps, f"fallback team '{team.name}': {found.names}"])
        steps.append(f"nobody in the fallback team '{team.name}' is working")
    elif fallback_id is None and owner is None:
        everyone = [r for team_id in sorted(directory.teams) for r in ready(directory.team_reps(team_id))]
        if everyone:
            return _with_reason(Takers(tuple(everyone), FALLBACK, None, ""), ["no fallback team: whoever is working"])
        steps.append("nobody is working")
    return _with_reason(Takers((), NOBODY, owner.team_id if owner else fallback_id, ""), steps or ["nobody"])


def _not_ready_why(rep: RepInfo, now: datetime, need_phone: bool) -> str:
    if not rep.can_log_in:
        return "cannot log in"
    if not rep.active:
        return "is switched off"
    if rep.is_away(now) or not rep.on_shift(now):
        return _off_why(rep, now)
    return "has no phone" if need_phone else "is unavailable"


def _with_reason(found: Takers, steps: list[str]) -> Takers:
    return Takers(found.reps, found.who, found.team_id, "; ".join(steps))
