"""Routing writes: give a lead to a rep, with the reason in words.

:func:`route_decide` reads (and, for a real assignment, locks) what a decision needs and runs the
pure engine; :func:`lead_route` applies its result. The what-if tools call ``route_decide``
without locks and store nothing.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Upper
from django.utils import timezone

from audit.models import Decision
from audit.services import Stopwatch, decision_record
from integrations.models import CrmEvent
from integrations.outbound import crm_event_emit, lead_data
from leads import geo
from leads.choices import INTENTS, NOISE_INTENTS, OPEN_STAGES, Stage
from leads.conditions import LeadFacts
from leads.lock_objects import lead_lock
from leads.models import ConsentRecord, InboundEvent, Lead
from leads.normalize import FREE_EMAIL_DOMAINS
from leads.permissions import is_manager
from leads.services import Evidence, consent_opt_out, lead_stage_changed
from routing import assign, availability, engine
from routing.cadences import cadences_on_reassign
from routing.directory import RoutingConfig, routing_config
from routing.lock_objects import teams_lock
from routing.models import Assignment, IntentExample, Rep, RoutingRule, Team

logger = logging.getLogger(__name__)

SKILL_KEYS = {"language": ("language",), "product_line": ("product_line", "service"), "lead_type": ("lead_type",)}


def lead_facts(lead: Lead, qualification: dict, event: InboundEvent | None = None) -> LeadFacts:
    """The facts rules are matched against, gathered from the lead, its qualification and the event."""
    payload = event.payload if event is not None and isinstance(event.payload, dict) else {}

    def first(*keys: str) -> str:
        for source in (payload, qualification):
            for key in keys:
                value = source.get(key)
                if isinstance(value, str | int | float) and str(value).strip():
                    return str(value).strip()
        return ""

    return LeadFacts(
        channel=event.channel if event is not None else "",
        source=event.source if event is not None else "",
        message=event.message if event is not None else "",
        score=lead.score,
        intent=qualification.get("intent", ""),
        urgency=qualification.get("urgency", ""),
        budget=qualification.get("budget_amount"),
        postal_code=lead.postal_code,
        region=lead.region,
        country=lead.country,
        company=lead.company,
        email_domain=lead.email_domain,
        payload=payload,
        **{name: first(*keys) for name, keys in SKILL_KEYS.items()},
    )


def lead_locate(lead: Lead) -> list[str]:
    """Fill the lead's region, country and time zone from its postal code; returns the fields changed."""
    if not lead.postal_code or lead.region:
        return []
    place = geo.location_for(lead.postal_code, lead.country)
    changed = []
    for name in ("region", "country", "timezone"):
        value = getattr(place, name)
        if value and not getattr(lead, name):
            setattr(lead, name, value)
            changed.append(name)
    return changed


def account_owner_find(lead: Lead, config: RoutingConfig) -> int | None:
    """The rep who owns another lead from the same company or business email domain, most recent first."""
    keys = Q()
    domain = lead.email_domain
    if domain and domain not in FREE_EMAIL_DOMAINS:
        keys |= Q(email_domain=domain)
    if lead.company.strip():
        keys |= Q(company_key=lead.company.strip().upper()) & ~Q(company="")
    if not keys:
        return None
    owner_ids = (
        Lead.objects.alias(company_key=Upper("company"))
        .filter(keys, owner__isnull=False)
        .exclude(pk=lead.pk)
        .order_by("-created_at")
        .values_list("owner_id", flat=True)[:5]
    )
    return next((config.rep_by_user[u] for u in owner_ids if u in config.rep_by_user), None)


def _teams_involved(config: RoutingConfig, target: assign.RuleTarget | None, facts, owner_id: int | None) -> set[int]:
    directory = config.directory
    teams = {directory.fallback_team_id}
    if target is not None:
        teams |= {target.team_id, target.fallback_team_id}
        if target.rep_id in directory.reps:
            teams.add(directory.reps[target.rep_id].team_id)
        if target.by_territory:
            for kind, code in assign.territory_keys(facts):
                for t in directory.territory_owners(kind, code):
                    teams.add(t.team_id if t.team_id is not None else directory.reps[t.rep_id].team_id)
    if owner_id is not None:
        teams.add(directory.reps[owner_id].team_id)
    teams.discard(None)
    return teams


