"""An enrollment's life: a lead enrolled in a cadence, then paused, resumed, skipped or stopped.

Stopping takes the enrollment's row lock and cancels what it proposed that is still waiting to go: a due
step of a stopped enrollment is never sent.
"""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals.services import actions_cancel_waiting
from audit.models import Decision
from config.exceptions import ConflictError
from leads.models import Appointment, Lead
from leads.permissions import is_manager
from routing.cadences.book import (
    BOOK,
    Rules,
    cadence_note,
    iso,
    local_text,
    position_first_ahead,
    step_advance,
    step_run_record,
    step_schedule,
)
from routing.exceptions import EnrollmentNotFound
from routing.lock_objects import enrollment_lock, enrollments_running_lock
from routing.models import Cadence, CadenceStep, Enrollment, StepRun
from routing.models.cadences import WAITING

logger = logging.getLogger(__name__)


def _cadence_check(cadence: Cadence, steps: list[CadenceStep]) -> None:
    if not cadence.active:
        raise ValidationError({"cadence": f"'{cadence}' is switched off."})
    if not steps:
        raise ValidationError({"cadence": f"'{cadence}' has no steps yet."})


def enrollment_create(
    *,
    cadence: Cadence,
    lead: Lead,
    trigger: str,
    user=None,
    appointment: Appointment | None = None,
    started_at: datetime | None = None,
    rules: Rules | None = None,
) -> Enrollment:
    """Enroll ``lead`` in ``cadence`` and schedule its first step; validates.

    Raises ValidationError when the cadence is off or empty or the lead opted out, and
    ConflictError when the lead is already going through it (one running enrollment each).
    """
    rules = rules or Rules()
    cadence, steps = rules.cadence(cadence.pk)
    _cadence_check(cadence, steps)
    if lead.opted_out:
        raise ValidationError({"lead": "The lead opted out; no cadence may write to them."})
    if cadence.trigger == Cadence.Trigger.APPOINTMENT and appointment is None:
        raise ValidationError({"cadence": f"'{cadence}' sends appointment reminders; book an appointment instead."})
    now = timezone.now()
    enrollment = Enrollment(
        cadence=cadence,
        lead=lead,
        appointment=appointment,
        started_at=started_at or now,
        trigger=trigger[:200],
        enrolled_by=user if user is not None and not getattr(user, "is_api_key", False) else None,
    )
    position_first_ahead(enrollment, cadence, steps, rules, now)
    step_schedule(enrollment, cadence, steps, rules, now)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:
        raise ConflictError(f"{lead} is already in '{cadence}'.") from None
    cadence_note(
        cadence,
        lead,
        actor=enrollment.enrolled_by,
        output={"enrollment": enrollment.pk, "cadence": cadence.pk, "next_run_at": iso(enrollment.next_run_at)},
        reasoning=f"Enrolled in '{cadence}' ({trigger}); "
        + (f"first step {local_text(enrollment.next_run_at, lead)}." if enrollment.next_run_at else "no step ahead."),
    )
    return enrollment


def enroll_quietly(cadence: Cadence, lead: Lead, trigger: str, rules: Rules, **kwargs) -> Enrollment | None:
    """An automatic trigger: enroll unless already enrolled or not allowed, which is logged, not raised."""
    try:
        return enrollment_create(cadence=cadence, lead=lead, trigger=trigger, rules=rules, **kwargs)
    except (ValidationError, ConflictError) as exc:
        logger.info("cadence.not_enrolled", extra={"lead_id": lead.pk, "cadence_id": cadence.pk, "why": str(exc)})
        return None


def enrollment_withdraw(enrollment: Enrollment, reason: str) -> int:
    """Cancel what the enrollment proposed that has not gone yet: a stopped step is never sent."""
    ids = list(StepRun.objects.filter(enrollment=enrollment, action__isnull=False).values_list("action_id", flat=True))
    return actions_cancel_waiting(lead=enrollment.lead, reason=reason, action_ids=ids) if ids else 0


def enrollment_end(enrollment: Enrollment, *, kind: str, reason: str, user=None, now: datetime | None = None) -> int:
    enrollment.status = Enrollment.Status.STOPPED
    enrollment.stop_kind, enrollment.stop_reason = kind, reason[:300]
    enrollment.stopped_by = user
    enrollment.next_run_at = None
    enrollment.ended_at = now or timezone.now()
    enrollment.save()
    return enrollment_withdraw(enrollment, reason)


def enrollment_end_noted(
    enrollment: Enrollment, cadence: Cadence, *, kind: str, reason: str, user=None, now=None
) -> None:
    """End the enrollment, cancel what it still has waiting, and say so on the lead's timeline."""
    cancelled = enrollment_end(enrollment, kind=kind, reason=reason, user=user, now=now)
    cadence_note(
        cadence,
        enrollment.lead,
        actor=user,
        output={"enrollment": enrollment.pk, "stop": kind, "cancelled": cancelled},
        reasoning=f"'{cadence}' stopped: {reason}"
        + (f" {cancelled} waiting action(s) cancelled." if cancelled else ""),
        outcome=Decision.Outcome.FAILED if kind == Enrollment.StopKind.INVALID else Decision.Outcome.SKIPPED,
    )


