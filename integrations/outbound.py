"""Outbound webhooks: CRM events a manager subscribed to, and Slack alerts, with retries and a delivery log.

Emitting writes one WebhookDelivery per receiver inside the caller's transaction and queues
its POST on commit, so an event is announced only if what it describes was saved. A POST that
fails is tried again with exponential backoff by the minute sweep (``deliveries_due``) until
WEBHOOK_MAX_ATTEMPTS, then marked failed; a manager can replay any delivery from the admin.
Receivers may see a delivery twice (a worker can die after the POST, before recording it):
the body's ``id`` is stable, so they can ignore repeats.
"""

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.queue import enqueue_on_commit
from config.reactions import Reaction
from config.versions import SETTINGS_KEY, Snapshot
from integrations.lock_objects import delivery_lock, delivery_lock_or_skip
from integrations.models import CrmEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.signatures import outbound_signature

logger = logging.getLogger(__name__)

DELIVER_TASK = "integrations.tasks.webhook_deliver"
# While one worker holds a delivery's POST in flight, no other picks it up.
LEASE = timedelta(minutes=2)


def lead_data(lead) -> dict:
    """What receivers learn about a lead in every event."""
    return {
        "id": lead.pk,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "stage": lead.stage,
        "score": lead.score,
        "owner": lead.owner.get_username() if lead.owner_id else None,
        "url": f"{settings.PUBLIC_BASE_URL}/portal/leads/{lead.pk}/",
    }


def _delivery_create(**fields) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(next_attempt_at=timezone.now(), **fields)
    enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


# Every new lead and every stage change asks who subscribed; subscriptions change rarely.
_subscriptions = Snapshot(
    SETTINGS_KEY, lambda: tuple(WebhookSubscription.objects.filter(active=True).order_by("pk")), (WebhookSubscription,)
)


def crm_event_emit(event: str, *, lead=None, data: Callable[[], dict]) -> list[WebhookDelivery]:
    """Announce ``event`` to every active subscription that asked for it; call inside the writing transaction.

    ``data()`` builds the payload, only when someone subscribed: most installations have no CRM.
    """
    assert event in CrmEvent.values, event
    receivers = [s for s in _subscriptions.get() if event in s.events]
    if not receivers:
        return []
    built = data()
    now = timezone.now()
    return [
        _delivery_create(
            kind=WebhookDelivery.Kind.CRM,
            subscription=sub,
            url=sub.url,
            event=event,
            lead=lead,
            payload={"id": str(uuid.uuid4()), "event": event, "created_at": now.isoformat(), "data": built},
        )
        for sub in receivers
    ]


def crm_stage_announce(*, lead, before: str, by: str) -> None:
    """Receiver of leads.reactions.LEAD_STAGE_CHANGED: the one announcement of a stage change, whoever made it."""
    crm_event_emit(
        CrmEvent.LEAD_STAGE_CHANGED, lead=lead, data=lambda: {"lead": lead_data(lead), "before": before, "by": by}
    )


def crm_appointment_announce(*, appointment, user=None) -> None:
    """Receiver of leads.reactions.APPOINTMENT_ANNOUNCED: subscribed CRMs hear of the booking (after its stage)."""
    lead = appointment.lead
    crm_event_emit(
        CrmEvent.APPOINTMENT_BOOKED,
        lead=lead,
        data=lambda: {
            "lead": lead_data(lead),
            "appointment": {
                "id": appointment.pk,
                "starts_at": appointment.starts_at.isoformat(),
                "duration_minutes": appointment.duration_minutes,
                "location": appointment.location,
            },
        },
    )


@dataclass(frozen=True)
class SlackTarget:
    """Where a lead's Slack alert goes and whom it is for: the answer to SLACK_CHANNEL_FOR."""

    url: str = ""  # the incoming-webhook URL of a team's channel; "" for the SLACK_WEBHOOK_URL setting
    notify: str = ""  # who can take the lead now, in words, added under the alert


