"""Consent, one road: every opt-out and opt-in, however it arrives, is recorded here, and what follows reacts to it.

An opt-out appends a ConsentRecord (the evidence), puts the address on the suppression list and sets the lead's
flags, then sends ``LEAD_OPTED_OUT`` in the same transaction: approvals cancels every waiting action on that
channel and proposes the one confirmation text, routing stops the cadences. Every send path then refuses the
address (the executor, and the channel backend itself). Sources: the FCC's 2024 revocation order (47 CFR
64.1200(a)(10), in force 2025-04-11: revocation by any reasonable means, honoured within 10 business days, at
most one confirmation text within 5 minutes) and the CTIA Messaging Principles (STOP, START, HELP keywords).

A model's reading alone never opts anyone out: ``consent_hold_set`` holds every outbound for the lead and asks
a person, who confirms (``consent_hold_resolve``) or dismisses it.
"""

import contextlib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import Decision
from audit.services import decision_record
from leads.consent_words import consent_reading
from leads.lock_objects import lead_lock, leads_lock_by_email, leads_lock_by_phone
from leads.models import ConsentRecord, InboundEvent, Lead, Message, Suppression, contact_digest
from leads.normalize import normalize_email, normalize_phone
from leads.reactions import LEAD_OPTED_OUT

logger = logging.getLogger(__name__)

CHANNELS = (ConsentRecord.Channel.SMS, ConsentRecord.Channel.EMAIL, ConsentRecord.Channel.ALL)


@dataclass(frozen=True)
class Evidence:
    """Where a consent event came from: the words, what carried them, and who or what made it."""

    words: str = ""
    event: InboundEvent | None = None
    message: Message | None = None
    reference: str = ""  # a provider's id for what carried it (a MessageSid, a webhook row)
    actor: object = None  # a person (User), or None
    actor_label: str = ""  # who, when not a person: "SMS keyword", "Twilio 21610", an API key's name
    ip: str | None = None
    user_agent: str = ""
    page_url: str = ""
    disclosure_version: str = ""


@dataclass
class ConsentChange:
    """What one consent event changed: the records written, the leads it touched, waiting actions cancelled."""

    records: list[ConsentRecord] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    cancelled: int = 0


def _phone(raw: str) -> str:
    # A short code or an alphanumeric sender does not normalize: it is kept as the provider gave it.
    with contextlib.suppress(ValidationError):
        return normalize_phone(raw, region=settings.DEFAULT_PHONE_REGION) or raw.strip()
    return raw.strip()


def _email(raw: str) -> str:
    with contextlib.suppress(ValidationError):
        return normalize_email(raw)
    return raw.strip().lower()


def _addresses(channel: str, phone: str, email: str, lead: Lead | None) -> dict[str, str]:
    """The addresses a consent event on ``channel`` is about: {"sms": phone, "email": email}, blanks left out."""
    phone = _phone(phone or (lead.phone if lead else ""))
    email = _email(email or (lead.email if lead else ""))
    wanted = {"sms": phone, "email": email}
    if channel != ConsentRecord.Channel.ALL:
        wanted = {channel: wanted[channel]}
    return {k: v for k, v in wanted.items() if v}


def _addresses_checked(channel: str, phone: str, email: str, lead: Lead | None) -> dict[str, str]:
    """``_addresses``, or ValidationError (``channel``) for an unknown channel or nothing to record it for."""
    if channel not in CHANNELS:
        raise ValidationError({"channel": f"Choose one of: {', '.join(CHANNELS)}."})
    addresses = _addresses(channel, phone, email, lead)
    if not addresses:
        raise ValidationError({"channel": "There is no phone number or email address to record consent for."})
    return addresses


def _leads_for(addresses: dict[str, str], lead: Lead | None) -> list[Lead]:
    """Every lead with one of ``addresses`` (and ``lead``), locked, in id order."""
    found: dict[int, Lead] = {}
    if lead is not None and lead.pk:
        found[lead.pk] = lead_lock(lead.pk)
    if "sms" in addresses:
        found.update({row.pk: row for row in leads_lock_by_phone(addresses["sms"])})
    if "email" in addresses:
        found.update({row.pk: row for row in leads_lock_by_email(addresses["email"])})
    return [found[pk] for pk in sorted(found)]


def _record(kind: str, how: str, channel: str, lead: Lead | None, addresses: dict, evidence: Evidence):
    return ConsentRecord.objects.create(
        lead=lead,
        channel=channel,
        kind=kind,
        how=how,
        phone=addresses.get("sms", lead.phone if lead else ""),
        email=addresses.get("email", lead.email if lead else ""),
        words=evidence.words[:2000],
        disclosure_version=evidence.disclosure_version[:100],
        evidence_event=evidence.event,
        evidence_message=evidence.message,
        evidence_ref=evidence.reference[:200],
        ip=evidence.ip or None,
        user_agent=evidence.user_agent[:500],
        page_url=evidence.page_url[:1000],
        actor=evidence.actor,
        actor_label=evidence.actor_label[:100],
    )


