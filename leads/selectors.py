"""Reads for the API, the portal and reports."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import Decision
from leads.choices import Channel
from leads.identity import Match, event_match, names_agree
from leads.models import ConsentRecord, Lead, Message, Suppression, contact_digest
from leads.permissions import scope_to_user


def lead_list(*, user) -> QuerySet[Lead]:
    return scope_to_user(Lead.objects.select_related("owner"), user)


def lead_list_by_contact(*, phone: str, email: str) -> list[Lead]:
    """The leads (at most two: both keys are unique) holding this normalized phone or email.

    Capture runs this on every event, and building it through the QuerySet API cost twice the
    CPU of the query itself (0.55 vs 0.23 ms, bench/ingest.py); the statement is fixed and
    parameterized, with quoted identifiers. Columns are named, not ``*``: PostgreSQL prepares the
    statement, and a prepared ``*`` fails once a migration adds a column under a running process.
    """
    keys = [(column, value) for column, value in (("phone", phone), ("email", email)) if value]
    if not keys:
        return []
    columns, values = zip(*keys, strict=True)
    return list(Lead.objects.raw(_by_contact_sql(columns), list(values)))


@cache
def _by_contact_sql(keys: tuple[str, ...]) -> str:
    # Built once per set of keys (phone, email, or both): capture runs it on every event.
    quote = connection.ops.quote_name
    where = " OR ".join(f"{quote(key)} = %s" for key in keys)
    columns = ", ".join(quote(field.column) for field in Lead._meta.concrete_fields)
    return f"SELECT {columns} FROM {quote(Lead._meta.db_table)} WHERE {where} LIMIT 2"  # noqa: S608 - constants


def email_undeliverable(address: str) -> str:
    """Why mail to ``address`` bounces for good, as kept on the lead holding it ("" when nothing says so).

    Not consent (that is ``contact_suppressed``): the mailbox takes no mail (integrations.delivery sets it).
    """
    address = address.strip().lower()
    if not address:
        return ""
    found = Lead.objects.filter(email=address).exclude(email_undeliverable="")
    return found.values_list("email_undeliverable", flat=True).first() or ""


def lead_match_by_contact(*, phone: str, email: str, name: str = "") -> Match:
    """What a capture with this normalized phone and email, and this name, does: attach to a lead, or start
    one (linked to the lead of another person who gave the same address). One query; the rules are
    ``leads.identity.event_match``'s."""
    return event_match(lead_list_by_contact(phone=phone, email=email), phone=phone, email=email, name=name)


def lead_get_by_contact(*, phone: str, email: str, name: str = "") -> Lead | None:
    """The lead a capture with this phone, email and name attaches to; None when it starts a new lead."""
    return lead_match_by_contact(phone=phone, email=email, name=name).lead


def lead_links(*, lead: Lead) -> list[tuple[Lead, str]]:
    """The other people who share this lead's phone or email, each with what they share ("phone", "email"):
    the lead it was kept apart from and those kept apart from it. One query."""
    linked = Lead.objects.filter(Q(pk=lead.linked_to_id) | Q(linked_to=lead)).exclude(pk=lead.pk).order_by("pk")
    return [(other, lead.linked_by if other.pk == lead.linked_to_id else other.linked_by) for other in linked]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # event | message | decision | change
    title: str
    body: str = ""
    actor: str = ""
    reasoning: str = ""
    confidence: float | None = None
    outcome: str = ""
    ref: int | None = None
    changes: tuple = ()


def lead_timeline(*, lead: Lead) -> list[TimelineEntry]:
    """Everything that happened to a lead, oldest first: events, messages both ways, and every decision."""
    entries = [
        TimelineEntry(
            at=e.received_at,
            kind="event",
            title=f"{e.get_channel_display()} from {e.source}",
            body="\n".join([e.message, *e.payload.get("media", [])]).strip(),
            reasoning=_event_reasoning(e, lead),
            ref=e.pk,
        )
        for e in lead.events.all()
    ]
    entries += [
        TimelineEntry(
            at=m.sent_at or m.created_at,
            kind="message",
            title=_message_title(m),
            body="\n".join([m.body, *m.media]),
            outcome=m.status,
            reasoning=m.error,
            ref=m.pk,
        )
        for m in lead.messages.all()
    ]
    entries += [
        TimelineEntry(
            at=d.created_at,
            kind="decision",
            title=d.get_step_display() + (f" · {d.workflow.replace('_', ' ')}" if d.workflow else ""),
            # An edit shows the new text; automatic mail shows what the responder said (it was noted, not answered).
            body=d.input_summary if d.step in (Decision.Step.EDIT, Decision.Step.AUTOMATIC_MAIL) else "",
            actor=d.actor.get_username() if d.actor_id else d.get_actor_type_display(),
            reasoning=d.reasoning,
            confidence=d.confidence,
            outcome=d.outcome,
            ref=d.pk,
        )
        for d in lead.decisions.select_related("actor")
    ]
    entries += lead_changes(lead=lead)
    order = {"event": 0, "decision": 1, "message": 2, "change": 3}
    return sorted(entries, key=lambda e: (e.at, order[e.kind], e.ref or 0))


