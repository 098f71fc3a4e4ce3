"""Enrichment: what can be inferred about a lead, each fact with its source; what the person said is never overwritten.

Providers are classes named in ``settings.ENRICHMENT_PROVIDERS``; each returns {field: value}
from what it can read. Lead columns (company, timezone, country, region) are filled only when
empty; everything found is kept in ``Lead.enrichment`` with its source. Region and time zone
from a postal code are not an enricher's: ``routing.services.lead_locate`` derives them from
what the person typed, before enrichment, so a ZIP's time zone beats a phone's area code.
"""

import logging
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.utils.module_loading import import_string
from phonenumbers import PhoneNumberType, carrier, geocoder
from phonenumbers import timezone as phone_timezone

from leads.normalize import FREE_EMAIL_DOMAINS

logger = logging.getLogger(__name__)

PHONE_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
}
# Columns of Lead that enrichment may fill when they are empty.
LEAD_COLUMNS = ("company", "timezone", "country", "region")
COMPANY_SUFFIXES = {"co", "inc", "llc", "ltd", "corp", "group", "hq"}


@dataclass(frozen=True)
class ContactFacts:
    """What an enricher may read: the lead's own contact fields."""

    phone: str
    email: str
    postal_code: str
    country: str


class EnrichmentError(Exception):
    """An enricher's outside service failed; the others still run."""


class PhoneNumberEnricher:
    """Line type, region, carrier and time zone from the phone number's numbering plan (phonenumbers)."""

    source = "phonenumbers"

    def enrich(self, facts: ContactFacts) -> dict:
        if not facts.phone:
            return {}
        try:
            number = phonenumbers.parse(facts.phone, None)
        except phonenumbers.NumberParseException:
            return {}
        found = {
            "phone_type": PHONE_TYPES.get(phonenumbers.number_type(number), "unknown"),
            "country": phonenumbers.region_code_for_number(number) or "",
            "phone_location": geocoder.description_for_number(number, "en"),
            "carrier": carrier.name_for_number(number, "en"),
        }
        zones = [z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
        if len(zones) == 1:
            found["timezone"] = zones[0]
        return {k: v for k, v in found.items() if v}


class EmailDomainEnricher:
    """A company name from a business email domain; free-mail domains say nothing about a company."""

    source = "email domain"

    def enrich(self, facts: ContactFacts) -> dict:
        domain = facts.email.rpartition("@")[2].lower()
        if not domain or domain in FREE_EMAIL_DOMAINS:
            return {}
        labels = domain.split(".")
        # "mail.acme-roofing.co.uk" → "acme-roofing": the label before the public suffix.
        core = labels[-3] if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else labels[-2]
        words = [w for w in core.replace("_", "-").split("-") if w]
        name = " ".join(w.upper() if w in COMPANY_SUFFIXES else w.capitalize() for w in words)
        return {"company": name, "company_domain": domain} if name else {}


class TwilioLookupEnricher:
    """Line type and carrier from Twilio Lookup v2 (a paid call; enable it in ENRICHMENT_PROVIDERS)."""

    source = "twilio lookup"

    def enrich(self, facts: ContactFacts) -> dict:
        if not facts.phone:
            return {}
        from twilio.base.exceptions import TwilioException

        from integrations.twilio_client import twilio_client

        try:
            result = twilio_client().lookups.v2.phone_numbers(facts.phone).fetch(fields="line_type_intelligence")
        except TwilioException as exc:
            raise EnrichmentError(f"Twilio Lookup failed: {exc}") from exc
        line = result.line_type_intelligence or {}
        found = {"phone_type": line.get("type") or "", "carrier": line.get("carrier_name") or ""}
        if result.country_code:
            found["country"] = result.country_code
        return {k: v for k, v in found.items() if v}


def enrichers() -> list:
    return [import_string(path)() for path in settings.ENRICHMENT_PROVIDERS]


def enrichment_compute(facts: ContactFacts) -> tuple[dict, list[str]]:
    """Ask every configured enricher; later ones don't replace what an earlier one found. Returns (found, errors)."""
    found: dict[str, dict] = {}
    errors = []
    for enricher in enrichers():
        try:
            values = enricher.enrich(facts)
        except EnrichmentError as exc:
            logger.warning("enrichment.failed", extra={"source": enricher.source, "error": str(exc)[:300]})
            errors.append(str(exc))
            continue
        for name, value in values.items():
            found.setdefault(name, {"value": value, "source": enricher.source})
    return found, errors