def _flags_set(lead: Lead, channels, value: bool, reason: str) -> None:
    fields = {"sms": "opted_out", "email": "email_opted_out"}
    changed = [fields[c] for c in channels if getattr(lead, fields[c]) != value]
    for name in changed:
        setattr(lead, name, value)
    if value and lead.consent_hold:
        lead.consent_hold = ""  # the person's own opt-out settles what a model only suspected
        changed.append("consent_hold")
    if changed:
        lead._change_reason = reason[:100]
        lead.save(update_fields=[*changed, "updated_at"])


def _describe(how: str, evidence: Evidence) -> str:
    who = evidence.actor.get_username() if evidence.actor is not None else evidence.actor_label
    words = f" ({evidence.words[:80]!r})" if evidence.words else ""
    return f"{ConsentRecord.How(how).label}{words}" + (f" by {who}" if who else "")


@transaction.atomic
def consent_opt_out(
    *, channel: str, how: str, evidence: Evidence, phone: str = "", email: str = "", lead: Lead | None = None
) -> ConsentChange:
    """Opt a person out of ``channel`` ("sms", "email" or "all"), however it arrived; one transaction.

    Appends a ConsentRecord per lead (one without a lead when nobody has the address), puts each address on
    the suppression list, sets the lead's flags, and sends LEAD_OPTED_OUT: waiting actions on the channel are
    cancelled, cadences stop, and, for an SMS opt-out the carrier did not make, the one confirmation text is
    proposed. An address already opted out gets a record (the evidence) but no second confirmation.
    Raises ValidationError (``channel``) for an unknown channel or no address to opt out.
    """
    addresses = _addresses_checked(channel, phone, email, lead)
    newly = []
    for kind, address in addresses.items():
        _, created = Suppression.objects.get_or_create(
            channel=kind,
            digest=contact_digest(address),
            defaults={"address": address, "reason": _describe(how, evidence)[:200]},
        )
        if created:
            newly.append(kind)
    change = ConsentChange()
    reason = f"Opted out of {ConsentRecord.Channel(channel).label.lower()}: {_describe(how, evidence)}."
    for row in _leads_for(addresses, lead) or [None]:
        record = _record(ConsentRecord.Kind.OPT_OUT, how, channel, row, addresses, evidence)
        change.records.append(record)
        if row is None:
            continue
        _flags_set(row, addresses, True, f"opted out ({how})")
        # The carrier already blocks the number (21610): no confirmation can reach it, and none is owed.
        confirm = "sms" in newly and how != ConsentRecord.How.CARRIER and bool(row.phone)
        results = LEAD_OPTED_OUT.send(lead=row, channel=channel, reason=reason, record=record, confirm=confirm)
        cancelled = sum(r for r in results if isinstance(r, int))
        change.cancelled += cancelled
        change.leads.append(row)
        decision_record(
            step=Decision.Step.CONSENT,
            lead=row,
            actor=evidence.actor,
            input_summary=evidence.words,
            output={"kind": "opt_out", "channel": channel, "how": how, "record": record.pk, "cancelled": cancelled},
            reasoning=reason + (f" {cancelled} waiting action(s) cancelled." if cancelled else ""),
        )
    logger.info("consent.opt_out", extra={"channel": channel, "how": how, "leads": len(change.leads)})
    return change


@transaction.atomic
def consent_opt_in(
    *, channel: str, how: str, evidence: Evidence, phone: str = "", email: str = "", lead: Lead | None = None
) -> ConsentChange:
    """Record a person's consent on ``channel``: START, a form's checkbox, an integration's word for it.

    An address on the suppression list comes off it (the record says "opted back in"); otherwise the record
    is the evidence of consent given. Raises ValidationError (``channel``) as consent_opt_out does.
    """
    addresses = _addresses_checked(channel, phone, email, lead)
    back_in = []
    for kind, address in addresses.items():
        deleted, _ = Suppression.objects.filter(channel=kind, digest=contact_digest(address)).delete()
        if deleted:
            back_in.append(kind)
    change = ConsentChange()
    kind = ConsentRecord.Kind.RE_OPT_IN if back_in else ConsentRecord.Kind.OPT_IN
    for row in _leads_for(addresses, lead) or [None]:
        change.records.append(_record(kind, how, channel, row, addresses, evidence))
        if row is None:
            continue
        _flags_set(row, addresses, False, f"opted back in ({how})")
        change.leads.append(row)
        decision_record(
            step=Decision.Step.CONSENT,
            lead=row,
            actor=evidence.actor,
            input_summary=evidence.words,
            output={"kind": kind, "channel": channel, "how": how},
            reasoning=f"{ConsentRecord.Kind(kind).label} on {ConsentRecord.Channel(channel).label.lower()}: "
            + _describe(how, evidence)
            + ("." if back_in else "; it was not opted out."),
        )
    return change


