"""Booking in the conversation: open times offered in the first answer, and replies that pick, move or cancel.

The pipeline calls :func:`offer_attach` while it drafts the first answer and :func:`booking_reply` for a reply of a
lead holding an open offer or a booked meeting. A reply naming one time books it (a Booking action, under the
dial); one that could mean several gets one clarifying question, and a second unclear reply goes to a person.
"""

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from django.utils import timezone

from approvals.drafting import DraftContent
from approvals.models import Action, Policy, Workflow
from approvals.services import policy_for
from approvals.sms import sms_too_long
from audit.models import Decision
from audit.services import decision_record
from integrations.outbound import slack_alert
from leads.models import Appointment, InboundEvent, Lead
from routing.booking.actions import booking_propose
from routing.booking.free import availability, booking_type_for, host_order
from routing.booking.offers import lead_language, lead_zone, link_for, offer_create, times_text, when_text, words
from routing.booking.reading import Reading, fits, reading_window, reply_read
from routing.booking.slots import Slot, spread
from routing.directory import routing_config
from routing.models import BookingOffer, BookingType

logger = logging.getLogger(__name__)

# How sure the reading is: one offered time named; a time named that was not offered; a clarifying question; a
# reply that also asks something else or names only a part of the day (below any auto bar: a person decides).
NAMED, EXACT, ASKING, UNSURE = 0.95, 0.85, 0.9, 0.5


def _offer_text(offer: BookingOffer, slots: list[Slot], tz, language: str) -> str:
    return words(language, "offer", times=times_text([s.start for s in slots], tz, language), link=link_for(offer))


def offer_attach(lead: Lead, workflow: str, content: DraftContent) -> tuple[DraftContent, BookingOffer | None]:
    """``content`` with 2–3 open times and the self-scheduling link added, when the lead's booking type offers them
    in this message (``offer_in``, ``min_score``) and the Booking workflow is not in observe; else unchanged.

    A text that would pass the managers' SMS limit offers fewer times, then none.
    """
    booking_type = booking_type_for(lead)
    if booking_type is None or policy_for(Workflow.BOOKING).mode == Policy.Mode.OBSERVE:
        return content, None
    offered_here = {
        BookingType.OfferIn.FIRST_MESSAGE: (Workflow.FIRST_RESPONSE, Workflow.CLARIFYING_QUESTION),
        BookingType.OfferIn.FIRST_RESPONSE: (Workflow.FIRST_RESPONSE,),
    }.get(booking_type.offer_in, ())
    if workflow not in offered_here or (lead.score or 0) < booking_type.min_score:
        return content, None
    if lead.pk and lead.appointments.filter(status=Appointment.Status.BOOKED, starts_at__gt=timezone.now()).exists():
        return content, None
    found = availability(booking_type, lead, limit=48)
    slots = spread(found.slots, booking_type.offer_count)
    if not slots:
        decision_record(
            step=Decision.Step.BOOK,
            lead=lead,
            reasoning=f"No times offered for {booking_type.name}: nothing open in {booking_type.horizon_days} days."
            + (f" {'; '.join(found.notes)}." if found.notes else ""),
            outcome=Decision.Outcome.SKIPPED,
        )
        return content, None
    language, tz = lead_language(lead), lead_zone(lead)
    offer = offer_create(lead, booking_type, slots, language=language)
    texted = content.kind == Action.Kind.SEND_SMS
    while slots:
        body = f"{content.body}{' ' if texted else chr(10) * 2}{_offer_text(offer, slots, tz, language)}"
        if not texted or not sms_too_long(body):
            offer.slots = [s.start.isoformat() for s in slots]
            offer.save(update_fields=["slots", "updated_at"])
            return replace(content, body=body), offer
        slots = slots[:-1]
    offer.status = BookingOffer.Status.CLOSED
    offer.save(update_fields=["status", "updated_at"])
    return content, None


def offer_settle(offer: BookingOffer | None, action: Action | None) -> None:
    """An offer whose message will never reach the lead (a shadow, nothing proposed) is closed: no reply can pick it."""
    if offer is not None and (action is None or action.status == Action.Status.SHADOW):
        offer.status = BookingOffer.Status.CLOSED
        offer.save(update_fields=["status", "updated_at"])


def offers_close_on_opt_out(*, lead: Lead, **_) -> int:
    """Receiver of LEAD_OPTED_OUT: the lead's open offers close (a later "the first one" books nothing); how many."""
    return BookingOffer.objects.filter(lead=lead, status=BookingOffer.Status.OPEN).update(
        status=BookingOffer.Status.CLOSED, updated_at=timezone.now()
    )


