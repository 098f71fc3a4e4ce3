"""Forgetting a person: their personal data leaves every table, an anonymised tombstone stays.

Why here, on the leads floor: what makes a person (the leads, their events, messages, appointments, consent,
the suppression list) is leads', and the audit log under it is visible from here. The copies the floors above
hold (actions and their drafts, raw webhooks and CRM deliveries, chat sessions, cadences, assignments, intent
examples) are theirs to blank: ``PERSON_FORGET`` (leads.reactions) reaches them in this transaction, and each
app's receiver knows its own personal fields. So one road forgets a person whoever asks (``manage.py
forget_person``, the lead page's button), and a new app holding personal data adds its receiver beside its models,
rather than one module on the top floor knowing every app's columns (docs/architecture.md, "Privacy").
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Decision
from audit.services import decision_record
from leads.models import Appointment, ConsentRecord, InboundEvent, Lead, Message, Suppression
from leads.privacy import (
    FORGOTTEN,
    FORGOTTEN_NAME,
    Person,
    person_find,
    redacted,
    rows_forget,
    scrubbed,
    words_forgotten,
)
from leads.reactions import PERSON_FORGET

logger = logging.getLogger(__name__)


@dataclass
class ForgetResult:
    """What forgetting did: the tombstone leads' ids, {what: how many rows} (``<what>_history`` for history
    rows), the channels whose suppression digests stay (the person had opted out), and the Decisions logged."""

    lead_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    suppressed: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)


LEAD_CHANGES = {
    "name": FORGOTTEN_NAME,
    "phone": "",
    "email": "",
    "email_domain": "",
    "company": "",
    "postal_code": "",
    "consent_hold": "",  # it quotes the words a model read as an opt-out
    "contact_problems": {},  # the phone or email as typed, which capture could not read
    "email_undeliverable": "",  # the receiving server's words quote the address
    # Intent, score, status and the other categories stay (the Noise view reads them); the model's reasoning
    # and the facts it quoted (budget in words, timeline, postal code, signals) go.
    "qualification": scrubbed,
    "enrichment": {},  # facts inferred about the person (a company from a domain)
}
EVENT_CHANGES = {
    "name": "",
    "email": "",
    "phone": "",
    "company": "",
    "postal_code": "",
    "message": "",
    "payload": {},
}
MESSAGE_CHANGES = {
    "to": "",
    "subject": "",
    "body": words_forgotten,
    "media": [],  # photos and call recordings
    "error": redacted,  # a provider's error may quote the number
    # An email reply threads to a lead by Message-ID: a reply to an old thread must start a new lead, not
    # bring the person back into the tombstone.
    "message_id": "",
}
APPOINTMENT_CHANGES = {"location": "", "note": ""}


def _decisions_forget(person: Person) -> int:
    """The log's texts about the person: the input (their words), the reasoning (it quotes or paraphrases them)
    and the output's words; the step, who, when, outcome, confidence, model and timings stay for the reports."""
    decisions = Decision.objects.filter(Q(lead_id__in=person.lead_ids) | Q(action__lead_id__in=person.lead_ids))
    changes = {"input_summary": words_forgotten, "reasoning": words_forgotten, "output": scrubbed}
    return rows_forget(decisions, changes, person)[0]


def _suppression_keep(person: Person) -> tuple[int, list[str]]:
    """Suppression rows lose the address and keep the digest: a person who opted out stays unreachable.
    Returns (rows changed, the channels still suppressed)."""
    digests = person.digests
    rows = Suppression.objects.filter(
        Q(channel=Suppression.Channel.SMS, digest__in=digests["sms"])
        | Q(channel=Suppression.Channel.EMAIL, digest__in=digests["email"])
    )
    channels = sorted(set(rows.values_list("channel", flat=True)))
    # The reason quotes the opt-out's words; the consent record keeps how and when it happened.
    return rows.update(address="", reason=FORGOTTEN), channels