@transaction.atomic
def consent_confirmation_record(*, lead: Lead, opt_out: ConsentRecord, message: Message) -> ConsentRecord:
    """The one confirmation text of ``opt_out`` went out (the executor calls this when it is handed over)."""
    return _record(
        ConsentRecord.Kind.CONFIRMATION,
        ConsentRecord.How.SYSTEM,
        opt_out.channel,
        lead,
        {"sms": opt_out.phone} if opt_out.phone else {},
        Evidence(words=message.body, message=message, reference=message.provider_id, actor_label="Nightshift"),
    )


@transaction.atomic
def consent_hold_set(*, lead_id: int, words: str, event: InboundEvent | None = None, why: str) -> Lead:
    """A model alone (or words a person must weigh) read an opt-out: hold every outbound and ask a person.

    Nothing is sent to the lead while the hold stands (the executor and the policy refuse); the queue and the
    lead page show it until a person confirms the opt-out or dismisses it (consent_hold_resolve).
    """
    lead = lead_lock(lead_id)
    hold = f"looks like an opt-out ({why}): {words[:200]}"
    if lead.consent_hold == hold[:300] or (lead.opted_out and lead.email_opted_out):
        return lead
    lead.consent_hold = hold[:300]
    lead._change_reason = "held: looks like an opt-out"
    lead.save(update_fields=["consent_hold", "updated_at"])
    channel = ConsentRecord.Channel.EMAIL if event is not None and event.channel == "email" else "all"
    _record(
        ConsentRecord.Kind.SUSPECTED,
        ConsentRecord.How.MODEL,
        channel,
        lead,
        {},
        Evidence(words=words, event=event, actor_label=why),
    )
    decision_record(
        step=Decision.Step.CONSENT,
        lead=lead,
        input_summary=words,
        output={"kind": "suspected", "why": why},
        reasoning=f"Held for a person: {hold}. Nothing goes to the lead until someone confirms or dismisses it.",
        outcome=Decision.Outcome.ESCALATED,
    )
    return lead


def consent_hold_resolve(*, lead_id: int, user, opt_out: bool) -> Lead:
    """A person settles a held lead: ``opt_out`` confirms it (every channel), else the hold is dismissed."""
    with transaction.atomic():
        lead = lead_lock(lead_id)
        if not lead.consent_hold:
            raise ValidationError({"consent": "Nothing is held for this lead."})
        words = lead.consent_hold
        if opt_out:
            consent_opt_out(
                channel=ConsentRecord.Channel.ALL,
                how=ConsentRecord.How.PERSON,
                lead=lead,
                evidence=Evidence(words=words, actor=user),
            )
            return lead_lock(lead_id)
        lead.consent_hold = ""
        lead._history_user = user
        lead._change_reason = "not an opt-out"
        lead.save(update_fields=["consent_hold", "updated_at"])
        _record(
            ConsentRecord.Kind.DISMISSED, ConsentRecord.How.PERSON, "all", lead, {}, Evidence(words=words, actor=user)
        )
        decision_record(
            step=Decision.Step.CONSENT,
            lead=lead,
            actor=user,
            input_summary=words,
            output={"kind": "dismissed"},
            reasoning=f"{user} read it and it is not an opt-out; sending may go on.",
        )
    return lead


def sms_words_consent(*, phone: str, body: str, reference: str = "") -> str:
    """What an inbound text says about consent, acted on at once: opt out (a keyword or an unambiguous
    sentence), opt back in (START, UNSTOP), or help. Returns the reading's kind ("" when it says nothing).

    Called by the SMS webhook before it answers, so consent takes effect before the provider hears back.
    """
    reading = consent_reading(body, yes_opts_in=settings.SMS_YES_OPTS_IN)
    evidence = Evidence(words=body, reference=reference, actor_label=f"SMS {reading.how}".strip())
    if reading.kind == "opt_out":
        consent_opt_out(channel=ConsentRecord.Channel.SMS, how=reading.how, phone=phone, evidence=evidence)
    elif reading.kind == "opt_in" and reading.how == "keyword":
        consent_opt_in(channel=ConsentRecord.Channel.SMS, how=ConsentRecord.How.KEYWORD, phone=phone, evidence=evidence)
    return reading.kind
