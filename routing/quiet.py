"""Quiet hours that know the law: where a lead is, which rule applies, and the next minute a text may reach them.

Where: the lead's state from the ZIP (``Lead.region``, set by ``routing.services.lead_locate``), else the phone's
area code (phonenumbers' offline geocoder), else the strictest rule of the business's states (``BUSINESS_STATES``;
none set: the federal rule alone). Which rule: the federal one (the ``US`` row, 47 CFR 64.1200(c)(1)) narrowed by
the state's ``QuietHoursRule`` and by the channel's own window (``QuietHours``, else ``CADENCE_QUIET_HOURS``).
Windows are wall times on the lead's clock (``Lead.timezone``, else the area code's one zone, else ``TIME_ZONE``);
every instant taken and returned is aware, and stored in UTC. Each rule's source is in docs/quiet-hours.md.

The laws are about calls and texts: email steps keep their channel window only (routing.cadences.book).
The executor sits a floor below (approvals) and asks through the reaction ``approvals.reactions.ACTION_QUIET_HOURS``
(answered by ``action_quiet_hours``), since the rules, the holidays and the lead's clock all live here.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
import pycountry
from django.conf import settings
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

from approvals.models import Action, Workflow
from config.versions import SETTINGS_KEY, Snapshot
from leads.models import InboundEvent, Lead
from routing import timing
from routing.models import Holiday, QuietHours, QuietHoursRule
from routing.models.quiet import FEDERAL

# The channels the state laws govern; the others keep their channel window only.
LAW_CHANNELS = frozenset({"sms", "call"})
# 47 CFR 64.1200(c)(1): no telephone solicitation before 8 a.m. or after 9 p.m. at the called party's location.
# Used only if the admin deleted the "US" row: the federal law does not go away with it.
FEDERAL_WEEK = timing.Week.every_day(timing.Window.parse("08:00-21:00"))
# The geocoder's words that are not a subdivision's name ("Miami, FL" style ends in the state's abbreviation).
_PLACE_ALIASES = {"washington d.c.": "US-DC", "washington state": "US-WA"}
# How the state was found, when it was not from the ZIP: said in the hold's words.
WHENCE = {
    "area code": "; state from the area code",
    "business states": "; state unknown: the strictest of the business's states",
}


@dataclass(frozen=True)
class QuietBook:
    """Every rule's week by region, the business's holidays and the channels' windows: one snapshot."""

    rules: dict[str, timing.Week]
    holidays: frozenset[date]
    channel_windows: dict[str, timing.Window]


def _book_build() -> QuietBook:
    return QuietBook(
        rules={rule.region: rule.week() for rule in QuietHoursRule.objects.all()},
        holidays=frozenset(Holiday.objects.values_list("date", flat=True)),
        channel_windows={q.channel: timing.Window(q.allowed_from, q.allowed_until) for q in QuietHours.objects.all()},
    )


# Read for every text the executor claims: kept per process until a rule, a holiday or a window is edited.
QUIET = Snapshot(SETTINGS_KEY, _book_build, (QuietHoursRule, Holiday, QuietHours))


@dataclass(frozen=True)
class Place:
    """Where the lead is for the law: one state, several (the business's, when unknown), or none (federal only)."""

    regions: tuple[str, ...]
    source: str  # "ZIP", "area code", "business states", "unknown"

    @property
    def region(self) -> str:
        return ",".join(self.regions) or FEDERAL

    @property
    def label(self) -> str:
        """'FL', 'CT/FL' or 'the US': the words of 'held for quiet hours in FL'."""
        return "/".join(r.removeprefix("US-") for r in self.regions) or "the US"


@dataclass(frozen=True)
class QuietVerdict:
    """May a message the business starts reach the lead now; if not, ``until`` is the next allowed instant (UTC)."""

    allowed: bool
    until: datetime | None
    region: str
    why: str