def routing_state_read(
    config: RoutingConfig, team_ids: set[int], target, *, lock: bool, with_loads: bool = False
) -> assign.RoutingState:
    """Rotation cursors, weighted credits and open-lead counts for the reps of ``team_ids``.

    With ``lock``, the team rows are locked first, in id order (so two workers needing the same
    teams queue rather than deadlock), and everything after is read under those locks.
    """
    teams = teams_lock(team_ids) if lock else Team.objects.filter(pk__in=team_ids).order_by("pk")
    state = assign.RoutingState(cursors=dict(teams.values_list("pk", "last_assigned_rep_id")))
    reps = [r for r in config.directory.reps.values() if r.team_id in team_ids]
    if target is not None and target.strategy == assign.WEIGHTED:
        state.credits = dict(Rep.objects.filter(team_id__in=team_ids).values_list("pk", "rotation_credit"))
    # Open leads are counted only where they decide something: every candidate under least-loaded,
    # otherwise just the reps with a capacity cap. The (owner, stage) index answers it alone.
    if not (with_loads or (target is not None and target.strategy == assign.LEAST_LOADED)):
        reps = [r for r in reps if r.capacity is not None]
    if reps:
        by_user = {r.user_id: r.id for r in reps}
        counts = (
            Lead.objects.filter(owner_id__in=by_user, stage__in=OPEN_STAGES)
            .values("owner_id")
            .annotate(n=Count("*"))
            .order_by()
        )
        state.loads = {by_user[row["owner_id"]]: row["n"] for row in counts}
    return state


@dataclass
class RouteDecision:
    match: engine.RuleMatch
    rule: RoutingRule | None
    pick: assign.Pick
    state: assign.RoutingState
    config: RoutingConfig
    credits_before: dict[int, int] = field(default_factory=dict)
    cursors_before: dict[int, int | None] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return f"{self.match.explanation} → {self.pick.reason}"


def route_decide(*, lead: Lead, facts: LeadFacts, lock: bool, exclude: frozenset[int] = frozenset()) -> RouteDecision:
    """Which rule matches the lead and which rep it would go to; with ``lock``, under the team row locks."""
    config = routing_config()
    match = engine.choose_rule(facts, config.specs, config.compiled)
    rule = config.rules.get(match.rule.id) if match.rule else None
    target = rule.target() if rule is not None else None
    owner_id = account_owner_find(lead, config) if target is not None and target.by_account_owner else None
    state = routing_state_read(config, _teams_involved(config, target, facts, owner_id), target, lock=lock)
    cursors, credits = dict(state.cursors), dict(state.credits)
    pick = assign.assign(
        facts, target, config.directory, state, timezone.now(), account_owner_id=owner_id, exclude=exclude
    )
    return RouteDecision(match, rule, pick, state, config, credits_before=credits, cursors_before=cursors)


def _state_write(decision: RouteDecision) -> None:
    for team_id, rep_id in decision.state.cursors.items():
        if decision.cursors_before.get(team_id, "unset") != rep_id:
            Team.objects.filter(pk=team_id).update(last_assigned_rep_id=rep_id)
    changed = [
        Rep(pk=rep_id, rotation_credit=credit)
        for rep_id, credit in decision.state.credits.items()
        if decision.credits_before.get(rep_id) != credit
    ]
    if changed:
        Rep.objects.bulk_update(changed, ["rotation_credit"])


def sla_clock_for(lead: Lead, *, rep_id: int, sla_minutes: int | None, now=None) -> availability.SlaClock | None:
    """The first-touch deadline of ``lead`` given to rep ``rep_id`` now, in their working time; None: no clock.

    No clock without an SLA, or when somebody already touched the lead. See routing.availability.sla_clock.
    """
    if not sla_minutes or lead.first_touch_at is not None:
        return None
    now = now or timezone.now()
    rep = routing_config().directory.reps.get(rep_id)
    if rep is None:
        return availability.SlaClock(now, now + timedelta(minutes=sla_minutes), "")
    return availability.sla_clock(rep, now, sla_minutes)


