"""A caller's ID as Twilio Voice sends it in ``From``: a number we can call back, or why there is none."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from leads.normalize import normalize_phone

# Twilio's forms of a withheld caller ID. Carriers flag the call ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN or
# UNAVAILABLE; Twilio has sent these words spelled on a phone keypad as the number (help.twilio.com, "Why am
# I getting calls from these strange numbers?"), and since its 2022-11 change keeps the words themselves
# ("Upcoming changes to withheld caller ID behavior for <Dial> calls"). Other carriers and SIP trunks say
# "private" or "withheld"; an empty From is a caller ID nobody sent.
WITHHELD_KEYPAD = {
    "266696687": "anonymous",
    "7378742833": "restricted",
    "2562533": "blocked",
    "8656696": "unknown",
    "86282452253": "unavailable",
}
WITHHELD_WORDS = frozenset({*WITHHELD_KEYPAD.values(), "private", "withheld", "anonymous caller", "unknown caller"})


@dataclass(frozen=True)
class CallerId:
    """``number`` in E.164, or "" with ``missing`` saying why: "withheld", or "unusable" (not a phone number)."""

    number: str
    raw: str
    missing: str = ""

    @property
    def label(self) -> str:
        """How a person reads the caller with no number: "Unknown caller (withheld number)"."""
        if self.missing == "withheld":
            return "Unknown caller (withheld number)"
        return f"Unknown caller ({self.raw[:40]})" if self.missing else self.number


def caller_id_read(raw: str | None, *, region: str) -> CallerId:
    """Read Twilio's ``From`` for an inbound call (case, spaces and a leading ``+`` do not matter).

    A withheld form (above) or an empty value is "withheld"; anything else that is not a valid phone
    number (a SIP URI, ``client:alice``, a short code) is "unusable": neither can be called or texted back.
    """
    raw = (raw or "").strip()
    word = " ".join(raw.lower().split())
    if not word or word in WITHHELD_WORDS or word.lstrip("+") in WITHHELD_KEYPAD:
        return CallerId(number="", raw=raw, missing="withheld")
    try:
        return CallerId(number=normalize_phone(raw, region=region), raw=raw)
    except ValidationError:
        return CallerId(number="", raw=raw, missing="unusable")
