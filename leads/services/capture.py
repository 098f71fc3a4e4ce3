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
from leads.choices import SUSPECTED_SPAM, Channel
from leads.models import InboundEvent, Lead
from leads.normalize import contact_text, mask_phone, normalize_email, normalize_phone, phone_regions
from leads.reactions import LEAD_REPLIED
from leads.selectors import contact_suppressed_channels, lead_match_by_contact
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

    @property
    def suspected(self) -> bool:
        """A post the form's checks caught (honeypot, rate limit): kept, but it speaks for nobody's lead."""
        return SUSPECTED_SPAM in self.payload


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


REACH = "Give a phone number or an email address so the lead can be reached."


@dataclass(frozen=True)
class Contact:
    """An event's contact fields as capture keeps them: ``phone`` (E.164) and ``email`` (lower case), "" when
    absent or unusable, and ``problems``: {field: {"raw": as received, "reason": why it was not usable}}."""

    phone: str
    email: str
    problems: dict = field(default_factory=dict)


def contact_clean(event: CaptureEvent) -> Contact:
    """Validate and normalize the event's fields; one unusable contact field does not sink the lead.

    A phone written nationally is read in the event's country, then the email's country-code TLD's, then
    DEFAULT_PHONE_REGION (leads.normalize.phone_regions). A phone or email that cannot be used is kept in
    ``problems`` when the other one can reach the person. Raises ValidationError naming the fields when the
    channel or source is wrong, or when neither field can reach the person (both fields are named).
    """
    errors: dict[str, list[str]] = {}
    if event.channel not in Channel.values:
        errors["channel"] = [f"'{event.channel}' is not one of: {', '.join(Channel.values)}."]
    if not event.source.strip():
        errors["source"] = ["This field may not be blank."]
    problems: dict[str, dict] = {}
    email = phone = ""
    try:
        email = normalize_email(event.email)
    except ValidationError:
        problems["email"] = {"raw": event.email, "reason": f"'{contact_text(event.email)}' is not an email address."}
    regions = phone_regions(
        country=event.country, email=email or contact_text(event.email), default=settings.DEFAULT_PHONE_REGION
    )
    try:
        phone = normalize_phone(event.phone, regions=regions)
    except ValidationError as exc:
        problems["phone"] = {"raw": event.phone, "reason": " ".join(exc.messages)}
    if not (phone or email or event.withheld):
        for name in ("phone", "email"):
            errors[name] = [problems[name]["reason"]] if name in problems else [REACH]
    if errors:
        raise ValidationError(errors)
    return Contact(phone=phone, email=email, problems=problems)


def capture_clean(event: CaptureEvent) -> tuple[str, str]:
    """The event's usable (phone, email), "" for an unusable one; ValidationError as ``contact_clean``."""
    contact = contact_clean(event)
    return contact.phone, contact.email


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


def _lead_attach_or_create(event: CaptureEvent, contact: Contact) -> tuple[Lead, bool]:
    match = lead_match_by_contact(phone=contact.phone, email=contact.email, name=event.name)
    if match.lead is None:
        lead = Lead(
            phone=match.phone,
            email=match.email,
            contact_problems=contact.problems,
            linked_to=match.linked_to,
            linked_by=match.linked_by,
            channel=event.channel,
            source=event.source.strip()[:100],
            created_at=min(event.received_at or timezone.now(), timezone.now()),
            **{f: getattr(event, f).strip() for f in FILLABLE_FIELDS},
        )
        # An address still on the suppression list (it opted out before its person was forgotten, or under no
        # lead) starts out opted out: the page says so, and the policy proposes nothing the executor would refuse.
        suppressed = contact_suppressed_channels(phone=match.phone, email=match.email)
        lead.opted_out, lead.email_opted_out = "sms" in suppressed, "email" in suppressed
        lead.country = lead.country.upper()
        # The InboundEvent stored with it is the record of the lead's state at capture; its first
        # history row is written moments later by the pipeline's qualification. Skipping the
        # duplicate here keeps capture to the writes it needs (measured in bench/ingest.py).
        lead.skip_history_when_saving = True
        lead.save()
        del lead.skip_history_when_saving
        return lead, True
    lead = match.lead
    if event.suspected:
        # A post the form's checks caught may carry anyone's address: it is kept on the lead, and fills nothing.
        return lead, False
    changed = [f for f in FILLABLE_FIELDS if not getattr(lead, f) and getattr(event, f).strip()]
    for f in changed:
        setattr(lead, f, getattr(event, f).strip())
    # The match left out an address another lead holds: it fills only what is free.
    for f in ("phone", "email"):
        if getattr(match, f) and not getattr(lead, f):
            setattr(lead, f, getattr(match, f))
            changed.append(f)
    if _problems_merge(lead, contact.problems):
        changed.append("contact_problems")
    if match.linked_to is not None and lead.linked_to_id is None:
        lead.linked_to, lead.linked_by = match.linked_to, match.linked_by
        changed += ["linked_to", "linked_by"]
    if changed:
        lead._change_reason = f"filled {', '.join(changed)} from a {event.channel} event"[:100]
        lead.save(update_fields=[*changed, "updated_at"])
    return lead, False