def _assignment_write(
    lead: Lead,
    *,
    rep_id: int,
    user_id: int,
    rep_name: str,
    clock: availability.SlaClock | None,
    kind: str,
    reason: str,
    rule=None,
    hop: int = 0,
    user=None,
    unsaved: Sequence[str] = (),
) -> Assignment:
    """Give ``lead`` to a rep: the Assignment (with its first-touch ``clock``, see :func:`sla_clock_for`), the owner.

    ``unsaved`` names fields of ``lead`` the caller changed and has not saved: they are saved with the
    owner, as one change in the lead's history.
    """
    due = clock.due_at if clock is not None else None
    if kind != Assignment.Kind.ROUTE:
        # Only the newest assignment's clock runs.
        Assignment.objects.filter(lead=lead, sla_due_at__isnull=False).update(sla_due_at=None)
    assignment = Assignment.objects.create(
        lead=lead, rep_id=rep_id, rule=rule, kind=kind, reason=reason, hop=hop, sla_due_at=due
    )
    lead.owner_id = user_id
    if user is not None:
        lead._history_user = user
    routed = f"{Assignment.Kind(kind).label} to {rep_name}"
    earlier = getattr(lead, "_change_reason", "") if unsaved else ""
    lead._change_reason = (f"{earlier}; {routed[0].lower()}{routed[1:]}" if earlier else routed)[:100]
    lead.save(update_fields=[*dict.fromkeys([*unsaved, "owner", "updated_at"])])
    if kind != Assignment.Kind.ROUTE:
        cadences_on_reassign(lead=lead, rep=rep_name)
    crm_event_emit(
        CrmEvent.LEAD_ASSIGNED,
        lead=lead,
        data=lambda: {"lead": lead_data(lead), "rep": rep_name, "kind": kind, "reason": reason},
    )
    return assignment


# No savepoint of its own: an error fails the caller's whole transaction, which is what every caller wants.
@transaction.atomic(savepoint=False)
def lead_route(
    *,
    lead: Lead,
    facts: LeadFacts,
    kind: str = Assignment.Kind.ROUTE,
    hop: int = 0,
    exclude: frozenset[int] = frozenset(),
    unsaved: Sequence[str] = (),
    why: str = "",
) -> Assignment | None:
    """Match the lead against the active rules and give it to a rep, with the reason in words.

    ``why``: what sent the lead to the rules again (e.g. "owner deactivated"), first in the reason.
    ``unsaved``: fields of ``lead`` the caller changed and has not saved; they are saved here, with
    the new owner when someone takes the lead (one history row), alone when nobody does.

    Team rows are locked while rotation state moves and capacity is counted, so concurrent
    workers never give two leads the same turn or overfill a rep. A broken rule is skipped (a
    Decision says so) and the lead goes on to the next rule or the fallback team. Returns None,
    with an escalated Decision, when nobody can take it: the lead stays visible, unassigned.
    """
    with Stopwatch() as timer:
        decision = route_decide(lead=lead, facts=facts, lock=True, exclude=exclude)
        _state_write(decision)
    for skipped in decision.match.skipped:
        decision_record(step=Decision.Step.ROUTE, lead=lead, reasoning=skipped, outcome=Decision.Outcome.SKIPPED)
    rule, rep = decision.rule, decision.pick.rep
    reason = f"{why} → {decision.reason}" if why else decision.reason
    output = {"rule": rule.pk if rule else None, "rules_tried": decision.match.tried, "kind": kind, "hop": hop}
    if why:
        output["why"] = why
    if rep is None:
        decision_record(
            step=Decision.Step.ROUTE,
            lead=lead,
            reasoning=reason,
            output={**output, "rep": None},
            duration_ms=timer.ms,
            outcome=Decision.Outcome.ESCALATED,
        )
        logger.warning("lead.unrouted", extra={"lead_id": lead.pk, "reason": reason})
        if unsaved:
            lead.save(update_fields=list(unsaved))
        return None
    sla = decision.config.sla.get(rep.team_id)
    clock = sla_clock_for(lead, rep_id=rep.id, sla_minutes=sla.minutes if sla else None)
    assignment = _assignment_write(
        lead,
        rep_id=rep.id,
        user_id=rep.user_id,
        rep_name=rep.name,
        clock=clock,
        kind=kind,
        reason=reason,
        rule=rule,
        hop=hop,
        unsaved=unsaved,
    )
    decision_record(
        step=Decision.Step.ROUTE,
        lead=lead,
        reasoning=f"{reason}; {clock.note}" if clock and clock.note else reason,
        output={
            **output,
            "rep": rep.id,
            "user": rep.user_id,
            "sla_starts_at": clock and clock.starts_at.isoformat(),
            "sla_due_at": assignment.sla_due_at and assignment.sla_due_at.isoformat(),
        },
        duration_ms=timer.ms,
    )
    logger.info("lead.routed", extra={"lead_id": lead.pk, "rule_id": output["rule"], "rep_id": rep.id})
    return assignment