def _event_reasoning(event, lead: Lead) -> str:
    if event.lead_created:
        if lead.linked_to_id:
            shared = "phone" if lead.linked_by == Lead.LinkedBy.PHONE else "email"
            return f"New lead: lead {lead.linked_to_id} holds the same {shared}, but this is another person."
        return "New lead."
    if names_agree(lead.name, event.name) is False:
        return f"Matched this lead by phone or email; the name given ({event.name}) is not the lead's."
    return "Matched an existing lead by phone or email."


def _message_title(m: Message) -> str:
    if m.channel == Channel.CALL and m.direction == Message.Direction.INBOUND:
        return f"Inbound call — {m.get_status_display().lower()}"
    if m.channel == Channel.CALL:
        return f"Call logged{f' ({m.to})' if m.to else ''}"
    return f"{m.get_direction_display()} {m.channel.upper()} to {m.to} — {m.get_status_display().lower()}"


# Columns the pipeline rewrites on every event; their churn is already told by the decisions.
# The flags of contact_problems are told by the change's reason and the phone or email it set.
QUIET_FIELDS = frozenset({"updated_at", "qualification", "enrichment", "email_domain", "contact_problems"})


def lead_changes(*, lead: Lead) -> list[TimelineEntry]:
    """The lead's field changes from its history, as (field, before, after) per saved version, who and why."""
    records = list(lead.history.select_related("history_user").order_by("history_date", "history_id"))
    owner_ids = {r.owner_id for r in records if r.owner_id}
    names = {u.pk: u.get_full_name() or u.get_username() for u in get_user_model().objects.filter(pk__in=owner_ids)}
    entries = []
    for previous, record in pairwise([None, *records]):
        changes = _changes(previous, record, names)
        if not changes:
            continue
        entries.append(
            TimelineEntry(
                at=record.history_date,
                kind="change",
                title="Changed " + ", ".join(name for name, _, _ in changes),
                actor=record.history_user.get_username() if record.history_user_id else "",
                reasoning=record.history_change_reason or "",
                ref=record.history_id,
                changes=changes,
            )
        )
    return entries


def _changes(previous, record, names: dict) -> tuple[tuple[str, str, str], ...]:
    """(field, before, after) for each column ``record`` changed since ``previous``, owners by name."""
    if previous is None:
        # A captured lead's history starts at its first update (capture writes no creation row): the
        # pipeline's, which stores the qualification and, in the same save, the owner routing gave
        # it. A captured lead has no owner, so that is a change; the rest is told by the decisions.
        routed = record.history_type == "~" and record.owner_id
        return (("owner", "–", _shown(names.get(record.owner_id))),) if routed else ()
    return tuple(
        (
            c.field.replace("_", " "),
            _shown(names.get(c.old, c.old) if c.field == "owner" else c.old),
            _shown(names.get(c.new, c.new) if c.field == "owner" else c.new),
        )
        for c in record.diff_against(previous, excluded_fields=QUIET_FIELDS).changes
    )


def _shown(value) -> str:
    if value in (None, ""):
        return "–"
    return str(value)


def sms_opt_outs(phone):
    """The opt-out of ``phone`` (a value, or an OuterRef in a subquery): a number that opted out of SMS, not back in."""
    return Suppression.objects.filter(channel=Suppression.Channel.SMS, address=phone)


def contact_suppressed(channel: str, address: str) -> bool:
    """Whether ``address`` (a normalized phone, or an email) may not be reached on ``channel`` ("sms", "email").

    Read by its digest, so a person forgotten after opting out stays suppressed.
    """
    return bool(address) and Suppression.objects.filter(channel=channel, digest=contact_digest(address)).exists()


def contact_suppressed_channels(*, phone: str, email: str) -> set[str]:
    """The channels ("sms", "email") on which ``phone`` or ``email`` is suppressed, read by digest: one query."""
    if not (phone or email):
        return set()
    wanted = Q(pk__in=[])
    if phone:
        wanted |= Q(channel=Suppression.Channel.SMS, digest=contact_digest(phone))
    if email:
        wanted |= Q(channel=Suppression.Channel.EMAIL, digest=contact_digest(email))
    return set(Suppression.objects.filter(wanted).values_list("channel", flat=True))


def sms_opted_out(phone: str) -> bool:
    """Whether the number opted out of SMS (and not back in since)."""
    return contact_suppressed(Suppression.Channel.SMS, phone)


# The FCC allows one confirmation text after a revocation, sent within five minutes (47 CFR 64.1200(a)(10)).
CONFIRMATION_WINDOW = timedelta(minutes=5)


def opt_out_confirmable(record_id: int, phone: str, *, now=None) -> bool:
    """Whether the SMS opt-out ``record_id`` of ``phone`` may still be confirmed by its one text.

    True only within CONFIRMATION_WINDOW of the opt-out, while no confirmation was recorded after it.
    """
    now = now or timezone.now()
    record = ConsentRecord.objects.filter(
        pk=record_id,
        phone=phone,
        kind=ConsentRecord.Kind.OPT_OUT,
        channel__in=(ConsentRecord.Channel.SMS, ConsentRecord.Channel.ALL),
        created_at__gte=now - CONFIRMATION_WINDOW,
    ).first()
    if record is None:
        return False
    return not ConsentRecord.objects.filter(
        phone=phone, kind=ConsentRecord.Kind.CONFIRMATION, created_at__gte=record.created_at
    ).exists()
