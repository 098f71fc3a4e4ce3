"""The scheduler: every due step is picked under its enrollment's row lock and proposed through the one road.

A due step is picked with ``skip_locked`` (several workers share a pass), checked again against everything
that may have changed since it was scheduled (stop conditions, the cadence's steps, the appointment's time,
quiet hours), then proposed with ``approvals.services.action_propose``.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from approvals.drafting import DraftContent
from approvals.models import Action
from approvals.services import action_propose
from approvals.sms import sms_text
from approvals.templating import render_text
from audit.models import Decision
from config.queue import enqueue
from leads.choices import Stage
from leads.models import InboundEvent
from leads.selectors import sms_opt_outs
from routing.cadences.book import (
    PROGRESS_FIELDS,
    Rules,
    cadence_note,
    lead_tz,
    step_advance,
    step_due,
    step_run_record,
    step_schedule,
    step_slot,
)
from routing.cadences.enrollment import enrollment_end_noted
from routing.directory import owner_first_name
from routing.lock_objects import enrollments_due_lock
from routing.models import Cadence, CadenceStep, Enrollment, StepRun

logger = logging.getLogger(__name__)

PASS_TASK = "routing.tasks.cadence_pass"


@dataclass
class PassResult:
    proposed: int = 0
    skipped: int = 0
    moved: int = 0
    stopped: int = 0
    completed: int = 0
    failed: int = 0
    retrying: int = 0
    batches: int = 0
    action_ids: list[int] = field(default_factory=list)

    def total(self) -> int:
        return self.proposed + self.skipped + self.moved + self.stopped + self.failed + self.retrying

    def summary(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "action_ids"}


def _replies(lead, since) -> QuerySet:
    """What the lead sent after ``since`` (values or, in a subquery, OuterRefs)."""
    return InboundEvent.objects.filter(lead=lead, received_at__gt=since)


def _replied(enrollment: Enrollment) -> bool:
    """The lead wrote or called since the enrollment started (read with the batch when the scheduler runs)."""
    if not hasattr(enrollment, "replied"):
        enrollment.replied = _replies(enrollment.lead_id, enrollment.started_at).exists()
    return enrollment.replied


def _sms_stopped(enrollment: Enrollment) -> bool:
    if not hasattr(enrollment, "sms_stopped"):
        enrollment.sms_stopped = sms_opt_outs(enrollment.lead.phone).exists()
    return enrollment.sms_stopped


def _stop_now(enrollment: Enrollment, cadence: Cadence) -> tuple[str, str] | None:
    """A stop the events should already have made, checked again: the event may have raced with this pass."""
    lead = enrollment.lead
    if lead.opted_out:
        return Enrollment.StopKind.OPT_OUT, "The lead opted out."
    if lead.stage in cadence.stop_stage_list:
        return Enrollment.StopKind.STAGE, f"The lead is {Stage(lead.stage).label}."
    if cadence.stop_on_reply and _replied(enrollment):
        return Enrollment.StopKind.REPLY, "The lead replied."
    return None


def _variables(enrollment: Enrollment, cadence: Cadence) -> dict:
    lead = enrollment.lead
    variables = {
        # Empty when unknown: the template says what stands in (approvals.templating).
        "first_name": lead.first_name,
        "rep_name": owner_first_name(lead.owner_id),
        "business_name": settings.BUSINESS_NAME,
        "link": cadence.link,
    }
    if enrollment.appointment_id:
        appointment = enrollment.appointment
        variables["appointment_time"] = f"{appointment.starts_at.astimezone(lead_tz(lead)):%A %B %-d at %-I:%M %p}"
        variables["appointment_location"] = appointment.location
    return variables


def _content(enrollment: Enrollment, cadence: Cadence, step: CadenceStep) -> DraftContent | str:
    """The step's action, or why it cannot reach anyone (a skip reason)."""
    lead = enrollment.lead
    variables = _variables(enrollment, cadence)
    if step.channel == CadenceStep.Channel.SMS:
        if not lead.phone or _sms_stopped(enrollment):
            return "the lead has no phone number we may text"
        template = step.template
        body = sms_text(template.render(**variables), lead=lead, rep_name=variables["rep_name"])
        return DraftContent(kind=Action.Kind.SEND_SMS, to=lead.phone, body=body, template_id=template.pk)
    if step.channel == CadenceStep.Channel.EMAIL:
        if not lead.email:
            return "the lead has no email address"
        template = step.template
        return DraftContent(
            kind=Action.Kind.SEND_EMAIL,
            to=lead.email,
            body=template.render(**variables),
            subject=template.render_subject(**variables) or f"From {settings.BUSINESS_NAME}",
            template_id=template.pk,
        )
    text = render_text(step.note, variables)
    if step.channel == CadenceStep.Channel.CALL:
        owner = lead.owner
        if owner is None or not owner.email:
            return "the lead has no rep with an email address to give the call task to"
        return DraftContent(kind=Action.Kind.CALL_TASK, to=owner.email, body=text, subject=f"Call {lead}")
    return DraftContent(kind=Action.Kind.SLACK_NUDGE, to="slack", body=text)


