"""First-touch SLA: a person's first touch (leads.services.lead_touch) stops the clock; the sweep handles breaches.

The clock counts the assignee's working time (routing.availability.sla_clock: shifts, absences, holidays),
so a lead captured while nobody works is not breached before anybody could touch it.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from audit.models import Decision
from audit.services import decision_record
from integrations.outbound import slack_alert
from leads.lock_objects import lead_lock_or_skip
from leads.permissions import MANAGER_GROUP
from routing import availability
from routing.directory import lead_takers, routing_config
from routing.lock_objects import assignment_lock
from routing.models import Assignment, Team
from routing.services import lead_facts, lead_route

logger = logging.getLogger(__name__)


def sla_on_first_touch(*, lead, how: str, actor=None, at) -> None:
    """Receiver of leads.reactions.LEAD_FIRST_TOUCH: the SLA clock stops; the touch is logged against the SLA.

    ``at`` is when the lead was first touched (UTC); the minutes counted are from the current assignment, and the
    SLA is judged on the assignee's working minutes in between (as the deadline was set).
    """
    current = Assignment.objects.filter(lead=lead).select_related("rep__team").first()
    Assignment.objects.filter(lead=lead, sla_due_at__isnull=False).update(sla_due_at=None)
    minutes = (at - current.created_at).total_seconds() / 60 if current else None
    within = ""
    if current and current.rep.team.sla_minutes:
        rep = routing_config().directory.reps.get(current.rep_id)
        worked = availability.working_minutes(rep, current.created_at, at) if rep is not None else minutes
        met = worked <= current.rep.team.sla_minutes
        counted = f"{worked:.1f} working min, " if abs(worked - minutes) >= 0.05 else ""
        within = f" ({counted}{'within' if met else 'outside'} the {current.rep.team.sla_minutes}-minute SLA)"
    who = actor.get_username() if actor is not None else "the system"
    decision_record(
        step=Decision.Step.TOUCH,
        lead=lead,
        actor=actor,
        reasoning=f"First touch: {how} by {who}"
        + (f", {minutes:.1f} min after assignment" if current else "")
        + within,
        output={"how": how, "minutes_after_assignment": round(minutes, 2) if minutes is not None else None},
    )


@dataclass
class SweepResult:
    breached: int = 0
    reassigned: int = 0
    alerted: int = 0


def _managers_alert(lead, subject: str, body: str) -> list[str]:
    """Email every manager with an address, once the breach is committed; returns who was told."""
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=MANAGER_GROUP, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if recipients:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)
        )
    return recipients


def _breach_handle(assignment_id: int, now, result: SweepResult) -> None:
    with transaction.atomic():
        lead_id = Assignment.objects.values_list("lead_id", flat=True).filter(pk=assignment_id).first()
        # The pipeline holds the lead's row while it works on it: leave that lead to the next sweep.
        lead = lead_lock_or_skip(lead_id)
        if lead is None:
            return
        assignment = assignment_lock(assignment_id)
        if assignment.sla_due_at is None or assignment.sla_due_at > now or lead.first_touch_at is not None:
            return
        team = Team.objects.get(pk=assignment.rep.team_id)
        assignment.sla_due_at = None
        assignment.breached_at = now
        assignment.save(update_fields=["sla_due_at", "breached_at"])
        result.breached += 1
        may_hop = assignment.hop < team.sla_max_hops
        reassign = team.sla_action in (Team.SlaAction.REASSIGN, Team.SlaAction.BOTH) and may_hop
        breach = f"SLA breached: {assignment.rep} did not touch the lead within {team.sla_minutes} min"
        steps = [breach]
        if not may_hop:
            steps.append(f"{assignment.hop} reassignments already (team max {team.sla_max_hops})")
        new = None
        if reassign:
            tried = frozenset(Assignment.objects.filter(lead=lead).values_list("rep_id", flat=True))
            event = lead.events.order_by("-received_at", "-id").first()
            facts = lead_facts(lead, lead.qualification or {}, event)
            new = lead_route(lead=lead, facts=facts, kind=Assignment.Kind.SLA, hop=assignment.hop + 1, exclude=tried)
            steps.append(f"reassigned to {new.rep}" if new else "nobody else can take it")
            result.reassigned += bool(new)
        alert = team.sla_action in (Team.SlaAction.ALERT, Team.SlaAction.BOTH) or new is None
        # Slack names who can take it itself (integrations.outbound.slack_alert): its text leaves this out.
        slack_steps = list(steps)
        if new is None:
            found = lead_takers(lead, now=now)
            steps.append(
                f"can take it now: {found.names} ({found.reason})"
                if found.reps
                else f"nobody can take it now: {found.reason}"
            )
        if alert:
            told = _managers_alert(
                lead,
                f"SLA breach: {lead}",
                "\n".join([*steps, "", f"Lead: {settings.PUBLIC_BASE_URL}/portal/leads/{lead.pk}/"]),
            )
            told_step = f"managers alerted ({', '.join(told)})" if told else "no manager has an email address"
            steps.append(told_step)
            slack_steps.append(told_step)
            result.alerted += 1
        decision_record(
            step=Decision.Step.SLA,
            lead=lead,
            reasoning="; ".join(steps),
            output={
                "assignment": assignment.pk,
                "hop": assignment.hop,
                "reassigned_to": new.rep_id if new else None,
                "alerted": alert,
            },
            outcome=Decision.Outcome.ESCALATED,
        )
        slack_alert(lead=lead, event="sla_breach", text=":alarm_clock: " + "; ".join(slack_steps))
    logger.warning("lead.sla_breached", extra={"lead_id": lead.pk, "assignment_id": assignment_id})


def sla_sweep(*, now=None, limit: int = 500) -> SweepResult:
    """Handle every assignment whose first-touch deadline has passed (oldest first, at most ``limit``)."""
    now = now or timezone.now()
    result = SweepResult()
    due = Assignment.objects.filter(sla_due_at__lte=now).order_by("sla_due_at").values_list("pk", flat=True)
    for assignment_id in list(due[:limit]):
        _breach_handle(assignment_id, now, result)
    return result
