"""Bookings written into the host's connected calendar (CalDAV PUT), retried until they go, failures shown.

Google and Microsoft connections are read for free/busy only: the emailed invite (integrations.calendar) is what
puts a meeting in those calendars. The network call holds no lock: the outcome is recorded afterwards against
the SEQUENCE that was written, so a change made meanwhile is written by its own task.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F

from audit.models import Decision
from audit.services import decision_record
from config.queue import requeue, requeue_cutoff
from integrations.calendar import attendees, invite_ics
from integrations.calendars.account import CalendarError
from integrations.calendars.caldav_calendar import event_delete, event_put
from integrations.calendars.reading import account_for, connection_outcome
from integrations.models import CalendarConnection
from leads.lock_objects import appointment_lock
from leads.models import Appointment

logger = logging.getLogger(__name__)

CALENDAR_WRITE_TASK = "integrations.tasks.calendar_write"


def calendar_write(*, appointment_id: int) -> str:
    """Put the appointment's current version into its host's CalDAV calendar (or delete it once cancelled).

    Returns "written", "failed" (kept on the appointment, ``calendar_error``, and on the lead's timeline; the
    lost-work sweep queues it again up to CALENDAR_WRITE_ATTEMPTS), "nothing new" or "no calendar". Safe to run
    twice: the same UID's resource is replaced, and a version already written is not written again.
    """
    appointment = (
        Appointment.objects.select_related("lead__owner", "booked_by", "host").filter(pk=appointment_id).first()
    )
    if appointment is None or appointment.calendar_written_sequence >= appointment.sequence:
        return "nothing new"
    connection = (
        CalendarConnection.objects.filter(user_id=appointment.host_id, active=True).first()
        if appointment.host_id
        else None
    )
    sequence = appointment.sequence
    if connection is None or connection.kind != CalendarConnection.Kind.CALDAV:
        _written(appointment_id, sequence)
        return "no calendar"
    try:
        account = account_for(connection)
        if appointment.status == Appointment.Status.CANCELLED:
            event_delete(account, appointment.uid)
        else:
            organizer = settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">").strip()
            _, ics = invite_ics(appointment, organizer_email=organizer, attendees=attendees(appointment), stored=True)
            event_put(account, appointment.uid, ics)
    except CalendarError as exc:
        _failed(appointment, connection, str(exc))
        return "failed"
    _written(appointment_id, sequence)
    connection_outcome(connection.pk)
    return "written"


def _written(appointment_id: int, sequence: int) -> None:
    # Not through save(): the meeting did not change, and its updated_at paces the retries.
    Appointment.objects.filter(pk=appointment_id, calendar_written_sequence__lt=sequence).update(
        calendar_written_sequence=sequence, calendar_error="", calendar_attempts=0
    )


def _failed(appointment: Appointment, connection: CalendarConnection, error: str) -> None:
    with transaction.atomic():
        locked = appointment_lock(appointment.pk).get()
        attempts = locked.calendar_attempts + 1
        Appointment.objects.filter(pk=locked.pk).update(calendar_error=error[:300], calendar_attempts=attempts)
        retry = attempts < settings.CALENDAR_WRITE_ATTEMPTS
        decision_record(
            step=Decision.Step.BOOK,
            lead=appointment.lead,
            output={"appointment": appointment.pk, "calendar": connection.pk, "attempts": attempts},
            reasoning=f"Not written to {connection.user}'s calendar: {error}. "
            + ("It is tried again in a few minutes." if retry else "No more tries: add it by hand."),
            outcome=Decision.Outcome.FAILED,
        )
    connection_outcome(connection.pk, error)
    logger.warning("calendar.write_failed", extra={"appointment_id": appointment.pk, "error": error})


def calendar_writes_requeue(*, older_than_minutes: int | None = None, now=None) -> int:
    """Queue again the calendar writes not done (their task lost, or failed fewer than CALENDAR_WRITE_ATTEMPTS
    times) of appointments last changed before the requeue cutoff; returns how many."""
    waiting = Appointment.objects.filter(
        calendar_written_sequence__lt=F("sequence"),
        calendar_attempts__lt=settings.CALENDAR_WRITE_ATTEMPTS,
        updated_at__lt=requeue_cutoff(older_than_minutes, now),
        host__calendar_connection__active=True,
    ).order_by("updated_at")
    return requeue(CALENDAR_WRITE_TASK, waiting.values_list("pk", flat=True))
