"""Appointments with a lead: booked, moved and cancelled on the lead's clock; each sends the guests an invite."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Decision
from audit.services import decision_record
from config.exceptions import ConflictError
from config.queue import enqueue_on_commit
from leads.choices import Stage
from leads.lock_objects import appointment_lock, lead_lock
from leads.models import Appointment, Lead
from leads.reactions import APPOINTMENT_ANNOUNCED, APPOINTMENT_BOOKED, APPOINTMENT_CANCELLED, APPOINTMENT_MOVED
from leads.services.stage import lead_stage_changed, lead_touch

INVITE_TASK = "integrations.tasks.invite_send"
# Writes the meeting into the host's connected calendar (integrations.calendars); a no-op when none is connected.
CALENDAR_WRITE_TASK = "integrations.tasks.calendar_write"


def _local_datetime(value, tz_name: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError({"starts_at": "Give a date and time, like 2026-12-01T14:30."}) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ZoneInfo(tz_name))
    return moment


def _appointment_checked(lead: Lead, starts_at, duration_minutes, location: str) -> tuple[datetime, int]:
    """The start on the lead's clock and the duration, validated; ValidationError names each bad field."""
    moment = _local_datetime(starts_at, lead.timezone or settings.TIME_ZONE)
    errors = {}
    if moment <= timezone.now():
        errors["starts_at"] = "Pick a time in the future."
    try:
        duration_minutes = int(duration_minutes)
    except (TypeError, ValueError):
        duration_minutes = 0
    if not 5 <= duration_minutes <= 600:
        errors["duration_minutes"] = "Between 5 and 600 minutes."
    if len(location) > 200:
        errors["location"] = "At most 200 characters."
    if errors:
        raise ValidationError(errors)
    return moment, duration_minutes


def _appointment_lock(appointment_id: int, lead_id: int | None = None) -> Appointment:
    found = appointment_lock(appointment_id)
    appointment = found.filter(lead_id=lead_id).first() if lead_id is not None else found.first()
    if appointment is None:
        raise Appointment.DoesNotExist("No such appointment.")
    if appointment.status == Appointment.Status.CANCELLED:
        raise ConflictError("This appointment is already cancelled.")
    return appointment


@transaction.atomic
def appointment_reschedule(
    *, appointment_id: int, user, starts_at, duration_minutes=None, location=None, lead_id: int | None = None
) -> Appointment:
    """Move a booked appointment; the guests get an updated invite (same UID, next SEQUENCE)."""
    appointment = _appointment_lock(appointment_id, lead_id)
    location = appointment.location if location is None else location.strip()
    duration = appointment.duration_minutes if duration_minutes in (None, "") else duration_minutes
    moment, duration = _appointment_checked(appointment.lead, starts_at, duration, location)
    before = appointment.starts_at
    appointment.starts_at, appointment.duration_minutes, appointment.location = moment, duration, location
    appointment.sequence += 1
    appointment._history_user = user
    appointment.save(update_fields=["starts_at", "duration_minutes", "location", "sequence", "updated_at"])
    decision_record(
        step=Decision.Step.BOOK,
        lead=appointment.lead,
        actor=user,
        output={"appointment": appointment.pk, "before": before.isoformat(), "starts_at": moment.isoformat()},
        reasoning=f"{user or 'The lead'} moved the appointment to {moment.isoformat()}.",
    )
    APPOINTMENT_MOVED.send(appointment=appointment)
    enqueue_on_commit(INVITE_TASK, appointment.pk)
    enqueue_on_commit(CALENDAR_WRITE_TASK, appointment.pk)
    return appointment


@transaction.atomic
def appointment_cancel(*, appointment_id: int, user, lead_id: int | None = None) -> Appointment:
    """Cancel a booked appointment; the guests get a CANCEL for the invite they hold."""
    appointment = _appointment_lock(appointment_id, lead_id)
    appointment.status = Appointment.Status.CANCELLED
    appointment.sequence += 1
    appointment._history_user = user
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    decision_record(
        step=Decision.Step.BOOK,
        lead=appointment.lead,
        actor=user,
        output={"appointment": appointment.pk, "status": "cancelled"},
        reasoning=f"{user or 'The lead'} cancelled the appointment of {appointment.starts_at.isoformat()}.",
        outcome=Decision.Outcome.SKIPPED,
    )
    APPOINTMENT_CANCELLED.send(appointment=appointment)
    enqueue_on_commit(INVITE_TASK, appointment.pk)
    enqueue_on_commit(CALENDAR_WRITE_TASK, appointment.pk)
    return appointment