def _leads_rows_forget(person: Person, counts: dict[str, int]) -> None:
    ids = person.lead_ids
    for label, queryset, changes in (
        ("events", InboundEvent.objects.filter(lead_id__in=ids), EVENT_CHANGES),
        ("messages", Message.objects.filter(lead_id__in=ids), MESSAGE_CHANGES),
        ("appointments", Appointment.objects.filter(lead_id__in=ids), APPOINTMENT_CHANGES),
        ("leads", Lead.objects.filter(pk__in=ids), LEAD_CHANGES),
    ):
        counts[label], history = rows_forget(queryset, changes, person)
        if history:
            counts[f"{label}_history"] = history
    Lead.objects.filter(pk__in=ids, forgotten_at=None).update(forgotten_at=timezone.now())
    records = ConsentRecord.objects.filter(Q(lead_id__in=ids) | Q(phone__in=person.phones) | Q(email__in=person.emails))
    counts["consent_records"] = records.anonymise()
    counts["decisions"] = _decisions_forget(person)


@transaction.atomic
def person_forget(
    *, phone: str = "", email: str = "", user=None, reason: str = "", lead_id: int | None = None
) -> ForgetResult:
    """Forget the person with ``phone`` or ``email`` (or the person of ``lead_id``), in one transaction.

    Removed, from every lead carrying one of their addresses and from what hangs off it: names, phones,
    emails, company and postal code; events' copies of them, their words and raw payloads; messages' bodies,
    addresses, subjects and media; appointments' place and note; the log's texts (input, reasoning, output
    words); the history rows of all of these; and, through ``PERSON_FORGET``, actions' drafts (waiting ones
    are cancelled), raw webhooks, CRM deliveries, chat sessions, cadence and routing texts, intent examples.

    Kept: each lead as a tombstone ("Forgotten person", ``forgotten_at`` set; stage, owner, channel, source,
    score, intent, consent flags and every timestamp stay, so reports still count it); the rows themselves
    with their ids, statuses and times; consent records, anonymised (``ConsentRecord.objects.anonymise``:
    the evidence that consent was given or withdrawn, without the person); and the suppression list's
    one-way digests of their addresses.

    "Never contacted again" holds for a person who had opted out: their digests stay suppressed, so every
    send path refuses their number or address, whoever it comes back as. A person who never opted out is not
    suppressed by being forgotten: if they write again they are a new lead like anyone else (nothing links the
    tombstone to them). Raises ValidationError for an unusable address or none.
    """
    person, leads = person_find(phone=phone, email=email, lead_id=lead_id, lock=True)
    counts: dict[str, int] = {}
    # The floors above first: they read the leads' addresses (a waiting CRM delivery, a webhook's payload).
    for result in PERSON_FORGET.send(person=person, leads=leads, user=user):
        counts.update(result)
    counts["suppressions"], suppressed = _suppression_keep(person)
    _leads_rows_forget(person, counts)
    why = person.redact(reason.strip())[:300]  # a reason may name the person ("request from Jane Doe")
    result = ForgetResult(lead_ids=list(person.lead_ids), counts=counts, suppressed=suppressed)
    removed = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in sorted(counts.items()) if n)
    for lead in leads or [None]:
        result.decisions.append(
            decision_record(
                step=Decision.Step.PRIVACY,
                lead=lead,
                actor=user,
                output={"kind": "forgotten", "counts": counts, "suppressed": suppressed},
                reasoning=f"The person was forgotten{f' ({why})' if why else ''}. Changed: {removed or 'nothing'}."
                + (f" Still suppressed on {', '.join(suppressed)} (by digest)." if suppressed else ""),
            )
        )
    logger.info(
        "person.forgotten",
        extra={"lead_ids": result.lead_ids, "counts": counts, "suppressed": suppressed, "user_id": _user_id(user)},
    )
    return result


def _user_id(user) -> int | None:
    return getattr(user, "pk", None)