def _unsent(offer: BookingOffer) -> bool:
    """Whether the message carrying ``offer`` (payload "offer") was rejected or cancelled: it never reached the lead."""
    carriers = Action.objects.filter(lead_id=offer.lead_id, payload__offer=offer.pk)
    return carriers.exists() and not carriers.exclude(status__in=(Action.Status.REJECTED, Action.Status.CANCELLED))


def _context(lead: Lead, now: datetime):
    offer = (
        BookingOffer.objects.filter(lead=lead, status=BookingOffer.Status.OPEN, expires_at__gt=now)
        .select_related("booking_type")
        .first()
    )
    if offer is not None and (lead.opted_out or _unsent(offer)):
        offer.status = BookingOffer.Status.CLOSED
        offer.save(update_fields=["status", "updated_at"])
        offer = None
    appointment = (
        lead.appointments.filter(status=Appointment.Status.BOOKED, starts_at__gt=now).order_by("starts_at").first()
    )
    return offer, appointment


def _booking_type_of(lead: Lead, offer: BookingOffer | None, appointment: Appointment | None):
    if offer is not None:
        return offer.booking_type
    if appointment is not None:
        earlier = BookingOffer.objects.filter(appointment=appointment).select_related("booking_type").first()
        if earlier is not None:
            return earlier.booking_type
    return booking_type_for(lead)


def booking_reply(lead: Lead, event: InboundEvent) -> bool:
    """Act on a reply about a time; True when that is all it was (the pipeline then drafts nothing else for it).

    Only for a lead holding an open offer or a booked meeting ahead. Picking: one time named (an offered one, or an
    exact day and hour) is proposed as a booking (or a move of the meeting ahead); a day or part of a day with no
    offered time in it gets the open times then; several fitting times get one clarifying question, and a second
    unclear reply goes to a person. "Cancel my appointment" proposes cancelling the meeting ahead. A reply that
    also asks something ("Tuesday at 3, how much is it?") or names only a part of the day ("this morning I saw your
    ad") is proposed below the auto bar and returns False, so its question still gets the pipeline's answer; one
    that only says a time does not work ("hoy no puedo") goes to a person.
    """
    now = timezone.now()
    offer, appointment = _context(lead, now)
    if offer is None and appointment is None:
        return False
    language, tz = (offer.language if offer and offer.language else lead_language(lead)), lead_zone(lead)
    reading = reply_read(event.message, now=now.astimezone(tz), language=language)
    if not reading.intent or (reading.intent == "cancel" and appointment is None):
        return False
    if reading.intent == "decline":
        decision_record(
            step=Decision.Step.BOOK,
            lead=lead,
            workflow=Workflow.BOOKING,
            reasoning=f"Handed to a person: '{event.message[:200]}' says a time does not work and names none that "
            "does.",
            outcome=Decision.Outcome.ESCALATED,
        )
        slack_alert(lead=lead, event="escalation", text=f":calendar: {lead} says a time does not work: ask which does.")
        return not reading.asks
    booking_type = _booking_type_of(lead, offer, appointment)
    if booking_type is None:
        return False
    base = {"language": language, "offer": offer.pk if offer else None, "source": "reply"}
    if reading.intent == "cancel":
        body = words(language, "cancelled", when=when_text(appointment.starts_at, tz, language), link="…")
        booking_propose(
            lead,
            body=body,
            booking_type=booking_type,
            confidence=NAMED,
            reasoning=f"The lead asked to cancel the meeting of {appointment.starts_at.isoformat()}: "
            f"'{event.message[:200]}'.",
            event=event,
            booking={**base, "op": "cancel", "appointment": appointment.pk},
        )
        return True
    op = {"op": "move", "appointment": appointment.pk} if appointment is not None else {"op": "book"}
    starts = offer.starts if offer is not None else []
    matches = [s for i, s in enumerate(starts) if fits(reading, s.astimezone(tz), i, len(starts))]
    if len(matches) == 1:
        _pick(lead, event, booking_type, matches[0], {**base, **op}, NAMED, reading, tz)
    elif len(matches) > 1:
        _unclear(lead, event, booking_type, offer, matches, language, tz, reading)
    else:
        _elsewhere(lead, event, booking_type, offer, reading, {**base, **op}, language, tz)
    return not reading.unsure


def _sure(confidence: float, reading: Reading) -> float:
    return min(confidence, UNSURE) if reading.unsure else confidence


def _pick(lead, event, booking_type, start: datetime, booking: dict, confidence: float, reading: Reading, tz) -> None:
    language = booking["language"]
    found = availability(booking_type, lead, window=(start, start + timedelta(minutes=1)))
    rep_ids = found.slots[0].rep_ids if found.slots else ()
    order = host_order(booking_type, lead, rep_ids, timezone.now()) if rep_ids else []
    host = routing_config().directory.reps[order[0]].name.split()[0] if order else "us"
    key = "moved" if booking["op"] == "move" else "booked"
    body = words(
        language, key, when=when_text(start, tz, language), rep=host, where=booking_type.location_text, link="…"
    )
    booking_propose(
        lead,
        body=body,
        booking_type=booking_type,
        confidence=_sure(confidence, reading),
        reasoning=f"The lead's reply '{event.message[:200]}' names {when_text(start, tz, 'en')} "
        f"({booking['op']}, {booking_type.name}).",
        event=event,
        booking={**booking, "start": start.isoformat()},
        start=start,
    )


