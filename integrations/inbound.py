"""Provider callbacks in: store the raw delivery once, then turn it into a capture in a task.

A webhook view checks the signature and calls ``webhook_receive``: one insert (the unique
(source, external_id) refuses a provider's retry) and the processing task queued on commit, so
the provider gets its answer in milliseconds. ``webhook_process`` parses the stored payload with
the parser registered for its kind and hands the result to ``leads.services.lead_capture``.
"""

import logging
from collections.abc import Callable
from email.errors import MessageError

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.queue import enqueue_on_commit, requeue, requeue_cutoff
from integrations.lock_objects import webhook_lock, webhooks_lock
from integrations.models import InboundWebhook
from leads.choices import Channel
from leads.consent_words import consent_reading
from leads.services import CaptureEvent, lead_capture

logger = logging.getLogger(__name__)

WEBHOOK_TASK = "integrations.tasks.webhook_process"


class Ignored(Exception):
    """A delivery that carries nothing to capture (a test lead, a non-lead event); the reason is kept on the row."""


class NotALead(Ignored):
    """A delivery no person wrote that still changes what we know: a bounce fails the message it returns, an
    automatic reply is noted on the lead it answers. ``settle()`` does that in the transaction that marks the row,
    under the row's lock, so a second run changes nothing; it returns the reason the row keeps."""

    def __init__(self, reason: str, *, settle: Callable[[], str]):
        super().__init__(reason)
        self.settle = settle


def webhook_receive(*, kind: str, source: str, external_id: str, payload: dict) -> tuple[InboundWebhook, bool]:
    """Store one delivery and queue its processing on commit; returns (row, created).

    A delivery already stored under the same (source, external_id) is returned as it is and
    queues nothing: a provider's retry or a replayed request never captures twice.
    """
    try:
        with transaction.atomic():
            row = InboundWebhook.objects.create(kind=kind, source=source, external_id=external_id, payload=payload)
            enqueue_on_commit(WEBHOOK_TASK, row.pk)
    except IntegrityError:
        return InboundWebhook.objects.get(source=source, external_id=external_id), False
    return row, True


def twilio_sms_event(payload: dict) -> CaptureEvent:
    """A Twilio inbound-message callback as a capture: the sender, the text, and any media URLs."""
    reading = consent_reading(payload.get("Body", ""))
    if reading.how == "keyword":
        raise Ignored(f"Keyword {reading.words!r} ({reading.kind}): handled as consent or help when it arrived.")
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
    capture and the row's new status then commit together, as do a NotALead's settling (a bounce,
    an automatic reply) and the row marked ignored with what it did. Safe to run twice.
    """
    row = InboundWebhook.objects.get(pk=webhook_id)
    if row.status != InboundWebhook.Status.RECEIVED:
        return row
    settle = None
    try:
        event, problem, status = PARSERS[row.kind](row), "", InboundWebhook.Status.PROCESSED
    except Ignored as exc:
        event, problem, status = None, str(exc), InboundWebhook.Status.IGNORED
        settle = getattr(exc, "settle", None)
    except (LookupError, ValueError, TypeError, ValidationError, MessageError) as exc:
        problem = f"Malformed {row.get_kind_display()} payload: {exc!r}"
        event, status = None, InboundWebhook.Status.FAILED
    with transaction.atomic():
        row = webhook_lock(webhook_id)
        if row.status != InboundWebhook.Status.RECEIVED:
            return row
        if event is None:
            if settle is not None:
                problem = settle()
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
    rows = list(webhooks_lock(ids, status=InboundWebhook.Status.FAILED))
    for row in rows:
        row.status, row.error, row.processed_at = InboundWebhook.Status.RECEIVED, "", None
        row.save(update_fields=["status", "error", "processed_at"])
        enqueue_on_commit(WEBHOOK_TASK, row.pk)
    return len(rows)


def webhooks_received_requeue(*, older_than_minutes: int | None = None, now=None) -> int:
    """Queue again the deliveries stored long ago and still not processed (their task was lost); returns how many.

    Processing is safe to run twice: a row no longer "received" is left alone.
    """
    cutoff = requeue_cutoff(older_than_minutes, now)
    waiting = InboundWebhook.objects.filter(status=InboundWebhook.Status.RECEIVED, received_at__lt=cutoff)
    return requeue(WEBHOOK_TASK, waiting.order_by("received_at").values_list("pk", flat=True))
