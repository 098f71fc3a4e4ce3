"""Normalizers for contact fields: pure functions, no ORM.

Every door (API, form, chat, SMS, mail, ad sources, webhooks) and every lookup by address (consent, privacy,
the manager's correction) goes through ``normalize_phone`` and ``normalize_email``, so a value pasted with
invisible characters, or a number written the way its country writes it, is read the same everywhere and
deduplicates to the same lead.
"""

import unicodedata
from collections.abc import Sequence

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Characters that show as nothing but are not Unicode "format" (Cf) characters: variation selectors (U+FE0F
# follows digits turned into emoji keycaps on phones), the combining grapheme joiner and the Hangul fillers.
_INVISIBLE_MARKS = frozenset(
    [chr(c) for c in range(0xFE00, 0xFE10)]
    + [chr(c) for c in range(0xE0100, 0xE01F0)]
    + ["\u034f", "\u115f", "\u1160", "\u3164", "\uffa0"]
)


def contact_text(raw: str) -> str:
    """``raw`` without the invisible characters copy and paste carries, trimmed: for phones and emails only.

    Dropped: every Unicode format character (category Cf: zero-width space U+200B, joiners U+200C/D, the
    word joiner U+2060, the BOM U+FEFF, the bidi marks U+200E/F, embeddings U+202A–U+202E and isolates
    U+2066–U+2069, the soft hyphen) and the marks in ``_INVISIBLE_MARKS``. Space separators (no-break space
    U+00A0, narrow no-break U+202F, figure space U+2007…) and line separators become a plain space. Names and
    messages are never passed through this: they are kept as the person wrote them.
    """
    raw = raw or ""
    if raw.isascii():
        return raw.strip()
    kept = []
    for char in raw:
        category = unicodedata.category(char)
        if category == "Cf" or char in _INVISIBLE_MARKS:
            continue
        kept.append(" " if category in ("Zs", "Zl", "Zp") else char)
    return "".join(kept).strip()


# Country-code TLDs sold and used as generic ones (Google Search Central's list of "generic ccTLDs", plus .ai):
# an address there says nothing about where its owner's phone is.
GENERIC_CCTLDS = frozenset(
    {
        "ad",
        "ai",
        "as",
        "bz",
        "cc",
        "cd",
        "co",
        "dj",
        "fm",
        "io",
        "la",
        "me",
        "ms",
        "nu",
        "sc",
        "sr",
        "su",
        "tk",
        "tv",
        "ws",
    }
)
# The few TLDs and loose country words that are not their ISO 3166 code.
_REGION_ALIASES = {"UK": "GB"}


def _phone_region(code: str) -> str:
    code = _REGION_ALIASES.get(code.strip().upper(), code.strip().upper())
    return code if len(code) == 2 and phonenumbers.country_code_for_region(code) else ""


def email_region(email: str) -> str:
    """The phone region an address's country-code TLD suggests (``x@y.co.uk`` -> "GB", ``.de`` -> "DE"), or ""
    for a generic TLD (.com, .org, .io…) or anything that is not a region phonenumbers knows."""
    tld = email.rpartition("@")[2].rstrip(".").rpartition(".")[2].lower()
    if len(tld) != 2 or tld in GENERIC_CCTLDS:
        return ""
    return _phone_region(tld)


def phone_regions(*, country: str = "", email: str = "", default: str = "") -> tuple[str, ...]:
    """The regions to read a nationally written number in, strongest evidence first: the country the event
    gave (a form field, an ad's locale), then the email's country-code TLD, then ``default`` (the business's
    DEFAULT_PHONE_REGION). Unknown codes and repeats are left out. A number in international form (+44…) is
    read the same whatever the region."""
    ordered: list[str] = []
    for candidate in (_phone_region(country or ""), email_region(email or ""), _phone_region(default or "")):
        if candidate and candidate not in ordered:
            ordered.append(candidate)
    return tuple(ordered)


def normalize_phone(raw: str, *, region: str = "", regions: Sequence[str] = ()) -> str:
    """Return ``raw`` as E.164, or raise ValidationError saying why it is not a phone number.

    A national number is tried in each of ``regions`` in order (else in ``region``), and the first region in
    which it is a valid number (phonenumbers' metadata, from ITU-T E.164 and the national numbering plans)
    wins. "" stays "".
    """
    raw = contact_text(raw)
    if not raw:
        return ""
    tried = [r for r in (regions or (region,)) if r] or [None]
    parsed_once = False
    for candidate in tried:
        try:
            parsed = phonenumbers.parse(raw, candidate)
        except phonenumbers.NumberParseException:
            continue
        parsed_once = True
        if phonenumbers.is_possible_number(parsed) and phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not parsed_once:
        raise ValidationError(f"'{raw}' is not a phone number.")
    where = f" (read as a number in {', '.join(tried)})" if len(tried) > 1 else ""
    raise ValidationError(f"'{raw}' is not a valid phone number{where}.")


def normalize_email(raw: str) -> str:
    """Return ``raw`` without invisible characters, trimmed and lower-cased, or raise ValidationError when it
    is not an address (Django's validate_email, RFC 5321/5322's common forms)."""
    value = contact_text(raw).lower()
    if not value:
        return ""
    validate_email(value)
    return value


def mask_phone(phone: str) -> str:
    """Phone for logs: enough to tell numbers apart, not enough to dial."""
    return f"{phone[:3]}…{phone[-2:]}" if len(phone) > 5 else "…"


# Personal mailbox providers: a shared domain here says nothing about a shared account.
FREE_EMAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "gmail.com",
        "googlemail.com",
        "gmx.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mail.com",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "yahoo.com",
        "yandex.com",
        "zoho.com",
    }
)