def noise_stage(intent: str) -> str | None:
    """The stage a noise intent puts a lead in (spam, or unqualified for job seekers, vendors, opt-outs); else None."""
    if intent == "spam":
        return Stage.SPAM
    return Stage.UNQUALIFIED if intent in NOISE_INTENTS else None


@transaction.atomic
def lead_relabel(*, lead_id: int, intent: str, user) -> Lead:
    """A person corrects a lead's intent; the lead's message becomes a labeled example the classifier learns from.

    Marking a lead as noise (spam, job seeker, vendor, opt-out) takes it out of the sales
    pipeline; taking it out of noise puts it back as new, for its rep to look at.
    """
    if intent not in INTENTS:
        raise ValidationError({"intent": f"Choose one of: {', '.join(INTENTS)}."})
    lead = lead_lock(lead_id)
    before = (lead.qualification or {}).get("intent", "")
    lead.qualification = {**(lead.qualification or {}), "intent": intent, "relabelled_by": user.get_username()}
    changed = ["qualification", "stage"]
    back_from_noise = Stage.NEW if lead.stage in (Stage.SPAM, Stage.UNQUALIFIED) else lead.stage
    stage_before = lead.stage
    lead.stage = noise_stage(intent) or back_from_noise
    lead._history_user = user
    lead._change_reason = f"re-labelled {intent}"
    lead.save(update_fields=[*changed, "updated_at"])
    text = lead.events.exclude(message="").order_by("received_at", "id").values_list("message", flat=True).first()
    if text:
        IntentExample.objects.update_or_create(
            intent=intent,
            text=text[:2000],
            defaults={"source": IntentExample.Source.CORRECTION, "lead": lead, "created_by": user},
        )
    if intent == "opt_out" and not (lead.opted_out and lead.email_opted_out):
        # A person read it as an opt-out: the one road, every channel.
        consent_opt_out(
            channel="all",
            how=ConsentRecord.How.PERSON,
            lead=lead,
            evidence=Evidence(words=text or "re-labelled as an opt-out", actor=user),
        )
    lead_stage_changed(lead, before=stage_before, by=str(user))
    decision_record(
        step=Decision.Step.RELABEL,
        lead=lead,
        actor=user,
        input_summary=text or "",
        output={"intent": intent, "before": before, "example": bool(text)},
        reasoning=f"{user} re-labelled the lead from {before or 'unlabelled'} to {intent}"
        + ("; its message is now a labeled example." if text else "."),
    )
    return lead


@transaction.atomic
def lead_reassign(*, lead_id: int, rep_id: int, user) -> Assignment:
    """A manager gives the lead to another rep; the new rep's SLA clock starts if nobody has touched it yet."""
    if not is_manager(user):
        raise ValidationError({"rep": "Only managers can reassign leads."})
    lead = lead_lock(lead_id)
    rep = Rep.objects.assignable().select_related("user", "team").filter(pk=rep_id).first()
    if rep is None:
        raise ValidationError({"rep": "Choose an active rep (one who can log in)."})
    if lead.owner_id == rep.user_id:
        raise ValidationError({"rep": f"{rep} already owns this lead."})
    before = lead.owner
    reason = f"{user} reassigned the lead from {before.get_full_name() if before else 'nobody'} to {rep}"
    clock = sla_clock_for(lead, rep_id=rep.pk, sla_minutes=rep.team.sla_minutes)
    assignment = _assignment_write(
        lead,
        rep_id=rep.pk,
        user_id=rep.user_id,
        rep_name=str(rep),
        clock=clock,
        kind=Assignment.Kind.MANUAL,
        reason=reason,
        user=user,
    )
    decision_record(
        step=Decision.Step.REASSIGN,
        lead=lead,
        actor=user,
        output={"rep": rep.pk, "user": rep.user_id, "before": before.pk if before else None},
        reasoning=reason + (f"; {clock.note}." if clock and clock.note else "."),
    )
    return assignment
