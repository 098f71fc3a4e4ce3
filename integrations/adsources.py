"""Ad lead forms and marketplaces: Facebook Lead Ads, Google Ads lead forms, and generic JSON sources.

``source_receive`` checks a delivery against its LeadSource's secret and splits it into one
stored InboundWebhook per lead; the parsers below turn each stored row into a capture in the
task (Facebook's asks the Graph API for the lead's answers, so it never runs in the request).
"""

import hashlib
import json
import logging
from dataclasses import dataclass, replace

import requests
from django.conf import settings
from django.core.cache import cache

from integrations.adforms import FormReading, country_code, facebook_reading, google_reading
from integrations.fieldmap import CONTACT_FIELDS, MAPPED_FIELDS, field_map_read
from integrations.inbound import Ignored, parser_register, webhook_receive
from integrations.models import InboundWebhook, LeadSource
from integrations.signatures import hmac_sha256, hub_signature_valid, secret_equal
from leads.services import CaptureEvent

logger = logging.getLogger(__name__)


class Refused(Exception):
    """The delivery does not come from the source (bad signature or key) or is not its shape: nothing is stored."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Delivery:
    """One lead in a source's request: its id at the source and what to store."""

    external_id: str
    payload: dict


def _facebook(source: LeadSource, body: bytes, headers) -> list[Delivery]:
    if not hub_signature_valid(source.secret, body, headers.get("X-Hub-Signature-256", "")):
        raise Refused("bad or missing X-Hub-Signature-256")
    data = _json(body)
    if data.get("object") != "page":
        raise Refused("not a page webhook (object must be 'page')", status=400)
    changes = [c for entry in data.get("entry", []) for c in entry.get("changes", []) if c.get("field") == "leadgen"]
    return [
        Delivery(str(c["value"]["leadgen_id"]), c["value"]) for c in changes if c.get("value", {}).get("leadgen_id")
    ]


def _google(source: LeadSource, body: bytes, headers) -> list[Delivery]:
    data = _json(body)
    if not secret_equal(source.secret, str(data.get("google_key", ""))):
        raise Refused("google_key does not match this source's key")
    if not data.get("lead_id"):
        raise Refused("lead_id is missing", status=400)
    return [Delivery(str(data["lead_id"]), data)]


def _generic(source: LeadSource, body: bytes, headers) -> list[Delivery]:
    signature = headers.get("X-Signature-256", "")
    signed = signature and secret_equal(f"sha256={hmac_sha256(source.secret, body)}", signature)
    if not (signed or secret_equal(source.secret, headers.get("X-Nightshift-Secret", ""))):
        raise Refused("bad or missing X-Nightshift-Secret / X-Signature-256")
    data = _json(body)
    leads = data if isinstance(data, list) else [data]
    path = source.field_map.get("external_id")
    out = []
    for item in leads:
        if not isinstance(item, dict):
            raise Refused("each lead must be a JSON object", status=400)
        found = field_map_read({"external_id": path}, item)["external_id"] if path else ""
        # Without an id at the source, the same body twice is the same lead.
        key = str(found) or hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
        out.append(Delivery(key, item))
    return out


SPLITTERS = {LeadSource.Kind.FACEBOOK: _facebook, LeadSource.Kind.GOOGLE: _google, LeadSource.Kind.GENERIC: _generic}


def _json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(f"body is not JSON: {exc}", status=400) from exc


def facebook_challenge(source: LeadSource, params) -> str:
    """The hub.challenge to echo when Facebook subscribes with this source's verify token; '' otherwise."""
    if source.kind != LeadSource.Kind.FACEBOOK or params.get("hub.mode") != "subscribe":
        return ""
    return params.get("hub.challenge", "") if secret_equal(source.verify_token, params.get("hub.verify_token")) else ""


def source_receive(*, source: LeadSource, body: bytes, headers) -> tuple[int, int]:
    """Check and store a source's delivery, one row per lead; returns (stored, already seen).

    Raises Refused (nothing stored) when the signature or key is wrong or the body is not the source's shape.
    """
    try:
        deliveries = SPLITTERS[source.kind](source, body, headers)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise Refused(f"not a {source.get_kind_display()} payload ({exc!r})", status=400) from exc
    stored = 0
    for delivery in deliveries:
        _, created = webhook_receive(
            kind=source.kind, source=source.slug, external_id=delivery.external_id, payload=delivery.payload
        )
        stored += created
    return stored, len(deliveries) - stored


