"""A booking's commit: the time checked again under a lock on its possible hosts, then booked (or refused).

The lead's row is locked first (the house order: the lead, then its reps): two commits for one lead (a double
submit of the page, a reply and a page pick at once) queue, and the second finds the first's meeting and moves it
(or, for the same time, returns it) instead of booking a second one.

Two leads picking the same time: both commits lock the same rep rows (in id order), the second waits, then finds
the time taken by the first and is refused with new options. The external calendar is asked afresh, under the
lock, only for the rep about to be given the meeting; one that does not answer in time leaves our own data to
decide (the booking still happens, and the reason is kept on the lead's timeline).
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit.models import Decision
from audit.services import decision_record
from config.exceptions import ConflictError
from leads.lock_objects import lead_lock
from leads.models import Appointment, Lead
from leads.services import appointment_book, appointment_reschedule
from routing.booking.free import (
    availability,
    booking_reps,
    booking_rule,
    external_busy,
    host_order,
    meetings_busy,
    refusal,
)
from routing.booking.slots import Slot, spread
from routing.lock_objects import reps_lock
from routing.models import BookingType

logger = logging.getLogger(__name__)


class SlotTaken(ConflictError):
    """The time cannot be booked any more (taken, passed, off hours); ``options`` are open times to offer instead."""

    def __init__(self, why: str, options: list[Slot]):
        super().__init__(f"That time cannot be booked: {why}.")
        self.why = why
        self.options = options


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    rep_name: str
    notes: tuple[str, ...]  # calendars that could not be asked
    moved: bool = False  # the lead's meeting ahead was moved here, not a new one booked


def _location(booking_type: BookingType, lead: Lead) -> str:
    if booking_type.location_kind == BookingType.LocationKind.ON_SITE and not booking_type.location_detail:
        return f"On site{f' ({lead.postal_code})' if lead.postal_code else ''}"
    return booking_type.location_text


def _host_for(booking_type: BookingType, lead: Lead, start: datetime, now: datetime, *, ignore: int | None = None):
    """(rep, notes) who can host ``start``, checked under their row locks; SlotTaken when nobody can."""
    reps = booking_reps(booking_type, lead)
    if not reps:
        raise SlotTaken("nobody can host it", [])
    list(reps_lock([rep.id for rep in reps]))
    rule = booking_rule(booking_type)
    pad = rule.duration + max(rule.before, rule.after) + timedelta(hours=12)
    # Read after the lock: a meeting another commit booked while this one waited is seen here.
    local = meetings_busy(reps, start - pad, start + pad, exclude=ignore)
    why = ""
    by_id = {rep.id: rep for rep in reps}
    for rep_id in host_order(booking_type, lead, list(by_id), now):
        rep = by_id[rep_id]
        why = refusal(rep, local[rep_id], booking_type, start, now)
        if why:
            continue
        external, notes = external_busy([rep], start - pad, start + pad, fresh=True)
        why = refusal(rep, local[rep_id] + external.get(rep_id, []), booking_type, start, now)
        if not why:
            return rep, notes
    raise SlotTaken(why or "nobody can host it", [])


def _options(booking_type: BookingType, lead: Lead, now: datetime) -> list[Slot]:
    return spread(availability(booking_type, lead, now=now, limit=48).slots, booking_type.offer_count)


@transaction.atomic
def booking_commit(
    *, lead_id: int, booking_type_id: int, start: datetime, source: str, user=None, now: datetime | None = None
) -> Booked:
    """Book ``start`` (aware; any zone) for the lead under ``booking_type``, with the fairest free host.

    Locks the lead's row, then the possible hosts' Rep rows, checks the time again against their meetings and (for
    the chosen host) their connected calendar, then books through leads.services.appointment_book (the invite, the
    calendar write, the reminder cadence, the follow-ups a booking stops). A lead holds one meeting ahead: when it
    already has one, that meeting is returned (same start) or moved to ``start`` (``Booked.moved``). ``source``:
    "reply", "link", "person". Raises SlotTaken (a ConflictError) with up to ``offer_count`` other open times when
    it cannot be booked; nothing is written then.
    """
    now = now or timezone.now()
    if start.tzinfo is None:
        raise ValueError("start must be aware")
    start = start.astimezone(UTC)
    lead = lead_lock(lead_id)
    ahead = lead.appointments.filter(status=Appointment.Status.BOOKED, starts_at__gt=now).order_by("starts_at").first()
    if ahead is not None:
        if ahead.starts_at == start:
            host = ahead.host.get_full_name() if ahead.host_id else ""
            return Booked(ahead, host, ())
        return booking_move(
            appointment_id=ahead.pk, booking_type_id=booking_type_id, start=start, source=source, user=user, now=now
        )
    booking_type = BookingType.objects.get(pk=booking_type_id)
    try:
        with transaction.atomic():
            rep, notes = _host_for(booking_type, lead, start, now)
    except SlotTaken as taken:
        options = _options(booking_type, lead, now)
        _refused(lead, booking_type, start, taken.why, source)
        raise SlotTaken(taken.why, options) from None
    appointment = appointment_book(
        lead_id=lead.pk,
        user=user,
        starts_at=start,
        duration_minutes=booking_type.duration_minutes,
        location=_location(booking_type, lead),
        note=f"{booking_type.name}, booked by {source}.",
        host=get_user_model().objects.get(pk=rep.user_id),
        buffers=(booking_type.buffer_before_minutes, booking_type.buffer_after_minutes),
    )
    if notes:
        decision_record(
            step=Decision.Step.BOOK,
            lead=lead,
            output={"appointment": appointment.pk, "calendar": "unread"},
            reasoning="Booked from Nightshift's own data: " + "; ".join(notes) + ".",
            outcome=Decision.Outcome.ESCALATED,
        )
    return Booked(appointment, rep.name, tuple(notes))


@transaction.atomic
def booking_move(
    *, appointment_id: int, booking_type_id: int, start: datetime, source: str, user=None, now=None
) -> Booked:
    """Move a booked meeting to ``start`` with the same checks as a booking (its host first, else another rep)."""
    now = now or timezone.now()
    start = start.astimezone(UTC)
    lead_id = Appointment.objects.values_list("lead_id", flat=True).get(pk=appointment_id)
    lead_lock(lead_id)  # before the reps: the house order
    appointment = Appointment.objects.select_related("lead").get(pk=appointment_id)
    booking_type = BookingType.objects.get(pk=booking_type_id)
    lead = appointment.lead
    try:
        with transaction.atomic():
            rep, notes = _host_for(booking_type, lead, start, now, ignore=appointment.pk)
    except SlotTaken as taken:
        _refused(lead, booking_type, start, taken.why, source)
        raise SlotTaken(taken.why, _options(booking_type, lead, now)) from None
    moved = appointment_reschedule(appointment_id=appointment.pk, user=user, starts_at=start)
    if moved.host_id != rep.user_id:
        moved.host_id = rep.user_id
        moved.save(update_fields=["host", "updated_at"])
    return Booked(moved, rep.name, tuple(notes), moved=True)


def _refused(lead: Lead, booking_type: BookingType, start: datetime, why: str, source: str) -> None:
    decision_record(
        step=Decision.Step.BOOK,
        lead=lead,
        output={"booking_type": booking_type.pk, "starts_at": start.isoformat(), "refused": why, "source": source},
        reasoning=f"Not booked ({source}): {start.isoformat()} for {booking_type.name}: {why}.",
        outcome=Decision.Outcome.SKIPPED,
    )
    logger.info("booking.refused", extra={"lead_id": lead.pk, "why": why})
