"""How a reply about a time reads, in English and Spanish: which offered time, or what day and time, or cancel. Pure.

"Tuesday at 3 works", "the second one", "tomorrow morning?", "can we do Thursday instead?", "el martes a las 3",
"la segunda", "mañana por la mañana", "mejor el jueves". The day, the hour and the part of the day are found
separately (a date parser reading a whole message takes "Tuesday at 3" for the 3rd of a month): weekdays and
"today/tomorrow" are counted on the lead's clock here; a named date ("Dec 9", "9 de diciembre") is read by
dateparser, preferring the future, relative to the lead's own now. An hour without a.m./p.m. is the business
day's: 8 to 11 in the morning, 12 noon, 1 to 7 in the afternoon, unless the reply says which part of the day.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import dateparser

WEEKDAYS = {
    "en": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "es": ["lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"],
}
SHORT = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6}
ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1,
    "primer": 0, "primera": 0, "primero": 0, "segunda": 1, "segundo": 1, "tercera": 2, "tercero": 2, "tercer": 2,
    "ultima": -1, "ultimo": -1,
}  # fmt: skip
PARTS = {"morning": (5, 12), "afternoon": (12, 17), "evening": (17, 22)}
MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|"
    r"nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    r"noviembre|diciembre"
)
CANCEL = re.compile(
    r"\b(cancel\w*|call (?:it )?off|can'?t make it|cannot make it|won'?t make it|anul\w*|no (?:puedo|podre) ir)\b"
)
MOVE = re.compile(
    r"\b(instead|reschedul\w*|move (?:it|the)|another (?:day|time)|different (?:day|time)|push (?:it|the)|"
    r"en (?:vez|lugar)|cambi\w+|reprogram\w*|mejor (?:el|la|a las|otro)|otro dia|otra hora)\b"
)


@dataclass(frozen=True)
class Reading:
    """What a reply says about a time. ``intent``: "pick", "move", "cancel", or "" (nothing about a time).

    ``index``: an offered time by its place (0-based; -1 the last); ``day`` on the lead's clock; ``at`` a time of
    day, ``at_certain`` False when the reply gave an hour without a.m./p.m.; ``part``: morning, afternoon, evening.
    """

    intent: str = ""
    index: int | None = None
    day: date | None = None
    at: time | None = None
    at_certain: bool = True
    part: str = ""

    @property
    def names_a_time(self) -> bool:
        return self.index is not None or self.day is not None or self.at is not None or bool(self.part)


def _plain(text: str) -> str:
    """Lower case without accents: "Miércoles" and "miercoles" read alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def _part(plain: str) -> tuple[str, str]:
    """(part of the day, the text without it): "mañana" alone is tomorrow, "por la mañana" the morning."""
    for pattern, part in (
        (r"\b(?:in the |this |tomorrow )?morning\b|\b(?:por|en|de) la manana\b", "morning"),
        (r"\b(?:in the |this )?afternoon\b|\b(?:por|en|de) la tarde\b|\btarde\b", "afternoon"),
        (r"\b(?:in the |this )?evening\b|\btonight\b|\b(?:por|en|de) la noche\b", "evening"),
    ):
        found = re.search(pattern, plain)
        if found:
            keep = "tomorrow " if found.group(0).startswith("tomorrow") else " "
            return part, plain[: found.start()] + keep + plain[found.end() :]
    return "", plain


def _day(plain: str, today: date, language: str) -> date | None:
    if re.search(r"\b(day after tomorrow|pasado manana)\b", plain):
        return today + timedelta(days=2)
    if re.search(r"\b(today|hoy)\b", plain):
        return today
    if re.search(r"\b(tomorrow|manana)\b", plain):
        return today + timedelta(days=1)
    names = {name: i for names in WEEKDAYS.values() for i, name in enumerate(names)} | SHORT
    for word in re.findall(r"[a-z]+", plain):
        if word in names:
            ahead = (names[word] - today.weekday()) % 7
            if ahead == 0 and re.search(rf"\bnext {word}\b|\bel proximo {word}\b", plain):
                ahead = 7
            return today + timedelta(days=ahead)
    named = re.search(rf"\b(?:(?:{MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}} de (?:{MONTHS}))\b", plain)
    if named:
        base = datetime.combine(today, time(12))
        settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base}
        parsed = dateparser.parse(named.group(0), languages=[language, "en", "es"], settings=settings)
        if parsed is not None:
            return parsed.date()
    return None