def _step_run(enrollment: Enrollment, rules: Rules, now: datetime, result: PassResult) -> None:
    """Run the enrollment's due step (the row is locked): propose it, skip it, or move it to when it may go."""
    cadence, steps = rules.cadence(enrollment.cadence_id)
    lead = enrollment.lead
    stop = (Enrollment.StopKind.INVALID, "The cadence has no steps.") if not steps else _stop_now(enrollment, cadence)
    if stop is not None:
        enrollment_end_noted(enrollment, cadence, kind=stop[0], reason=stop[1], now=now)
        result.stopped += 1
        return
    if enrollment.position >= len(steps):
        step_schedule(enrollment, cadence, steps, rules, now)
        enrollment.save()
        result.completed += 1
        return
    step = steps[enrollment.position]
    due = step_due(enrollment, cadence, step, rules)
    slot = step_slot(max(due, now), lead, step, rules)
    if slot > now + timedelta(minutes=1):
        # Later than planned: the cadence was edited, the appointment moved, or quiet hours changed.
        enrollment.next_run_at = slot
        enrollment.save(update_fields=["next_run_at", "updated_at"])
        result.moved += 1
        return
    skip = ""
    if enrollment.appointment_id and now >= enrollment.appointment.starts_at:
        skip = "the appointment has already begun"
    elif step.only_if_stage and lead.stage != step.only_if_stage:
        skip = f"the lead is no longer {Stage(step.only_if_stage).label}"
    elif step.only_if_no_reply and _replied(enrollment):
        skip = "the lead has replied"
    content = skip or _content(enrollment, cadence, step)
    if isinstance(content, str):
        step_run_record(enrollment, steps, StepRun.Status.SKIPPED, reason=content)
        cadence_note(
            cadence,
            lead,
            output={"enrollment": enrollment.pk, "position": enrollment.position},
            reasoning=f"'{cadence}' step {enrollment.position + 1} skipped: {content}.",
            outcome=Decision.Outcome.SKIPPED,
        )
        result.skipped += 1
    else:
        action = action_propose(
            lead=lead,
            workflow=cadence.workflow,
            content=content,
            confidence=None,
            reasoning=f"Cadence '{cadence}', step {enrollment.position + 1} of {len(steps)} "
            f"({step.when}, {step.get_channel_display().lower()}).",
            policy=rules.policy(cadence.workflow),
        )
        step_run_record(enrollment, steps, StepRun.Status.PROPOSED, action=action)
        result.proposed += 1
        result.action_ids.append(action.pk)
    step_advance(enrollment, cadence, steps, rules, now)
    enrollment.save(update_fields=PROGRESS_FIELDS)
    result.completed += enrollment.status == Enrollment.Status.COMPLETED


def _step_failed(enrollment: Enrollment, error: str, rules: Rules, now: datetime, result: PassResult) -> None:
    """A step raised: try again later, backing off; after the last try it is marked failed and the next step follows."""
    enrollment.refresh_from_db()
    enrollment.attempts += 1
    enrollment.last_error = error[:2000]
    cadence, steps = rules.cadence(enrollment.cadence_id)
    if enrollment.attempts < settings.CADENCE_MAX_ATTEMPTS:
        enrollment.next_run_at = now + timedelta(
            minutes=settings.CADENCE_RETRY_MINUTES * 2 ** (enrollment.attempts - 1)
        )
        enrollment.save(update_fields=["attempts", "last_error", "next_run_at", "updated_at"])
        result.retrying += 1
        logger.warning("cadence.step_retry", extra={"enrollment_id": enrollment.pk, "error": error})
        return
    step_run_record(enrollment, steps, StepRun.Status.FAILED, reason=error)
    cadence_note(
        cadence,
        enrollment.lead,
        output={"enrollment": enrollment.pk, "position": enrollment.position, "attempts": enrollment.attempts},
        reasoning=f"'{cadence}' step {enrollment.position + 1} failed {enrollment.attempts} times: {error}",
        outcome=Decision.Outcome.FAILED,
    )
    step_advance(enrollment, cadence, steps, rules, now)
    enrollment.save()
    result.failed += 1
    logger.error("cadence.step_failed", extra={"enrollment_id": enrollment.pk, "error": error})


def _batch(rules: Rules, now: datetime, result: PassResult, limit: int) -> int:
    with transaction.atomic():
        # Rows another worker holds are skipped, not waited for: each due step is taken by one worker.
        # What every step checks is read with the batch: one query, not two per step.
        enrollments = list(
            enrollments_due_lock(now)
            .select_related("lead__owner", "appointment")
            .annotate(
                replied=Exists(_replies(OuterRef("lead_id"), OuterRef("started_at"))),
                sms_stopped=Exists(sms_opt_outs(OuterRef("lead__phone"))),
            )
            .order_by("next_run_at")[:limit]
        )
        for enrollment in enrollments:
            try:
                with transaction.atomic():
                    _step_run(enrollment, rules, now, result)
            except Exception as exc:  # noqa: BLE001 - one broken step must not hold up the others in the pass
                _step_failed(enrollment, f"{exc.__class__.__name__}: {exc}", rules, now, result)
    result.batches += 1
    return len(enrollments)


def cadence_pass(*, now: datetime | None = None, batch: int | None = None, max_seconds: float = 50.0) -> PassResult:
    """Run every step due at ``now`` (oldest first) in batches, until none is left or time is up.

    Safe to run in several workers at once: each batch locks its rows with ``skip_locked``.
    """
    now = now or timezone.now()
    batch = batch or settings.CADENCE_BATCH
    rules, result = Rules(), PassResult()
    deadline = timezone.now() + timedelta(seconds=max_seconds)
    while timezone.now() < deadline and _batch(rules, now, result, batch) == batch:
        pass
    if result.total():
        logger.info("cadence.pass", extra=result.summary())
    return result


def cadence_sweep() -> dict:
    """The scheduled entry: when more than a batch is due, other workers are asked to share the pass."""
    now = timezone.now()
    due = Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, next_run_at__lte=now)
    helpers = min(settings.CADENCE_PARALLEL - 1, due[: settings.CADENCE_BATCH * 4].count() // settings.CADENCE_BATCH)
    for _ in range(max(helpers, 0)):
        enqueue(PASS_TASK)
    return cadence_pass(now=now).summary()