def _problems_merge(lead: Lead, problems: dict) -> bool:
    """Keep on ``lead`` the problems of the fields it still lacks; a field it now has is no longer flagged.
    Returns whether anything changed."""
    kept = {f: p for f, p in (lead.contact_problems or {}).items() if not getattr(lead, f, "")}
    kept.update({f: p for f, p in problems.items() if not getattr(lead, f)})
    if kept == (lead.contact_problems or {}):
        return False
    lead.contact_problems = kept
    return True


def lead_capture(*, event: CaptureEvent, idempotency_key: str | None = None, request_hash: str = "") -> CaptureResult:
    """Store an inbound event and attach it to its (deduplicated) lead; validates its input.

    Idempotent: a repeated ``idempotency_key`` or (source, external_id) returns the first event
    and stores nothing. The raw payload is committed before any reasoning; processing is queued
    on commit. The event row is the audit record of the capture (who, when, what, and whether it
    started a new lead). Raises ValidationError (field -> messages) or ConflictError.
    """
    contact = contact_clean(event)
    try:
        return _capture_once(event, contact, idempotency_key, request_hash)
    except IntegrityError:
        # A concurrent capture of the same event or person won the race on a unique constraint;
        # this second pass finds the winner's rows (a replay, or the lead to attach to).
        return _capture_once(event, contact, idempotency_key, request_hash)


def _capture_once(
    event: CaptureEvent, contact: Contact, idempotency_key: str | None, request_hash: str
) -> CaptureResult:
    replay = _find_replay(event, idempotency_key, request_hash)
    if replay is not None:
        return CaptureResult(event=replay, lead=replay.lead, duplicate=True)
    with transaction.atomic():
        lead, created = _lead_attach_or_create(event, contact)
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
        # A post the form's honeypot caught is not the person writing back: anyone can type their email.
        if not created and not event.suspected:
            LEAD_REPLIED.send(lead=lead, event=inbound)
        if event.consent is not None:
            _consent_record(event.consent, lead, inbound, contact)
        enqueue_on_commit(PROCESS_TASK, inbound.pk)
    logger.info(
        "lead.captured",
        extra={
            "lead_id": lead.pk,
            "event_id": inbound.pk,
            "channel": event.channel,
            "phone": mask_phone(contact.phone),
        },
    )
    return CaptureResult(event=inbound, lead=lead, duplicate=False, lead_created=created)


def _consent_channel(consent: ConsentGiven, lead: Lead, contact: Contact) -> tuple[str, str, str]:
    """(channel, phone, email) the consent covers: only an address the person gave in this event that is the lead's
    (a box ticked beside a new number says nothing of the number the lead holds, which may have opted out); the
    channel narrowed to those. ("", "", "") when none is left."""
    phone = contact.phone if contact.phone and contact.phone == lead.phone else ""
    email = contact.email if contact.email and contact.email == lead.email else ""
    if consent.channel == "all":
        channel = "all" if phone and email else "sms" if phone else "email" if email else ""
    else:
        channel = consent.channel if {"sms": phone, "email": email}.get(consent.channel) else ""
    return (channel, phone, email) if channel else ("", "", "")


def _consent_record(consent: ConsentGiven, lead: Lead, inbound: InboundEvent, contact: Contact) -> None:
    channel, phone, email = _consent_channel(consent, lead, contact)
    if not channel:
        # Nothing of the person's to record it for (an unusable number, a number another lead holds): the lead is
        # kept, and the consent with it is not (the event keeps what the form said).
        logger.info("consent.not_recorded", extra={"lead_id": lead.pk, "event_id": inbound.pk})
        return
    consent_opt_in(
        channel=channel,
        how=consent.how,
        phone=phone,
        email=email,
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
