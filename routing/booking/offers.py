"""Times offered to a lead: the offer row, the words (English or Spanish, on the lead's clock) and the signed link.

The link is ``/book/<token>/``: the offer's id and its expiry, signed with the site's SECRET_KEY
(django.core.signing), so it needs no login, cannot be altered, and stops working at the expiry it carries.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from routing.booking.slots import Slot
from routing.models import BookingOffer, BookingType

SALT = "routing.booking.link"
LANGUAGES = ("en", "es")
# The Spanish words avoid letters GSM-7 lacks (á, í, ó, ú) where the sentence allows: one makes a text UCS-2, at
# 67 characters a segment instead of 153 (integrations.sms_segments); letters themselves are never respelled.
DAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "es": ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
}
MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
}
WORDS = {
    "en": {
        "offer": "I can do {times}. Which works for you? Or pick a time here: {link}",
        "or": " or ",
        "booked": "You're booked: {when} with {rep} ({where}). To move or cancel, reply here or use {link}",
        "moved": "Done, moved to {when} with {rep} ({where}). To change it again: {link}",
        "cancelled": "Your appointment on {when} is cancelled. Whenever you want a new time: {link}",
        "taken": "Sorry, that time was just taken. I can do {times} instead; which works? Or: {link}",
        "nothing": "I have nothing open then. The next open times are {times}; which works? Or: {link}",
        "clarify": "Just to be sure: {times}? Or pick here: {link}",
        "today": "today",
        "tomorrow": "tomorrow",
    },
    "es": {
        "offer": "Puedo {times}. ¿Le viene bien alguna? O elija una hora en: {link}",
        "or": " o ",
        "booked": "Listo: {when} con {rep} ({where}). Para cambiar o cancelar, responda a este mensaje o use {link}",
        "moved": "Hecho, cambiado a {when} con {rep} ({where}). Para cambiarlo otra vez: {link}",
        "cancelled": "Su cita del {when} queda cancelada. Cuando quiera otra hora: {link}",
        "taken": "Lo siento, esa hora se acaba de ocupar. Puedo {times}; ¿le viene bien alguna? O: {link}",
        "nothing": "No tengo nada libre entonces. Las siguientes horas libres son {times}; ¿le viene bien alguna? "
        "O: {link}",
        "clarify": "Para confirmar: ¿{times}? O elija en: {link}",
        "today": "hoy",
        "tomorrow": "mañana",
    },
}


class LinkInvalid(Exception):
    """The link was altered or cut short: its signature does not hold."""


class LinkExpired(Exception):
    """The link's time is over (``BookingType.link_days`` after it was sent)."""


def lead_language(lead: Lead) -> str:
    """The language the lead writes in (the qualification's reading), if we write it; else English."""
    language = (lead.qualification or {}).get("language", "")
    return language if language in LANGUAGES else "en"


def lead_zone(lead: Lead):
    try:
        return ZoneInfo(lead.timezone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def when_text(start: datetime, tz, language: str, now: datetime | None = None) -> str:
    """ "Tue Dec 8 at 3:00 PM" / "el mar 8 dic a las 15:00", on the clock ``tz``.

    Only a page drawn at ``now`` says "today"/"tomorrow": a message may be read (or approved, or held by quiet
    hours) on another day, so its words carry the date itself."""
    local = start.astimezone(tz)
    today = now.astimezone(tz).date() if now is not None else None
    words = WORDS[language]
    if today is not None and local.date() == today:
        day = words["today"]
    elif today is not None and local.date() == today + timedelta(days=1):
        day = words["tomorrow"]
    elif language == "es":
        day = f"el {DAYS['es'][local.weekday()]} {local.day} {MONTHS['es'][local.month - 1]}"
    else:
        day = f"{DAYS['en'][local.weekday()]} {MONTHS['en'][local.month - 1]} {local.day}"
    if language == "es":
        return f"{day} a las {local:%H:%M}"
    hour = local.hour % 12 or 12
    return f"{day} at {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def times_text(starts: list[datetime], tz, language: str) -> str:
    named = [when_text(s, tz, language) for s in starts]
    if len(named) < 2:
        return "".join(named)
    return ", ".join(named[:-1]) + WORDS[language]["or"] + named[-1]


def offer_create(lead: Lead, booking_type: BookingType, slots: list[Slot], *, language: str) -> BookingOffer:
    """A new open offer of ``slots`` to ``lead`` (earlier open offers close: the lead answers the latest)."""
    BookingOffer.objects.filter(lead=lead, status=BookingOffer.Status.OPEN).update(
        status=BookingOffer.Status.CLOSED, updated_at=timezone.now()
    )
    return BookingOffer.objects.create(
        lead=lead,
        booking_type=booking_type,
        slots=[s.start.isoformat() for s in slots],
        language=language,
        expires_at=timezone.now() + timedelta(days=booking_type.link_days),
    )


def link_for(offer: BookingOffer) -> str:
    """The public self-scheduling link of ``offer``: signed, expiring with the offer."""
    token = signing.dumps({"o": offer.pk, "e": int(offer.expires_at.timestamp())}, salt=SALT, compress=True)
    return settings.PUBLIC_BASE_URL + reverse("booking-link", args=[token])


def link_read(token: str, *, now: datetime | None = None) -> BookingOffer:
    """The offer a link names; LinkInvalid when it was altered or names none, LinkExpired once its time is over."""
    try:
        data = signing.loads(token, salt=SALT)
        offer_id, expires = int(data["o"]), int(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("This link is not valid.") from None
    if (now or timezone.now()).timestamp() >= expires:
        raise LinkExpired("This link has expired.")
    offer = BookingOffer.objects.select_related("lead", "booking_type", "appointment").filter(pk=offer_id).first()
    if offer is None:
        raise LinkInvalid("This link is not valid.")
    return offer


def words(language: str, key: str, **values) -> str:
    return WORDS[language][key].format(**values)