def _hour(hour: int, minute: int, suffix: str, part: str) -> tuple[time | None, bool]:
    if not 0 <= minute < 60 or hour > 23:
        return None, True
    if suffix:
        if hour > 12 or hour == 0:
            return None, True
        pm = suffix.startswith("p")
        return time(hour % 12 + (12 if pm else 0), minute), True
    if hour > 12 or hour == 0:
        return time(hour, minute), True
    if part == "morning":
        return time(hour % 12, minute), True
    if part in ("afternoon", "evening"):
        return time(hour % 12 + 12, minute), True
    # The business day's reading of a bare hour: "at 3" is 15:00, "at 9" is 09:00.
    return time(hour + 12 if 1 <= hour <= 7 else hour, minute), False


def _at(plain: str, part: str) -> tuple[time | None, bool]:
    if re.search(r"\b(noon|mediodia)\b", plain):
        return time(12), True
    patterns = (
        r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\.?(?=\W|$)",
        r"\b(\d{1,2}):(\d{2})()\b",
        r"\b(?:at|@|around|a las|a la|sobre las)\s+(\d{1,2})(?:[.h](\d{2}))?()\b",
        r"\b(\d{1,2})(?:[.h](\d{2}))?()\s*(?:o'?clock|h\b)",
        r"^\s*(\d{1,2})(?::(\d{2}))?()\s+(?:works|is (?:good|fine|great|perfect)|me (?:va|sirve|viene))",
    )
    for pattern in patterns:
        found = re.search(pattern, plain)
        if found:
            hour, minute, suffix = int(found.group(1)), int(found.group(2) or 0), found.group(3) or ""
            if "y media" in plain[found.end() : found.end() + 10]:
                minute = 30
            return _hour(hour, minute, suffix, part)
    return None, True


def _index(plain: str) -> int | None:
    for word, index in ORDINALS.items():
        if re.search(rf"\b(?:the |la |el )?{word}(?: one| option| time| opcion| hora| uno| una)?\b", plain):
            return index
    option = re.search(r"\b(?:option|opcion|number|numero|#)\s*(\d)\b|^\s*#?(\d)\s*[.!?]*\s*$", plain)
    if option:
        return int(option.group(1) or option.group(2)) - 1
    return None


def reply_read(text: str, *, now: datetime, language: str = "en") -> Reading:
    """What ``text`` says about a time, read on the clock of ``now`` (the lead's local now, aware)."""
    plain = _plain(text)
    if CANCEL.search(plain):
        return Reading(intent="cancel")
    part, rest = _part(plain)
    at, certain = _at(rest, part)
    reading = Reading(
        index=_index(rest),
        day=_day(rest, now.date(), language if language in WEEKDAYS else "en"),
        at=at,
        at_certain=certain,
        part=part,
    )
    if not reading.names_a_time:
        return reading
    intent = "move" if MOVE.search(plain) else "pick"
    return Reading(intent, reading.index, reading.day, reading.at, reading.at_certain, reading.part)


def fits(reading: Reading, start: datetime, position: int, count: int) -> bool:
    """Whether the offered ``start`` (on the lead's clock) at ``position`` of ``count`` is what ``reading`` names."""
    if reading.index is not None:
        return position == (reading.index % count if reading.index < 0 else reading.index)
    if reading.day is not None and start.date() != reading.day:
        return False
    if reading.at is not None:
        hours = {reading.at.hour} if reading.at_certain else {reading.at.hour, (reading.at.hour + 12) % 24}
        if start.hour not in hours or start.minute != reading.at.minute:
            return False
    if reading.part:
        low, high = PARTS[reading.part]
        if not low <= start.hour < high:
            return False
    return True


def reading_window(reading: Reading, tz) -> tuple[datetime, datetime] | None:
    """The span of the lead's clock a reply names without an offered time ("Thursday", "tomorrow morning")."""
    if reading.day is None:
        return None
    if reading.at is not None:
        start = datetime.combine(reading.day, reading.at, tzinfo=tz)
        return start, start + timedelta(minutes=1)
    low, high = PARTS.get(reading.part, (0, 24))
    return (
        datetime.combine(reading.day, time(low), tzinfo=tz),
        datetime.combine(reading.day, time(0), tzinfo=tz) + timedelta(hours=high),
    )
