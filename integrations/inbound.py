"""Provider callbacks in: store the raw delivery once, then turn it into a capture in a task.

A webhook view checks the signature and calls ``webhook_receive``: one insert (the unique
(source, external_id) refuses a provider's retry) and the processing task queued on commit, so
the provider gets its answer in milliseconds. ``webhook_process`` parses the stored payload with
the parser registered for its kind and hands the result to ``leads.services.lead_capture``.
"""

import contextlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals.models import Action
from approvals.services import actions_cancel_waiting
from audit.models import Decision
from audit.services import decision_record
from config.queue import enqueue_on_commit
from integrations.models import InboundWebhook
from leads.choices import Channel
from leads.models import Lead, SmsOptOut
from leads.normalize import normalize_phone
from leads.services import CaptureEvent, lead_capture
from routing.cadences import cadences_on_opt_out

logger = logging.getLogger(__name__)

# Carrier keywords (CTIA): matched on the whole message, any case, surrounding spaces ignored.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP"})


class Ignored(Exception):
    """A delivery that carries nothing to capture (a test lead, a non-lead event); the reason is kept on the row."""


def webhook_receive(*, kind: str, source: str, external_id: str, payload: dict) -> tuple[InboundWebhook, bool]:
    """Store one delivery and queue its processing on commit; returns (row, created).

    A delivery already stored under the same (source, external_id) is returned as it is and
    queues nothing: a provider's retry or a replayed request never captures twice.
    """
    try:
        with transaction.atomic():
            row = InboundWebhook.objects.create(kind=kind, source=source, external_id=external_id, payload=payload)
            enqueue_on_commit("integrations.tasks.process_webhook", row.pk)
    except IntegrityError:
        return InboundWebhook.objects.get(source=source, external_id=external_id), False
    return row, True


def twilio_sms_event(payload: dict) -> CaptureEvent:
    """A Twilio inbound-message callback as a capture: the sender, the text, and any media URLs."""
    if keyword := sms_keyword(payload.get("Body", "")):
        raise Ignored(f"Carrier keyword {keyword.upper()}: handled as consent or help when it arrived.")
    count = int(payload.get("NumMedia") or 0)
    media = [payload[f"MediaUrl{i}"] for i in range(count) if payload.get(f"MediaUrl{i}")]
    return CaptureEvent(
        channel=Channel.SMS,
        source="twilio-sms",
        external_id=payload["MessageSid"],
        phone=payload["From"],
        message=payload.get("Body", ""),
        payload={**payload, "media": media},
    )


# kind -> parser(row) -> CaptureEvent; raises Ignored, or ValidationError/KeyError for malformed payloads.
PARSERS: dict[str, Callable[[InboundWebhook], CaptureEvent]] = {
    InboundWebhook.Kind.TWILIO_SMS: lambda row: twilio_sms_event(row.payload),
}


def parser_register(kind: str):
    """Register the parser for one kind of webhook (modules of integrations add theirs on import)."""

    def register(func):
        PARSERS[kind] = func
        return func

    return register


def _finish(row: InboundWebhook, status: str, error: str = "", event=None) -> InboundWebhook:
    row.status, row.error, row.event, row.processed_at = status, error[:2000], event, timezone.now()
    row.save(update_fields=["status", "error", "event", "processed_at"])
    return row


def webhook_process(*, webhook_id: int) -> InboundWebhook:
    """Parse a stored delivery and capture it; malformed ones are marked failed with the reason, never lost.

    The parser runs before any lock (it may call the provider's API, as Facebook's does); the
    capture and the row's new status then commit together. Safe to run twice.
    """
    row = InboundWebhook.objects.get(pk=webhook_id)
    if row.status != InboundWebhook.Status.RECEIVED:
        return row
    try:
        event, problem, status = PARSERS[row.kind](row), "", InboundWebhook.Status.PROCESSED
    except Ignored as exc:
        event, problem, status = None, str(exc), InboundWebhook.Status.IGNORED
    except (KeyError, ValueError, TypeError, ValidationError) as exc:
        problem = f"Malformed {row.get_kind_display()} payload: {exc!r}"
        event, status = None, InboundWebhook.Status.FAILED
    with transaction.atomic():
        row = InboundWebhook.objects.select_for_update().get(pk=webhook_id)
        if row.status != InboundWebhook.Status.RECEIVED:
            return row
        if event is None:
            logger.warning("webhook.not_captured", extra={"webhook_id": row.pk, "reason": problem})
            return _finish(row, status, problem)
        try:
            result = lead_capture(event=event)
        except ValidationError as exc:
            logger.warning("webhook.invalid", extra={"webhook_id": row.pk, "errors": exc.message_dict})
            return _finish(row, InboundWebhook.Status.FAILED, f"Not captured: {exc.message_dict}")
        return _finish(row, InboundWebhook.Status.PROCESSED, event=result.event)


@transaction.atomic
def webhook_retry(*, ids: list[int]) -> int:
    """Queue failed deliveries again (after a mapping or a lead was fixed); returns how many."""
    rows = list(InboundWebhook.objects.select_for_update().filter(pk__in=ids, status=InboundWebhook.Status.FAILED))
    for row in rows:
        row.status, row.error, row.processed_at = InboundWebhook.Status.RECEIVED, "", None
        row.save(update_fields=["status", "error", "processed_at"])
        enqueue_on_commit("integrations.tasks.process_webhook", row.pk)
    return len(rows)


def sms_keyword(body: str) -> str:
    """'stop', 'start', 'help' or '' for an inbound text."""
    word = (body or "").strip().upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return "help" if word in HELP_WORDS else ""


@transaction.atomic
def sms_consent_set(*, phone: str, keyword: str) -> None:
    """Opt the number out of every SMS (STOP…) or back in (START/UNSTOP), and say so on its lead's timeline.

    Waiting SMS actions for the number are cancelled with the reason, so no one approves a text
    that can no longer go.
    """
    # A short code or an alphanumeric sender does not normalize: it is kept as Twilio gave it.
    with contextlib.suppress(ValidationError):
        phone = normalize_phone(phone, region=settings.DEFAULT_PHONE_REGION) or phone
    opting_out = keyword.upper() in STOP_WORDS
    if opting_out:
        SmsOptOut.objects.get_or_create(phone=phone, defaults={"keyword": keyword.upper()})
    else:
        SmsOptOut.objects.filter(phone=phone).delete()
    for lead in Lead.objects.select_for_update().filter(phone=phone):
        if lead.opted_out != opting_out:
            lead.opted_out = opting_out
            lead._change_reason = f"texted {keyword.upper()}"
            lead.save(update_fields=["opted_out", "updated_at"])
        cancelled = 0
        if opting_out:
            reason = f"The number texted {keyword.upper()}."
            cancelled = actions_cancel_waiting(lead=lead, reason=reason, kind=Action.Kind.SEND_SMS)
            cadences_on_opt_out(leads=[lead], reason=reason)
        decision_record(
            step=Decision.Step.CONSENT,
            lead=lead,
            input_summary=keyword,
            output={"opted_out": opting_out, "cancelled": cancelled},
            reasoning=f"Texted {keyword.upper()}: "
            + ("no SMS will be sent to this number" if opting_out else "SMS allowed again")
            + (f"; {cancelled} waiting text(s) cancelled." if cancelled else "."),
        )
    logger.info("sms.consent", extra={"opted_out": opting_out, "keyword": keyword.upper()})
