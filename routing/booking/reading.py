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
# Cancelling needs its object: "cancel my appointment", "cancélala", "can't make it"; never "cancellation policy".
CANCEL = re.compile(
    r"\b(?:cancel(?:led|ed|ling|ing)?|call off|anul(?:ar|a|e|o))\s+(?:(?:my|the|our|this|that|la|mi|nuestra|esta|"
    r"el|mis)\s+)?(?:appointment|meeting|visit|estimate|booking|it|cita|reunion|visita)\b|"
    r"\b(?:call (?:it|the \w+) off|can'?t make it|cannot make it|won'?t make it|no (?:puedo|podre) ir|"
    r"cancel(?:ar|a|e)(?:la|lo)?|cancel(?:a|e)mos)\b"
)
MOVE = re.compile(
    r"\b(instead|reschedul\w*|move (?:it|the)|another (?:day|time)|different (?:day|time)|push (?:it|the)|"
    r"en (?:vez|lugar)|cambi\w+|reprogram\w*|mejor (?:el|la|a las|otro)|otro dia|otra hora)\b"
)


# "Good morning" greets, it does not name a morning.
GREETING = re.compile(r"\b(?:good|buen[oa]s?) (?:morning|afternoon|evening|night|dias?|tardes?|noches?)\b")
# A clause saying a time does not work: it names the time to avoid, not the one to book.
NEGATION = re.compile(
    r"\b(?:can'?t|cannot|can not|couldn'?t|won'?t|don'?t|doesn'?t|isn'?t|not|no (?:puedo|podre|podemos|puede)|"
    r"no me (?:sirve|va|viene|queda)|tampoco)\b"
)
# Where one clause ends and the next begins: "I can't make it Tuesday, can we do Thursday at 3?".
CLAUSE = re.compile(r"[.;!?\n]+|,|\b(?:but|pero|mejor|instead|how about|what about)\b")
QUESTION_WORDS = re.compile(
    r"^\s*(?:how|what|why|who|where|do you|does|is there|are you|can you|could you|cuant[oa]s?|por que|tienen|"
    r"hay)\b"
)
# An email reply quotes the message it answers: "> To move or cancel, reply here", "On Tue, … wrote:".
QUOTED = re.compile(
    r"^\s*>.*$|^\s*(?:on .{0,120} wrote|el .{0,120} escribio):\s*$[\s\S]*|^-{2,}\s*original message[\s\S]*",
    re.MULTILINE,
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
    asks: bool = False  # the reply also asks something that is not about a time ("how much for a roof?")

    @property
    def names_a_time(self) -> bool:
        return self.index is not None or self.day is not None or self.at is not None or bool(self.part)

    @property
    def unsure(self) -> bool:
        """Too weak to act on alone: it also asks something, or names only a part of the day ("this morning")."""
        return self.asks or (self.index is None and self.day is None and self.at is None and bool(self.part))


def _plain(text: str) -> str:
    """Lower case without accents: "Miércoles" and "miercoles" read alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def _part(plain: str) -> tuple[str, str]:
    """(part of the day, the text without it): "mañana" alone is tomorrow, "por la mañana" the morning."""
    for pattern, part in (
        (r"\b(?:in the |this |tomorrow )?morning\b|\b(?:por|en|de) la manana\b", "morning"),
        (r"\b(?:in the |this )?afternoon\b|\b(?:por|en|de) la tarde\b", "afternoon"),
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
    names = {name: i for names in WEEKDAYS.values() for i, name in enumerate(names)}
    for word in re.findall(r"[a-z]+", plain):
        # "Sun Valley Rd", "I sat down": a short name is a day only beside a time or after "next".
        short = word in SHORT and re.search(
            rf"\bnext {word}\b|\b{word}\.?,? (?:at |@ ?)?\d|\b{word}\.? (?:morning|afternoon|evening)\b", plain
        )
        if word in names or short:
            weekday = names[word] if word in names else SHORT[word]
            ahead = (weekday - today.weekday()) % 7
            if ahead == 0 and re.search(rf"\bnext {word}\b|\bel proximo {word}\b", plain):
                ahead = 7
            return today + timedelta(days=ahead)
    named = re.search(
        rf"\b(?:(?:{MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)? of (?:{MONTHS})|"
        rf"\d{{1,2}} de (?:{MONTHS}))\b",
        plain,
    )
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
    """An offered time by its place: "the second one", "option 2", "#2", "la segunda", or a reply that is only
    that ("2", "second"). An ordinal inside a sentence ("first time customer", "the 2nd floor", "last year") is not."""
    ordinal = "|".join(ORDINALS)
    for pattern in (
        rf"\b(?:the|la|el) ({ordinal}) (?:one|option|time slot|opcion|uno|una)\b",
        rf"\b(?:the|la|el) ({ordinal})\s*(?:[.!,]|$|works|is (?:good|fine|great|perfect)|please|me (?:va|sirve|viene)"
        rf"|por favor)",
        rf"^\s*({ordinal})(?: one| option| opcion| uno| una)?(?: please| por favor)?\s*[.!]*\s*$",
    ):
        found = re.search(pattern, plain)
        if found:
            return ORDINALS[found.group(1)]
    option = re.search(r"\b(?:option|opcion|number|numero|#)\s*(\d)\b|^\s*#?(\d)\s*[.!?]*\s*$", plain)
    if option:
        return int(option.group(1) or option.group(2)) - 1
    return None


def _times(plain: str, today: date, language: str) -> Reading:
    part, rest = _part(plain)
    at, certain = _at(rest, part)
    return Reading(index=_index(rest), day=_day(rest, today, language), at=at, at_certain=certain, part=part)


def _asks(clause: str, reading: Reading) -> bool:
    """A question in the reply that is not about a time ("how much for a roof?"); "tomorrow morning?" is about one."""
    return (clause.rstrip().endswith("?") or bool(QUESTION_WORDS.search(clause))) and not reading.names_a_time


def reply_read(text: str, *, now: datetime, language: str = "en") -> Reading:
    """What ``text`` says about a time, read on the clock of ``now`` (the lead's local now, aware).

    Quoted history of an email reply is not read. A clause that says a time does not work ("can't do Tuesday",
    "hoy no puedo") names no pick: with a time named elsewhere the reply moves there, else its intent is "decline".
    A move to a named time wins over a cancel ("I can't make it Tuesday, can we do Thursday at 3?"); a cancel needs
    its object ("cancel my appointment") and is never a question ("what's your cancellation policy?").
    """
    plain = QUOTED.sub("", _plain(text)).strip()
    plain = GREETING.sub(" ", plain)
    language = language if language in WEEKDAYS else "en"
    clauses = [c for c in re.split(r"(?<=[.;!?\n,])", plain) if c.strip()] or [plain]
    asks = any(_asks(c, _times(c, now.date(), language)) for c in clauses)
    kept, declined = [], False
    for clause in (c for c in CLAUSE.split(plain) if c.strip()):
        if NEGATION.search(clause):
            declined = declined or _times(clause, now.date(), language).names_a_time
        else:
            kept.append(clause)
    reading = _times(" , ".join(kept), now.date(), language)
    question = "?" in plain or any(QUESTION_WORDS.search(c) for c in clauses)
    if reading.names_a_time:
        intent = "move" if MOVE.search(plain) or declined else "pick"
        return Reading(intent, reading.index, reading.day, reading.at, reading.at_certain, reading.part, asks)
    if CANCEL.search(plain) and not question:
        return Reading(intent="cancel")
    if declined:
        return Reading(intent="decline", asks=asks)
    return Reading(asks=asks)


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
