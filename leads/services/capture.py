"""Capture: the one door every inbound signal comes through, stored once and attached to its deduplicated lead."""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.exceptions import ConflictError
from config.queue import enqueue_on_commit
from leads.choices import Channel
from leads.models import InboundEvent, Lead
from leads.normalize import mask_phone, normalize_email, normalize_phone
from leads.reactions import LEAD_REPLIED
from leads.selectors import contact_suppressed_channels, lead_get_by_contact
from leads.services.consent import Evidence, consent_opt_in

logger = logging.getLogger(__name__)

# Fields copied onto an existing lead only while the lead's own value is still blank.
FILLABLE_FIELDS = ("name", "company", "postal_code", "country")


@dataclass(frozen=True)
class ConsentGiven:
    """Consent that came with an event: a form's checked box with the disclosure the site showed, or an API's word.

    ``ip``, ``user_agent`` and ``page_url`` are the web form's evidence (what a dispute asks for).
    """

    channel: str = "sms"
    text: str = ""
    version: str = ""
    how: str = "form"
    ip: str | None = None
    user_agent: str = ""
    page_url: str = ""


@dataclass(frozen=True)
class CaptureEvent:
    """A channel-neutral inbound signal, as every parser (API, form, webhook) produces it."""

    channel: str
    source: str
    external_id: str | None = None
    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    message: str = ""
    postal_code: str = ""
    country: str = ""
    received_at: datetime | None = None
    payload: dict = field(default_factory=dict)
    consent: ConsentGiven | None = None
    # A call whose caller withheld their number (routing.voice): kept as a lead nobody can reach yet, since a
    # person may learn the number from the voicemail. Only that door sets it; the API and forms cannot.
    withheld: bool = False


@dataclass(frozen=True)
class CaptureResult:
    event: InboundEvent
    lead: Lead
    duplicate: bool
    lead_created: bool = False


PROCESS_TASK = "routing.tasks.event_process"


def request_fingerprint(data) -> str:
    """Stable hash of a request body, to tell a true replay from a reused idempotency key."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def capture_clean(event: CaptureEvent) -> tuple[str, str]:
    """Validate and normalize the contact fields; raise ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    if event.channel not in Channel.values:
        errors["channel"] = [f"'{event.channel}' is not one of: {', '.join(Channel.values)}."]
    if not event.source.strip():
        errors["source"] = ["This field may not be blank."]
    phone = email = ""
    try:
        phone = normalize_phone(event.phone, region=event.country or settings.DEFAULT_PHONE_REGION)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    try:
        email = normalize_email(event.email)
    except ValidationError:
        errors["email"] = [f"'{event.email}' is not an email address."]
    if not (event.phone.strip() or event.email.strip() or event.withheld):
        reason = "Give a phone number or an email address so the lead can be reached."
        errors["phone"] = errors["email"] = [reason]
    if errors:
        raise ValidationError(errors)
    return phone, email


def _find_replay(event: CaptureEvent, idempotency_key: str | None, request_hash: str) -> InboundEvent | None:
    if idempotency_key:
        existing = InboundEvent.objects.select_related("lead").filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if request_hash and existing.request_hash and existing.request_hash != request_hash:
                raise ConflictError(
                    "This Idempotency-Key was already used with a different body.",
                    extra={"event": existing.pk},
                )
            return existing
    if event.external_id:
        return (
            InboundEvent.objects.select_related("lead")
            .filter(source=event.source, external_id=event.external_id)
            .first()
        )
    return None