@transaction.atomic
def appointment_book(
    *,
    lead_id: int,
    user,
    starts_at,
    duration_minutes: int = 60,
    location: str = "",
    note: str = "",
    host=None,
    buffers: tuple[int, int] = (0, 0),
) -> Appointment:
    """Book a meeting with the lead (a time without a zone is on the lead's clock); the lead moves to Appointment.

    ``host`` meets the lead (default: the lead's owner, else ``user``); ``buffers`` are the minutes the meeting
    holds before and after it in the host's time. ``user`` is None when the lead booked it (a reply, the link).
    """
    lead = lead_lock(lead_id)
    tz_name = lead.timezone or settings.TIME_ZONE
    moment, duration_minutes = _appointment_checked(lead, starts_at, duration_minutes, location)
    appointment = Appointment.objects.create(
        lead=lead,
        starts_at=moment,
        duration_minutes=duration_minutes,
        location=location.strip(),
        note=note.strip(),
        booked_by=user,
        host=host or lead.owner or user,
        buffer_before_minutes=buffers[0],
        buffer_after_minutes=buffers[1],
    )
    changed = []
    before = lead.stage
    if lead.stage != Stage.APPOINTMENT:
        lead.stage = Stage.APPOINTMENT
        changed.append("stage")
    if changed:
        lead._history_user = user
        lead._change_reason = "appointment booked"
        lead.save(update_fields=[*changed, "updated_at"])
    local = moment.astimezone(ZoneInfo(tz_name))
    decision_record(
        step=Decision.Step.BOOK,
        lead=lead,
        actor=user,
        output={"appointment": appointment.pk, "starts_at": moment.isoformat(), "duration_minutes": duration_minutes},
        reasoning=f"{user or 'The lead'} booked {local:%a %b %d, %H:%M} ({tz_name}) for {duration_minutes} min"
        + (f" at {appointment.location}" if appointment.location else "")
        + ".",
    )
    if user is not None:
        lead_touch(lead=lead, how="appointment booked", actor=user)
    enqueue_on_commit(INVITE_TASK, appointment.pk)
    enqueue_on_commit(CALENDAR_WRITE_TASK, appointment.pk)
    APPOINTMENT_BOOKED.send(appointment=appointment, user=user)
    lead_stage_changed(lead, before=before, by=str(user) if user is not None else "the lead")
    APPOINTMENT_ANNOUNCED.send(appointment=appointment, user=user)
    return appointment


@transaction.atomic
def appointment_attendance_mark(*, appointment_id: int, lead_id: int, user, attendance: str) -> Appointment:
    """A person marks whether the lead came (``attended``, ``no_show``, or "" to unmark), once the meeting began.

    ValidationError (``attendance``) for another value or a meeting still ahead; ConflictError once cancelled.
    """
    if attendance not in Appointment.Attendance.values:
        raise ValidationError({"attendance": "Mark attended or no-show."})
    appointment = _appointment_lock(appointment_id, lead_id)
    if appointment.starts_at > timezone.now():
        raise ValidationError({"attendance": "The meeting has not started yet."})
    appointment.attendance = attendance
    appointment.attendance_marked_at = timezone.now() if attendance else None
    appointment._history_user = user
    appointment.save(update_fields=["attendance", "attendance_marked_at", "updated_at"])
    label = Appointment.Attendance(attendance).label.lower()
    decision_record(
        step=Decision.Step.BOOK,
        lead=appointment.lead,
        actor=user,
        output={"appointment": appointment.pk, "attendance": attendance},
        reasoning=f"{user} marked the appointment of {appointment.starts_at.isoformat()}: {label}.",
    )
    return appointment