def lead_cadences_stop(
    *, lead: Lead, kind: str, reason: str, user=None, where=None, appointment: Appointment | None = None
) -> list[Enrollment]:
    """Stop the lead's running enrollments that ``where(cadence)`` accepts, now; what they had waiting is cancelled."""
    if where is not None and not any(where(cadence) for cadence, _ in BOOK.get().cadences.values()):
        return []  # no cadence (the book holds them all, active or not) stops on this: nothing to look up
    filters = {"lead": lead} if appointment is None else {"appointment": appointment}
    stopped = []
    for enrollment in enrollments_running_lock(**filters):
        enrollment.lead = lead
        if where is None or where(enrollment.cadence):
            enrollment_end_noted(enrollment, enrollment.cadence, kind=kind, reason=reason, user=user)
            stopped.append(enrollment)
    return stopped


def _may_change(lead: Lead, user) -> bool:
    return getattr(user, "is_api_key", False) or is_manager(user) or lead.owner_id == user.pk


def _lock_for(enrollment_id: int, user) -> Enrollment:
    enrollment = enrollment_lock(enrollment_id)
    if enrollment is not None:
        lead = Lead.objects.get(pk=enrollment.lead_id)
        if _may_change(lead, user):
            enrollment.lead = lead
            return enrollment
    raise EnrollmentNotFound("Enrollment not found.")


@transaction.atomic
def enrollment_start(*, lead_id: int, cadence_id: int, user) -> Enrollment:
    """A person (portal) or an integration (API) enrolls a lead in a cadence; validates both ids.

    Any active cadence may be started by hand, whatever its trigger, except appointment
    reminders (they follow a booking).
    """
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None or not _may_change(lead, user):
        raise ValidationError({"lead": f"No lead {lead_id} you may enroll."})
    cadence = Cadence.objects.filter(pk=cadence_id).first()
    if cadence is None:
        raise ValidationError({"cadence": f"No cadence {cadence_id}."})
    how = "through the API" if getattr(user, "is_api_key", False) else f"by {user}"
    return enrollment_create(cadence=cadence, lead=lead, trigger=f"enrolled {how}", user=user)


def _require_running(enrollment: Enrollment, *statuses: str) -> None:
    if enrollment.status not in statuses:
        raise ConflictError(
            f"This enrollment is {enrollment.get_status_display().lower()}.", extra={"status": enrollment.status}
        )


def _person(user):
    return None if getattr(user, "is_api_key", False) else user


def _record_person(enrollment: Enrollment, user, words: str, outcome=Decision.Outcome.OK) -> None:
    cadence = enrollment.cadence
    cadence_note(
        cadence,
        enrollment.lead,
        actor=_person(user),
        output={"enrollment": enrollment.pk, "status": enrollment.status, "next_run_at": iso(enrollment.next_run_at)},
        reasoning=f"{user} {words} '{cadence}'.",
        outcome=outcome,
    )


@transaction.atomic
def enrollment_pause(*, enrollment_id: int, user) -> Enrollment:
    """Hold an enrollment: no step goes until a person resumes it."""
    enrollment = _lock_for(enrollment_id, user)
    _require_running(enrollment, Enrollment.Status.ACTIVE)
    enrollment.status, enrollment.next_run_at = Enrollment.Status.PAUSED, None
    enrollment.save(update_fields=["status", "next_run_at", "updated_at"])
    _record_person(enrollment, user, "paused")
    return enrollment


@transaction.atomic
def enrollment_resume(*, enrollment_id: int, user) -> Enrollment:
    """Resume a paused enrollment: its current step is due when it would have been, or now if that has passed."""
    enrollment = _lock_for(enrollment_id, user)
    _require_running(enrollment, Enrollment.Status.PAUSED)
    rules = Rules()
    cadence, steps = rules.cadence(enrollment.cadence_id)
    enrollment.status = Enrollment.Status.ACTIVE
    step_schedule(enrollment, cadence, steps, rules, timezone.now())
    enrollment.save()
    _record_person(enrollment, user, "resumed")
    return enrollment


@transaction.atomic
def enrollment_skip(*, enrollment_id: int, user) -> Enrollment:
    """Skip the enrollment's next step (recorded as skipped by the person) and schedule the one after."""
    enrollment = _lock_for(enrollment_id, user)
    _require_running(enrollment, *WAITING)
    rules = Rules()
    cadence, steps = rules.cadence(enrollment.cadence_id)
    now = timezone.now()
    if enrollment.position < len(steps):
        step_run_record(enrollment, steps, StepRun.Status.SKIPPED, reason=f"skipped by {user}")
    step_advance(enrollment, cadence, steps, rules, now)
    enrollment.save()
    _record_person(enrollment, user, f"skipped step {enrollment.position} of", outcome=Decision.Outcome.SKIPPED)
    return enrollment


@transaction.atomic
def enrollment_stop(*, enrollment_id: int, user, reason: str = "") -> Enrollment:
    """A person (or an integration) stops an enrollment; what it proposed and is still waiting is cancelled."""
    enrollment = _lock_for(enrollment_id, user)
    _require_running(enrollment, *WAITING)
    reason = (reason or "").strip()[:200]
    cancelled = enrollment_end(
        enrollment, kind=Enrollment.StopKind.PERSON, reason=reason or f"Stopped by {user}.", user=_person(user)
    )
    _record_person(
        enrollment,
        user,
        "stopped"
        + (f" ({reason}; {cancelled} waiting action(s) cancelled)" if cancelled else f" ({reason})" if reason else ""),
        outcome=Decision.Outcome.SKIPPED,
    )
    return enrollment
