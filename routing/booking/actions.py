"""Booking as a workflow under the autonomy dial: proposing a booking (or its question) as a Booking action, and
carrying one out when the executor claims it (the receiver of ``approvals.reactions.ACTION_BOOK``).

observe: the action is a shadow, nothing is booked. draft: a person approves the booking in the queue (its message
says what will be booked). auto: booked at once unless the Booking policy's gates hold it (``booking_type``,
``hours_ahead``) or the reading was not confident enough. Whoever decides, the time is checked again at the commit.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from approvals.drafting import DraftContent, channel_for
from approvals.models import Action, Workflow
from approvals.services import action_propose
from audit.models import Decision
from audit.services import decision_record
from config.exceptions import ConflictError
from leads.models import Appointment, InboundEvent, Lead
from leads.services import appointment_cancel
from routing.booking.commit import SlotTaken, booking_commit, booking_move
from routing.booking.offers import lead_zone, link_for, offer_create, times_text, when_text, words
from routing.directory import first_name
from routing.models import BookingOffer, BookingType

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingVerdict:
    """What a Booking action's commit came to: ``outcome`` (booked, moved, cancelled, taken, gone), the message to
    send (``body``), and the meeting's id."""

    outcome: str
    body: str
    appointment_id: int | None = None


def booking_propose(
    lead: Lead,
    *,
    body: str,
    booking_type: BookingType,
    confidence: float,
    reasoning: str,
    event: InboundEvent | None = None,
    booking: dict | None = None,
    start: datetime | None = None,
    send_here: bool = True,
    carries: BookingOffer | None = None,
) -> Action | None:
    """Propose a Booking action: the message ``body`` to the lead and, with ``booking`` ({"op": book | move |
    cancel, …}), the meeting to commit when it is carried out; ``carries``: the offer whose link the message holds
    (payload "offer": rejected or cancelled, the offer closes). None when the lead cannot be reached in writing."""
    reach = channel_for(lead)
    if reach is None:
        decision_record(
            step=Decision.Step.PROPOSE,
            lead=lead,
            workflow=Workflow.BOOKING,
            reasoning=f"Nothing proposed: the lead cannot be reached in writing. {reasoning}",
            outcome=Decision.Outcome.ESCALATED,
        )
        return None
    channel, kind, to = reach
    subject = f"Your appointment with {settings.BUSINESS_NAME}" if channel == "email" else ""
    hours = round((start - timezone.now()).total_seconds() / 3600, 1) if start is not None else None
    return action_propose(
        lead=lead,
        workflow=Workflow.BOOKING,
        content=DraftContent(kind=kind, to=to, body=body, subject=subject),
        confidence=confidence,
        reasoning=reasoning,
        event=event,
        send_here=send_here,
        extra_payload={
            **({"booking": {**booking, "type": booking_type.pk}} if booking else {}),
            **({"offer": carries.pk} if carries is not None else {}),
        }
        or None,
        gate_facts={"booking_type": booking_type.slug, "hours_ahead": hours},
    )


def _host_name(appointment: Appointment) -> str:
    return first_name(appointment.host) if appointment.host_id else settings.BUSINESS_NAME


def _rebook_link(lead: Lead, booking_type: BookingType, offer: BookingOffer | None, language: str) -> str:
    return link_for(offer if offer is not None else offer_create(lead, booking_type, [], language=language))


def booking_action_carry(*, action: Action) -> BookingVerdict:
    """Receiver of ACTION_BOOK: commit the booking ``action`` carries (in the executor's claim transaction).

    A time taken meanwhile becomes a new offer, and the message offers its times instead of confirming.
    """
    booking = action.payload["booking"]
    lead = action.lead
    language, tz = booking.get("language", "en"), lead_zone(lead)
    booking_type = BookingType.objects.get(pk=booking["type"])
    offer = BookingOffer.objects.filter(pk=booking.get("offer")).first()
    user = action.decided_by if action.decided_by_id else None
    try:
        if booking["op"] == "cancel":
            cancelled = appointment_cancel(appointment_id=booking["appointment"], user=user, lead_id=lead.pk)
            when = when_text(cancelled.starts_at, tz, language)
            link = _rebook_link(lead, booking_type, None, language)
            return BookingVerdict("cancelled", words(language, "cancelled", when=when, link=link), cancelled.pk)
        start = datetime.fromisoformat(booking["start"])
        if booking["op"] == "move":
            source = booking.get("source", "reply")
            done = booking_move(
                appointment_id=booking["appointment"], booking_type_id=booking_type.pk, start=start, source=source
            )
        else:
            done = booking_commit(
                lead_id=lead.pk,
                booking_type_id=booking_type.pk,
                start=start,
                source=booking.get("source", "reply"),
                user=user,
            )
    except SlotTaken as taken:
        again = offer_create(lead, booking_type, taken.options, language=language)
        times = times_text([o.start for o in taken.options], tz, language)
        key = "taken" if taken.options else "nothing"
        return BookingVerdict("taken", words(language, key, times=times or "—", link=link_for(again)))
    except (ConflictError, Appointment.DoesNotExist) as exc:
        # Cancelled or moved by a person meanwhile: the message says nothing false.
        logger.info("booking.gone", extra={"action_id": action.pk, "why": str(exc)})
        return BookingVerdict("gone", "", None)
    appointment = done.appointment
    if offer is not None:
        offer.status, offer.appointment = BookingOffer.Status.BOOKED, appointment
        offer.save(update_fields=["status", "appointment", "updated_at"])
    key = "moved" if done.moved else "booked"
    body = words(
        language,
        key,
        when=when_text(appointment.starts_at, tz, language),
        rep=_host_name(appointment),
        where=booking_type.location_text,
        link=_rebook_link(lead, booking_type, offer, language),
    )
    return BookingVerdict(key, body, appointment.pk)
