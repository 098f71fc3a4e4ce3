"""Calendar invites: an appointment as an iCalendar (RFC 5546) REQUEST or CANCEL, emailed to the lead and the rep.

Every version of one appointment carries the same UID and a growing SEQUENCE, so the guests'
calendars update or remove the event they already have instead of adding another.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import models, transaction
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from audit.models import Decision
from audit.services import decision_record
from config.queue import requeue, requeue_cutoff
from integrations.channels import ChannelError
from leads.choices import Channel
from leads.lock_objects import appointment_lock
from leads.models import Appointment, Message

logger = logging.getLogger(__name__)


def invite_ics(
    appointment: Appointment, *, organizer_email: str, attendees: list[str], stored: bool = False
) -> tuple[str, bytes]:
    """(method, ICS bytes) for the appointment as it stands: REQUEST while booked, CANCEL once cancelled.

    ``stored``: the object kept in a CalDAV calendar, which must carry no METHOD (RFC 4791 section 4.1).
    """
    cancelled = appointment.status == Appointment.Status.CANCELLED
    method = "CANCEL" if cancelled else "REQUEST"
    cal = Calendar()
    cal.add("prodid", "-//Nightshift//Appointments//EN")
    cal.add("version", "2.0")
    if not stored:
        cal.add("method", method)
    event = Event()
    event.add("uid", appointment.uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.starts_at + timedelta(minutes=appointment.duration_minutes))
    event.add("summary", f"{settings.BUSINESS_NAME}: appointment with {appointment.lead}")
    if appointment.location:
        event.add("location", appointment.location)
    if appointment.note:
        event.add("description", appointment.note)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(settings.BUSINESS_NAME)
    event["organizer"] = organizer
    for email in attendees:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    return method, cal.to_ical()


def attendees(appointment: Appointment) -> list[str]:
    """Who the invite goes to: the lead, the host (else the owner) and whoever booked it, each once."""
    people = [appointment.lead.email]
    for user in (appointment.host or appointment.lead.owner, appointment.booked_by):
        if user is not None and user.email:
            people.append(user.email)
    return list(dict.fromkeys(p for p in people if p))


def invite_send(*, appointment_id: int) -> Message | None:
    """Email the appointment's current version (REQUEST or CANCEL) unless that SEQUENCE already went.

    The row lock and ``invite_sent_sequence`` make a retried task a no-op; a crash after the
    send and before the record re-sends the same UID and SEQUENCE, which calendars treat as
    the same invite.
    """
    with transaction.atomic():
        # The owner and the booker only name guests: a stale join of them while the lock waited is harmless.
        appointment = appointment_lock(appointment_id).select_related("lead__owner", "booked_by", "host").get()
        if appointment.invite_sent_sequence >= appointment.sequence:
            return None
        lead = appointment.lead
        if not lead.email or lead.email_undeliverable:
            why = "its address bounces" if lead.email else "the lead has no email address"
            decision_record(
                step=Decision.Step.BOOK,
                lead=lead,
                reasoning=f"No calendar invite: {why}.",
                outcome=Decision.Outcome.SKIPPED,
            )
            appointment.invite_sent_sequence = appointment.sequence
            appointment.save(update_fields=["invite_sent_sequence"])
            return None
        organizer = settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">").strip()
        guests = attendees(appointment)
        method, ics = invite_ics(appointment, organizer_email=organizer, attendees=guests)
        verb = "Cancelled" if method == "CANCEL" else ("Updated" if appointment.sequence else "Invitation")
        local = timezone.localtime(appointment.starts_at, appointment_zone(appointment))
        subject = f"{verb}: {settings.BUSINESS_NAME} appointment {local:%a %b %d, %H:%M}"
        body = f"{verb} appointment on {local:%A %B %d at %H:%M} ({appointment.duration_minutes} min)" + (
            f" at {appointment.location}." if appointment.location else "."
        )
        message_id = make_msgid(domain="nightshift")
        email = EmailMessage(subject=subject, body=body, to=guests, headers={"Message-ID": message_id})
        email.attach("invite.ics", ics, f"text/calendar; method={method}; charset=UTF-8")
        try:
            email.send(fail_silently=False)
        except OSError as exc:
            # The task's retry tries again; the lead page shows the failure meanwhile.
            logger.warning("invite.failed", extra={"appointment_id": appointment.pk, "error": str(exc)})
            raise ChannelError(f"Invite for appointment {appointment.pk} not sent: {exc}", transient=True) from exc
        appointment.invite_sent_sequence = appointment.sequence
        appointment.save(update_fields=["invite_sent_sequence"])
        return Message.objects.create(
            lead=lead,
            direction=Message.Direction.OUTBOUND,
            channel=Channel.EMAIL,
            to=", ".join(guests),
            subject=subject,
            body=body,
            status=Message.Status.SENT,
            provider_id=message_id,
            message_id=message_id,
            sent_at=timezone.now(),
        )


def appointment_zone(appointment: Appointment):
    from zoneinfo import ZoneInfo

    return ZoneInfo(appointment.lead.timezone or settings.TIME_ZONE)


INVITE_TASK = "integrations.tasks.invite_send"


def invites_unsent_requeue(*, older_than_minutes: int | None = None, now=None) -> int:
    """Queue again the invites of appointments changed long ago whose current version never went; returns how many.

    Sending is safe to run twice: a version already sent is not sent again.
    """
    cutoff = requeue_cutoff(older_than_minutes, now)
    waiting = Appointment.objects.filter(invite_sent_sequence__lt=models.F("sequence"), updated_at__lt=cutoff).order_by(
        "updated_at"
    )
    return requeue(INVITE_TASK, waiting.values_list("pk", flat=True))
