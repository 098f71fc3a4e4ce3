"""Every row lock on leads' tables, by name, so the order locks are taken in is visible in one place.

Order across the house: a lead's row before its event's, actions' or enrollments' rows (capture, the
pipeline and the executor all take the lead first). Mind what a lock joins: when a lock waits, PostgreSQL
re-reads only the locked row, so a joined row may be stale, and a joined nullable one may come back empty.
"""

from django.db.models import QuerySet

from leads.models import Appointment, Lead, Message


def lead_lock(lead_id: int) -> Lead:
    """The lead's row, locked until the transaction ends (waits for another holder). Lead.DoesNotExist if gone."""
    return Lead.objects.select_for_update(of=("self",)).get(pk=lead_id)


def lead_lock_or_skip(lead_id: int) -> Lead | None:
    """The lead's row locked, or None when another transaction holds it (a sweep leaves that lead for later)."""
    return Lead.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=lead_id).first()


def leads_lock_by_phone(phone: str) -> QuerySet[Lead]:
    """Every lead with this (normalized) number, locked as the queryset is read, in id order."""
    return Lead.objects.select_for_update(of=("self",)).filter(phone=phone).order_by("pk")


def leads_lock_by_email(email: str) -> QuerySet[Lead]:
    """Every lead with this (normalized) email address, locked as the queryset is read, in id order."""
    return Lead.objects.select_for_update(of=("self",)).filter(email=email).order_by("pk")


def appointment_lock(appointment_id: int) -> QuerySet[Appointment]:
    """The appointment (with its lead joined), locked as the queryset is read; filter it further.

    Its lead's row is locked first, here, in the house order: a booking holds the lead and then waits for the
    appointment to move it, while a task holding the appointment writes a row that points at the lead (a message,
    a decision: PostgreSQL's FOR KEY SHARE, which waits for the booking's lock), and the two deadlock.
    """
    lead_id = Appointment.objects.filter(pk=appointment_id).values_list("lead_id", flat=True).first()
    if lead_id is not None:
        list(Lead.objects.select_for_update(of=("self",)).filter(pk=lead_id).values_list("pk", flat=True))
    return Appointment.objects.select_for_update(of=("self",)).select_related("lead").filter(pk=appointment_id)


def outbound_message_lock(provider_id: str) -> Message | None:
    """Our outbound message the provider knows by ``provider_id``, locked; None when there is none."""
    return (
        Message.objects.select_for_update(of=("self",))
        .filter(provider_id=provider_id, direction=Message.Direction.OUTBOUND)
        .first()
    )