def _unclear(lead, event, booking_type, offer, candidates: list[datetime], language: str, tz, reading: Reading) -> None:
    """One clarifying question naming the times the reply could mean; the second time, a person takes it."""
    named = times_text(candidates, tz, "en")
    if offer is not None and offer.clarified_at is not None:
        offer.status = BookingOffer.Status.HANDED_OVER
        offer.save(update_fields=["status", "updated_at"])
        decision_record(
            step=Decision.Step.BOOK,
            lead=lead,
            workflow=Workflow.BOOKING,
            reasoning=f"Handed to a person: after one question, '{event.message[:200]}' still could mean {named}.",
            outcome=Decision.Outcome.ESCALATED,
        )
        slack_alert(lead=lead, event="escalation", text=f":calendar: {lead} wants a time we could not tell: {named}.")
        return
    offer = offer_create(lead, booking_type, [Slot(c, ()) for c in candidates], language=language)
    offer.clarified_at = timezone.now()
    offer.save(update_fields=["clarified_at", "updated_at"])
    body = words(language, "clarify", times=times_text(candidates, tz, language), link=link_for(offer))
    booking_propose(
        lead,
        carries=offer,
        body=body,
        booking_type=booking_type,
        confidence=_sure(ASKING, reading),
        reasoning=f"The lead's reply '{event.message[:200]}' could mean {named}: asked which.",
        event=event,
    )


def _elsewhere(lead, event, booking_type, offer, reading: Reading, booking: dict, language: str, tz) -> None:
    """A reply naming a time that was not offered: book it if it is exact, else offer what is open then."""
    window = reading_window(reading, tz)
    if window is not None and reading.at is not None and reading.at.minute % booking_type.step_minutes:
        # "Tuesday at 3:10": no time starts then; the day's open times nearest to it are offered instead.
        wanted = window[0]
        day = reading_window(replace(reading, at=None, part=""), tz)
        found = availability(booking_type, lead, window=day, limit=48).slots
        nearest = sorted(found, key=lambda s: abs(s.start - wanted))[: booking_type.offer_count]
        if nearest:
            slots = sorted(nearest, key=lambda s: s.start)
            again = offer_create(lead, booking_type, slots, language=language)
            times = times_text([s.start for s in slots], tz, language)
            booking_propose(
                lead,
                carries=again,
                body=words(language, "offer", times=times, link=link_for(again)),
                booking_type=booking_type,
                confidence=_sure(ASKING, reading),
                reasoning=f"The lead's reply '{event.message[:200]}' names a time off the {booking_type.step_minutes}"
                "-minute grid: offered the nearest open times.",
                event=event,
            )
            return
        window, reading = day, replace(reading, at=None)
    if window is not None and reading.at is not None:
        # A day and an hour: that time, checked at the commit (an hour without a.m./p.m. read the business's way).
        _pick(lead, event, booking_type, window[0], booking, EXACT if reading.at_certain else 0.8, reading, tz)
        return
    if window is None and offer is not None and offer.starts:
        _unclear(lead, event, booking_type, offer, offer.starts, language, tz, reading)
        return
    found = availability(booking_type, lead, window=window, limit=48)
    slots = [s for s in found.slots if reading.at is None or fits(reading, s.start.astimezone(tz), 0, 1)]
    slots = spread(slots or found.slots, booking_type.offer_count)
    if not slots and window is not None:  # nothing then: the next open times
        slots = spread(availability(booking_type, lead, limit=48).slots, booking_type.offer_count)
        key = "nothing"
    else:
        key = "offer"
    if not slots:
        decision_record(
            step=Decision.Step.BOOK,
            lead=lead,
            workflow=Workflow.BOOKING,
            reasoning=f"Handed to a person: '{event.message[:200]}' asks for a time and nothing is open.",
            outcome=Decision.Outcome.ESCALATED,
        )
        return
    again = offer_create(lead, booking_type, slots, language=language)
    body = words(language, key, times=times_text([s.start for s in slots], tz, language), link=link_for(again))
    booking_propose(
        lead,
        carries=again,
        body=body,
        booking_type=booking_type,
        confidence=_sure(ASKING, reading),
        reasoning=f"The lead's reply '{event.message[:200]}' names no open time we offered: offered what is open.",
        event=event,
    )
