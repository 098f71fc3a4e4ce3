"""Routing writes: give a lead to a rep, with the reason in words."""

import logging

from django.db import transaction

from audit.models import Decision
from audit.services import Stopwatch, decision_record
from leads.models import Lead
from routing import engine
from routing.models import Assignment, Rep, Team
from routing.selectors import rule_list_active

logger = logging.getLogger(__name__)


def lead_facts(lead: Lead, qualification: dict, *, channel: str = "", source: str = "") -> engine.LeadFacts:
    """The facts rules are matched against, gathered from the lead and its qualification."""
    return engine.LeadFacts(
        channel=channel,
        source=source,
        score=lead.score,
        intent=qualification.get("intent", ""),
        budget=qualification.get("budget_amount"),
        postal_code=lead.postal_code,
        country=lead.country,
        company=lead.company,
        email_domain=lead.email.rpartition("@")[2] if lead.email else "",
    )


def _next_rep_round_robin(team: Team) -> Rep | None:
    """Next active rep after the team's cursor; the caller holds the team's row lock."""
    reps = list(team.reps.filter(active=True).select_related("user").order_by("id"))
    if not reps:
        return None
    after = team.last_assigned_rep_id
    return next((r for r in reps if after is not None and r.id > after), reps[0])


@transaction.atomic
def lead_route(*, lead: Lead, facts: engine.LeadFacts) -> Assignment | None:
    """Match the lead against the active rules and assign it to a rep of the matching team.

    The team row is locked while its round-robin cursor moves, so concurrent workers never give
    two leads the same turn. Returns None (and records an escalated Decision) when no rule
    matches or the team has no active rep: the lead stays visible, unassigned.
    """
    with Stopwatch() as timer:
        rules = rule_list_active()
        specs = [engine.RuleSpec(id=r.id, name=r.name, conditions=r.conditions) for r in rules]
        match = engine.choose_rule(facts, specs)
        rule = next((r for r in rules if match.rule and r.id == match.rule.id), None)
        rep = None
        if rule is not None:
            team = Team.objects.select_for_update().get(pk=rule.team_id)
            rep = _next_rep_round_robin(team)
            if rep is not None:
                team.last_assigned_rep = rep
                team.save(update_fields=["last_assigned_rep", "updated_at"])
    if rep is None:
        reason = match.explanation + (f" → team '{rule.team}' has no active rep" if rule else "")
        decision_record(
            step=Decision.Step.ROUTE,
            lead=lead,
            reasoning=reason,
            output={"rule": rule.id if rule else None, "rep": None},
            duration_ms=timer.ms,
            outcome=Decision.Outcome.ESCALATED,
        )
        logger.warning("lead.unrouted", extra={"lead_id": lead.pk, "reason": reason})
        return None
    reason = f"{match.explanation} → team '{rule.team}' → round-robin: {rep}"
    assignment = Assignment.objects.create(lead=lead, rep=rep, rule=rule, reason=reason)
    lead.owner = rep.user
    lead._change_reason = reason
    lead.save(update_fields=["owner", "updated_at"])
    decision_record(
        step=Decision.Step.ROUTE,
        lead=lead,
        reasoning=reason,
        output={"rule": rule.id, "rep": rep.id, "user": rep.user_id},
        duration_ms=timer.ms,
    )
    logger.info("lead.routed", extra={"lead_id": lead.pk, "rule_id": rule.id, "rep_id": rep.id})
    return assignment