def _lead_attach_or_create(event: CaptureEvent, phone: str, email: str) -> tuple[Lead, bool]:
    lead = lead_get_by_contact(phone=phone, email=email)
    if lead is None:
        lead = Lead(
            phone=phone,
            email=email,
            channel=event.channel,
            source=event.source.strip()[:100],
            created_at=min(event.received_at or timezone.now(), timezone.now()),
            **{f: getattr(event, f).strip() for f in FILLABLE_FIELDS},
        )
        # An address still on the suppression list (it opted out before its person was forgotten, or under no
        # lead) starts out opted out: the page says so, and the policy proposes nothing the executor would refuse.
        suppressed = contact_suppressed_channels(phone=phone, email=email)
        lead.opted_out, lead.email_opted_out = "sms" in suppressed, "email" in suppressed
        lead.country = lead.country.upper()
        # The InboundEvent stored with it is the record of the lead's state at capture; its first
        # history row is written moments later by the pipeline's qualification. Skipping the
        # duplicate here keeps capture to the writes it needs (measured in bench/ingest.py).
        lead.skip_history_when_saving = True
        lead.save()
        del lead.skip_history_when_saving
        return lead, True
    changed = [f for f in FILLABLE_FIELDS if not getattr(lead, f) and getattr(event, f).strip()]
    for f in changed:
        setattr(lead, f, getattr(event, f).strip())
    for f, value in (("phone", phone), ("email", email)):
        if value and not getattr(lead, f) and not Lead.objects.filter(**{f: value}).exists():
            setattr(lead, f, value)
            changed.append(f)
    if changed:
        lead._change_reason = f"filled {', '.join(changed)} from a {event.channel} event"
        lead.save(update_fields=[*changed, "updated_at"])
    return lead, False


def lead_capture(*, event: CaptureEvent, idempotency_key: str | None = None, request_hash: str = "") -> CaptureResult:
    """Store an inbound event and attach it to its (deduplicated) lead; validates its input.

    Idempotent: a repeated ``idempotency_key`` or (source, external_id) returns the first event
    and stores nothing. The raw payload is committed before any reasoning; processing is queued
    on commit. The event row is the audit record of the capture (who, when, what, and whether it
    started a new lead). Raises ValidationError (field -> messages) or ConflictError.
    """
    phone, email = capture_clean(event)
    try:
        return _capture_once(event, phone, email, idempotency_key, request_hash)
    except IntegrityError:
        # A concurrent capture of the same event or person won the race on a unique constraint;
        # this second pass finds the winner's rows (a replay, or the lead to attach to).
        return _capture_once(event, phone, email, idempotency_key, request_hash)


def _capture_once(
    event: CaptureEvent, phone: str, email: str, idempotency_key: str | None, request_hash: str
) -> CaptureResult:
    replay = _find_replay(event, idempotency_key, request_hash)
    if replay is not None:
        return CaptureResult(event=replay, lead=replay.lead, duplicate=True)
    with transaction.atomic():
        lead, created = _lead_attach_or_create(event, phone, email)
        inbound = InboundEvent.objects.create(
            lead=lead,
            channel=event.channel,
            source=event.source.strip(),
            external_id=event.external_id or "",
            idempotency_key=idempotency_key or "",
            request_hash=request_hash,
            name=event.name,
            email=event.email,
            phone=event.phone,
            company=event.company,
            postal_code=event.postal_code,
            country=event.country,
            message=event.message,
            payload=event.payload,
            received_at=event.received_at or timezone.now(),
            lead_created=created,
        )
        if not created:
            LEAD_REPLIED.send(lead=lead, event=inbound)
        if event.consent is not None:
            _consent_record(event.consent, lead, inbound)
        enqueue_on_commit(PROCESS_TASK, inbound.pk)
    logger.info(
        "lead.captured",
        extra={"lead_id": lead.pk, "event_id": inbound.pk, "channel": event.channel, "phone": mask_phone(phone)},
    )
    return CaptureResult(event=inbound, lead=lead, duplicate=False, lead_created=created)


def _consent_record(consent: ConsentGiven, lead: Lead, inbound: InboundEvent) -> None:
    consent_opt_in(
        channel=consent.channel,
        how=consent.how,
        lead=lead,
        evidence=Evidence(
            words=consent.text,
            event=inbound,
            disclosure_version=consent.version,
            ip=consent.ip,
            user_agent=consent.user_agent,
            page_url=consent.page_url,
            actor_label=inbound.source,
        ),
    )
