"""The lead's self-scheduling page: ``/book/<token>/``, no login; open times on the lead's clock, book, move, cancel.

The token is the signed, expiring link of an offer (routing.booking.offers). What the lead does here is proposed as
a Booking action like a reply (routing.booking.actions), so the autonomy dial and its gates decide whether it books
at once or waits for a person; under auto the commit happens in this request and the page says how it went.
"""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from approvals.models import Action, Workflow
from leads.lock_objects import lead_lock
from leads.models import Appointment, Lead
from leads.services import appointment_attendance_mark
from routing.booking.actions import booking_propose
from routing.booking.free import availability
from routing.booking.offers import LinkExpired, LinkInvalid, lead_language, lead_zone, link_read, when_text
from routing.views.leads import lead_change

PAGE = {
    "en": {
        "title": "Pick a time",
        "booked": "You're booked",
        "requested": "Requested: we'll confirm shortly",
        "taken": "Sorry, that time was just taken. Here are the open times now.",
        "cancelled": "Your appointment is cancelled.",
        "none": "Nothing is open in the next days. Reply to our message and we'll find a time.",
        "cancel": "Cancel this appointment",
        "move": "Or pick another time:",
        "expired": "This link has expired. Reply to our message and we'll send new times.",
        "invalid": "This link doesn't work. It may have been copied incompletely.",
        "bad_time": "That time could not be read; pick one of the times below.",
        "clock": "Times are on your clock",
        "opted_out": "You asked us not to contact you, so nothing can be booked here. Call us to book a time.",
    },
    "es": {
        "title": "Elija una hora",
        "booked": "Cita confirmada",
        "requested": "Solicitado: lo confirmaremos en breve",
        "taken": "Lo siento, esa hora se acaba de ocupar. Estas son las horas libres ahora.",
        "cancelled": "Su cita está cancelada.",
        "none": "No hay horas libres en los próximos días. Responda a nuestro mensaje y buscaremos una.",
        "cancel": "Cancelar esta cita",
        "move": "O elija otra hora:",
        "expired": "Este enlace ha caducado. Responda a nuestro mensaje y le enviaremos horas nuevas.",
        "invalid": "Este enlace no funciona. Puede que se haya copiado incompleto.",
        "bad_time": "No se pudo leer esa hora; elija una de las de abajo.",
        "clock": "Horas en su zona horaria",
        "opted_out": "Nos pidió no contactarle, así que aquí no se puede reservar nada. Llámenos para pedir una hora.",
    },
}


def _outcome(action: Action | None) -> str:
    if action is None:
        return ""
    if action.status in (Action.Status.PENDING, Action.Status.SHADOW):
        return "requested"
    return (action.payload.get("booking") or {}).get("outcome", "requested")


@require_http_methods(["GET", "POST"])
def booking_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        offer = link_read(token)
    except LinkInvalid:
        return render(request, "routing/book.html", {"words": PAGE["en"], "problem": "invalid"}, status=404)
    except LinkExpired:
        return render(request, "routing/book.html", {"words": PAGE["en"], "problem": "expired"}, status=410)
    lead, booking_type = offer.lead, offer.booking_type
    language = offer.language or lead_language(lead)
    tz, now = lead_zone(lead), timezone.now()
    upcoming = lead.appointments.filter(status=Appointment.Status.BOOKED, starts_at__gt=now).order_by("starts_at")
    appointment = upcoming.first()
    outcome, status = "", 200
    if lead.opted_out or lead.consent_hold:
        # No consent, no booking: a page opened from an old message books nothing and asks for nothing.
        return render(request, "routing/book.html", {"words": PAGE[language], "problem": "opted_out"}, status=403)
    if request.method == "POST":
        action = None
        if request.POST.get("do") == "cancel":
            if appointment is not None:
                action = _propose_once(lead, offer.pk, appointment.pk, "", language, booking_type)
        else:
            try:
                start = datetime.fromisoformat(request.POST.get("start", ""))
                if start.tzinfo is None:
                    raise ValueError("no offset")
            except ValueError:
                outcome, status = "bad_time", 400
            else:
                action = _propose_once(
                    lead, offer.pk, appointment.pk if appointment else None, start, language, booking_type
                )
        outcome = outcome or _outcome(action)
        status = 409 if outcome == "taken" else status
        appointment = upcoming.first()
    found = availability(booking_type, lead, now=now, limit=60)
    days: dict[str, list[tuple[str, str]]] = {}
    for slot in found.slots:
        label = when_text(slot.start, tz, language, now)
        day, _, hour = label.rpartition(" at " if language == "en" else " a las ")
        days.setdefault(day, []).append((slot.start.isoformat(), hour))
    context = {
        "words": PAGE[language],
        "language": language,
        "booking_type": booking_type,
        "appointment": appointment,
        "appointment_when": when_text(appointment.starts_at, tz, language, now) if appointment else "",
        "days": days,
        "outcome": outcome,
        "zone": str(tz),
    }
    return render(request, "routing/book.html", context, status=status)


def _propose_once(lead: Lead, offer_id: int, appointment_id: int | None, start, language: str, booking_type):
    """The page's Booking action for this offer and ``start`` ("" to cancel ``appointment_id``): a second submit of
    the same choice (a double click, a reload) returns the first one's action instead of proposing it again. Under the
    lead's lock (the house order: the lead, then the commit's reps), so two submits at once queue."""
    base = {"language": language, "offer": offer_id, "source": "link"}
    with transaction.atomic():
        lead_lock(lead.pk)
        if start == "":
            same = {"payload__booking__op": "cancel", "payload__booking__appointment": appointment_id}
        else:
            same = {"payload__booking__start": start.isoformat()}
        earlier = (
            Action.objects.filter(lead=lead, workflow=Workflow.BOOKING, payload__booking__offer=offer_id, **same)
            .exclude(status__in=(Action.Status.REJECTED, Action.Status.CANCELLED, Action.Status.FAILED))
            .order_by("-pk")
            .first()
        )
        if earlier is not None and earlier.status == Action.Status.DONE and start != "":
            # Done and moved away since: picking that time again is a new choice, not a repeat.
            booked = Appointment.objects.filter(
                pk=earlier.payload["booking"].get("appointment"), status=Appointment.Status.BOOKED
            )
            earlier = earlier if booked.filter(starts_at=start).exists() else None
        if earlier is not None:
            return earlier
        if start == "":
            return booking_propose(
                lead,
                body=PAGE[language]["cancelled"],
                booking_type=booking_type,
                confidence=1.0,
                reasoning="The lead cancelled on the booking page.",
                booking={**base, "op": "cancel", "appointment": appointment_id},
            )
        op = {"op": "move", "appointment": appointment_id} if appointment_id else {"op": "book"}
        return booking_propose(
            lead,
            body=PAGE[language]["requested"],
            booking_type=booking_type,
            confidence=1.0,
            reasoning=f"The lead picked {start.isoformat()} on the booking page.",
            booking={**base, **op, "start": start.isoformat()},
            start=start,
        )


@login_required
@require_POST
def appointment_attendance(request: HttpRequest, lead_id: int, appointment_id: int) -> HttpResponse:
    """A rep marks whether the lead came to a meeting that began (the Booking report counts the no-shows); a bad
    value or a meeting still ahead re-renders the lead page with the error (422)."""
    attendance = request.POST.get("attendance", "")

    def change(lead):
        appointment_attendance_mark(
            appointment_id=appointment_id, lead_id=lead.pk, user=request.user, attendance=attendance
        )

    try:
        return lead_change(request, lead_id, change)
    except Appointment.DoesNotExist:
        raise Http404("No such appointment for this lead.") from None