# lead: the SlackTarget of whoever can take the lead now (routing knows the teams, shifts and absences), or None.
SLACK_CHANNEL_FOR = Reaction("slack.channel_for", order=("routing",))


def _slack_target(lead) -> SlackTarget:
    if lead is not None:
        target = next(filter(None, SLACK_CHANNEL_FOR.send(lead=lead)), None)
        if target is not None:
            return SlackTarget(url=target.url or settings.SLACK_WEBHOOK_URL, notify=target.notify)
    return SlackTarget(url=settings.SLACK_WEBHOOK_URL)


def slack_alert(*, lead, event: str, text: str) -> WebhookDelivery | None:
    """Post ``text`` to the channel of whoever can take the lead now (or the default one), naming them.

    Only logged when no channel is set.
    """
    target = _slack_target(lead)
    url = target.url
    if target.notify:
        text = f"{text}\n{target.notify}"
    if lead is not None:
        text = f"{text}\n<{settings.PUBLIC_BASE_URL}/portal/leads/{lead.pk}/|Open {lead} in Nightshift>"
    if not url:
        logger.info("slack.not_configured", extra={"event": event, "text": text})
        return None
    return _delivery_create(kind=WebhookDelivery.Kind.SLACK, url=url, event=event, lead=lead, payload={"text": text})


def _claim(delivery_id: int, now) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = delivery_lock_or_skip(delivery_id)
        if delivery is None or (delivery.next_attempt_at and delivery.next_attempt_at > now):
            return None
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["next_attempt_at"])
    return delivery


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, float]:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Nightshift-Webhooks/1"}
    if delivery.subscription is not None:
        headers["X-Nightshift-Event"] = delivery.event
        headers["X-Nightshift-Delivery"] = str(delivery.pk)
        headers["X-Nightshift-Signature"] = outbound_signature(delivery.subscription.secret, int(time.time()), body)
    started = time.perf_counter()
    try:
        response = requests.post(
            delivery.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        return None, f"{exc.__class__.__name__}: {exc}", (time.perf_counter() - started) * 1000
    ms = (time.perf_counter() - started) * 1000
    if 200 <= response.status_code < 300:
        return response.status_code, "", ms
    return response.status_code, f"HTTP {response.status_code}: {response.text[:300]}", ms


def backoff(attempts: int) -> timedelta:
    """Wait before try ``attempts + 1``: the base doubling each time, at most an hour."""
    return timedelta(seconds=min(3600, settings.WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1)))


def webhook_deliver(*, delivery_id: int, now=None) -> WebhookDelivery | None:
    """POST one due delivery and record the try; returns None when it is not due or another worker has it."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    status_code, error, ms = _post(delivery)
    with transaction.atomic():
        delivery = delivery_lock(delivery_id)
        WebhookAttempt.objects.create(delivery=delivery, status_code=status_code, error=error, duration_ms=ms)
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        if not error:
            delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, now
            delivery.next_attempt_at = None
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            logger.warning("webhook.gave_up", extra={"delivery_id": delivery.pk, "error": error})
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save()
    return delivery


def deliveries_due(*, now=None, limit: int = 500) -> int:
    """Try every pending delivery whose time has come (scheduled every minute); returns how many were tried."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    return sum(webhook_deliver(delivery_id=pk, now=now) is not None for pk in ids)


@transaction.atomic
def webhook_replay(*, ids: list[int]) -> list[WebhookDelivery]:
    """Send deliveries again as new rows (the log of the first ones stays); the body, and its id, are unchanged."""
    originals = WebhookDelivery.objects.filter(pk__in=ids).select_related("subscription")
    return [
        _delivery_create(
            kind=d.kind,
            subscription=d.subscription,
            url=d.subscription.url if d.subscription else d.url,
            event=d.event,
            lead_id=d.lead_id,
            payload=d.payload,
        )
        for d in originals
    ]