def _source(row: InboundWebhook) -> LeadSource:
    return LeadSource.objects.get(slug=row.source)


def _event(source: LeadSource, external_id: str, fields: dict, payload: dict) -> CaptureEvent:
    return CaptureEvent(channel=source.channel, source=source.slug, external_id=external_id, payload=payload, **fields)


def _form_event(source: LeadSource, row: InboundWebhook, reading: FormReading, payload: dict) -> CaptureEvent:
    """A form's lead: the fields read from its answers; every other answer as the message and, labelled, in payload."""
    return _event(source, row.external_id, reading.fields(), {**payload, "answers": reading.answers_json()})


@parser_register(InboundWebhook.Kind.FACEBOOK)
def facebook_event(row: InboundWebhook) -> CaptureEvent:
    """Ask the Graph API for the lead's answers (the webhook carries only its id)."""
    source = _source(row)
    try:
        response = requests.get(
            f"{settings.FACEBOOK_GRAPH_URL}/{row.external_id}",
            params={"access_token": source.access_token},
            timeout=settings.WEBHOOK_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise ValueError(f"Graph API unreachable: {exc}") from exc
    if response.status_code != 200:
        raise ValueError(f"Graph API answered {response.status_code}: {response.text[:300]}")
    lead = response.json()
    field_data = lead.get("field_data", []) if isinstance(lead, dict) else lead
    reading = facebook_reading(field_data)
    if not reading.country and (country := _form_country(source, str(row.payload.get("form_id") or ""))):
        # No country question: the form's locale is the next best hint for a phone written nationally.
        reading = replace(reading, country=country)
    return _form_event(source, row, reading, {**row.payload, "field_data": field_data})


FORM_LOCALE_SECONDS = 24 * 3600


def _form_country(source: LeadSource, form_id: str) -> str:
    """The country of a lead form's locale ("en_GB" -> "GB"), asked of the Graph API once a day per form
    (GET /<form_id>?fields=locale, Graph API "Lead Ads Form"); "" when unknown or unreachable: it is only a hint."""
    if not form_id.isdigit():
        return ""
    key = f"facebook:form-locale:{form_id}"
    locale = cache.get(key)
    if locale is None:
        try:
            response = requests.get(
                f"{settings.FACEBOOK_GRAPH_URL}/{form_id}",
                params={"fields": "locale", "access_token": source.access_token},
                timeout=settings.WEBHOOK_TIMEOUT,
            )
            locale = str(response.json().get("locale") or "") if response.status_code == 200 else ""
        except (requests.RequestException, ValueError, AttributeError):
            return ""
        cache.set(key, locale, FORM_LOCALE_SECONDS)
    return country_code(locale.rpartition("_")[2]) if "_" in locale else ""


@parser_register(InboundWebhook.Kind.GOOGLE)
def google_event(row: InboundWebhook) -> CaptureEvent:
    # Google's "Send test data" posts is_test: true; such a lead is kept as ignored, never captured, so it reaches
    # no report, queue or person.
    if row.payload.get("is_test"):
        raise Ignored("A test lead sent from Google Ads: received and checked, not captured.")
    source = _source(row)
    return _form_event(source, row, google_reading(row.payload.get("user_column_data", [])), row.payload)


@parser_register(InboundWebhook.Kind.GENERIC)
def generic_event(row: InboundWebhook) -> CaptureEvent:
    """The source's field map applied to the stored lead; a lead none of whose contact paths gives a value fails
    here, naming those fields and paths."""
    source = _source(row)
    fields = {k: v for k, v in field_map_read(source.field_map, row.payload).items() if k in MAPPED_FIELDS}
    if not any(fields.get(f) for f in CONTACT_FIELDS):
        mapped = [f"{f} ({source.field_map[f]})" for f in CONTACT_FIELDS if f in source.field_map]
        raise ValueError(f"no value at {' or '.join(mapped)}: a lead needs an email or a phone to be reached")
    fields.pop("external_id", None)
    answer = fields.pop("country", "")
    fields["country"] = country_code(answer)
    if answer and not fields["country"]:
        # A country we cannot name as ISO 3166 stays readable in the message rather than set a wrong one.
        fields["message"] = "\n".join(filter(None, [fields.get("message", ""), f"Country: {answer}"]))
    return _event(source, row.external_id, fields, row.payload)