@cache
def _us_subdivisions() -> dict[str, str]:
    return {s.name.lower(): s.code for s in pycountry.subdivisions.get(country_code="US")}


def _parsed(phone: str):
    try:
        return phonenumbers.parse(phone, settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=4096)
def region_for_phone(phone: str) -> str:
    """'US-FL' for a Florida area code, from phonenumbers' offline geocoder; '' when it cannot tell."""
    number = _parsed(phone)
    if number is None or phonenumbers.region_code_for_number(number) != "US":
        return ""
    words = geocoder.description_for_number(number, "en").strip().lower()
    state = words.rpartition(",")[2].strip()
    if len(state) == 2 and f"US-{state.upper()}" in _us_subdivisions().values():
        return f"US-{state.upper()}"  # "New York, NY"
    return _us_subdivisions().get(words) or _PLACE_ALIASES.get(words, "")


@lru_cache(maxsize=4096)
def time_zone_for_phone(phone: str) -> str:
    """The phone's time zone when its area code has exactly one (a Florida 305: America/New_York), else ''."""
    number = _parsed(phone)
    zones = phone_timezone.time_zones_for_number(number) if number is not None else ()
    return zones[0] if len(zones) == 1 and zones[0] != phone_timezone.UNKNOWN_TIMEZONE else ""


def business_states() -> tuple[str, ...]:
    """settings.BUSINESS_STATES as ISO codes ('FL' or 'US-FL' → 'US-FL'), sorted."""
    codes = {code.strip().upper() for code in settings.BUSINESS_STATES if code.strip()}
    return tuple(sorted(code if code.startswith("US-") else f"US-{code}" for code in codes))


def lead_place(lead: Lead) -> Place:
    """The lead's state for the law: the ZIP's, else the area code's, else the business's states (the strictest)."""
    if lead.region:
        return Place((lead.region.upper(),), "ZIP")
    by_phone = region_for_phone(lead.phone) if lead.phone else ""
    if by_phone:
        return Place((by_phone,), "area code")
    states = business_states()
    return Place(states, "business states" if states else "unknown")


def lead_clock(lead: Lead) -> ZoneInfo:
    """The lead's clock: its time zone (from the ZIP), else the area code's only zone, else the business's."""
    return ZoneInfo(lead.timezone or (time_zone_for_phone(lead.phone) if lead.phone else "") or settings.TIME_ZONE)


def law_week(place: Place, book: QuietBook) -> timing.Week:
    """The federal rule narrowed by each of ``place``'s states that has a rule (a state without one: federal only)."""
    week = book.rules.get(FEDERAL, FEDERAL_WEEK)
    for region in place.regions:
        week = week.stricter(book.rules.get(region, week))
    return week


def channel_window(channel: str, book: QuietBook) -> timing.Window:
    """The business's own window for ``channel`` (a Quiet hours row, else CADENCE_QUIET_HOURS)."""
    return book.channel_windows.get(channel) or timing.Window.parse(settings.CADENCE_QUIET_HOURS)


def allowed_week(place: Place, window: timing.Window | None, book: QuietBook) -> timing.Week:
    """The law's week narrowed by the channel's window; where the two never meet, the law alone (it always wins)."""
    law = law_week(place, book)
    if law.never_open:  # business states whose rules never overlap: the federal rule is all that is certain
        law = book.rules.get(FEDERAL, FEDERAL_WEEK)
    both = law.stricter(timing.Week.every_day(window)) if window is not None else law
    return law if both.never_open else both


