"""Normalizers for contact fields: pure functions, no ORM."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def normalize_phone(raw: str, *, region: str) -> str:
    """Return ``raw`` as E.164, or raise ValidationError saying why it is not a phone number."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        parsed = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"'{raw}' is not a phone number.") from exc
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(f"'{raw}' is not a valid phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """Return ``raw`` trimmed and lower-cased, or raise ValidationError when it is not an address."""
    value = (raw or "").strip().lower()
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