def quiet_slot(
    moment: datetime,
    lead: Lead,
    *,
    window: timing.Window | None,
    holidays=None,
    business_days_only: bool = False,
    book: QuietBook | None = None,
) -> datetime:
    """For a cadence's SMS or call step: the first instant at or after ``moment`` the law and ``window`` allow.

    On the lead's clock (``lead_clock``); ``holidays`` default to the business's. When nothing opens within a year
    (a rule closed on every business day), a day later: the sweep asks again then, and nothing goes meanwhile.
    """
    book = book or QUIET.get()
    holidays = book.holidays if holidays is None else holidays
    week = allowed_week(lead_place(lead), window, book)
    slot = timing.next_open(
        moment, tz=lead_clock(lead), week=week, holidays=holidays, business_days_only=business_days_only
    )
    return slot if slot is not None else moment + timedelta(days=1)


def quiet_verdict(lead: Lead, moment: datetime, *, channel: str = "sms", book: QuietBook | None = None) -> QuietVerdict:
    """Whether a message the business starts on ``channel`` may reach ``lead`` at ``moment`` (aware, any zone).

    Held: ``until`` is the next allowed minute (UTC) and ``why`` reads 'held for quiet hours in FL until 08:00 on
    Sat Dec 5 (the lead's clock, America/New_York)'.
    """
    book = book or QUIET.get()
    place, tz = lead_place(lead), lead_clock(lead)
    week = allowed_week(place, channel_window(channel, book), book)
    slot = timing.next_open(moment, tz=tz, week=week, holidays=book.holidays)
    if slot == moment:
        return QuietVerdict(True, None, place.region, f"inside the allowed hours in {place.label}")
    whence = WHENCE.get(place.source, "")
    if slot is None:
        until = moment + timedelta(days=1)
        why = f"held for quiet hours in {place.label}: no allowed hour within a year, check the quiet-hours rules"
        return QuietVerdict(False, until.astimezone(UTC), place.region, why)
    local = slot.astimezone(tz)
    why = (
        f"held for quiet hours in {place.label} until {local:%H:%M} on {local:%a %b} {local.day}"
        f" (the lead's clock, {tz.key}{whence})"
    )
    return QuietVerdict(False, slot.astimezone(UTC), place.region, why)


def last_heard(lead: Lead) -> datetime | None:
    """When the person last wrote or called us (their latest inbound event)."""
    return InboundEvent.objects.filter(lead=lead).order_by("-received_at").values_list("received_at", flat=True).first()


def send_verdict(
    lead: Lead, moment: datetime, *, workflow: str, channel: str = "sms", heard: datetime | None = None
) -> QuietVerdict:
    """``quiet_verdict`` with the exemptions: the opt-out's confirmation, and a direct reply to the person's message.

    A message within QUIET_HOURS_REPLY_MINUTES of the person's own latest message answers them: they are awake
    and asked. The opt-out confirmation must go within the FCC's five minutes (47 CFR 64.1200(a)(10)).
    """
    if workflow == Workflow.OPT_OUT_CONFIRMATION:
        return QuietVerdict(True, None, "", "the opt-out's one confirmation goes at once (the FCC allows five minutes)")
    if not settings.QUIET_HOURS_ENFORCED:
        return QuietVerdict(True, None, "", "quiet hours are switched off (QUIET_HOURS_ENFORCED)")
    minutes = settings.QUIET_HOURS_REPLY_MINUTES
    # ``heard``: a message of theirs the caller holds (the event an answer answers): recent enough, it settles the
    # exemption without reading their latest message.
    if heard is None or moment - heard > timedelta(minutes=minutes):
        heard = last_heard(lead)
    if heard is not None and timedelta(0) <= moment - heard <= timedelta(minutes=minutes):
        return QuietVerdict(True, None, "", f"a direct reply within {minutes} minutes of the person's own message")
    return quiet_verdict(lead, moment, channel=channel)


def action_quiet_hours(*, action, now: datetime) -> QuietVerdict:
    """Receiver of approvals.reactions.ACTION_QUIET_HOURS: may the executor send ``action`` to its lead ``now``."""
    event = action.event if Action.event.is_cached(action) else None
    heard = event.received_at if event is not None else None
    return send_verdict(action.lead, now, workflow=action.workflow, channel=action.channel, heard=heard)
