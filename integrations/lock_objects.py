"""Every row lock on integrations' tables, by name (see leads.lock_objects for the order across the house)."""

from django.db.models import QuerySet

from integrations.models import InboundWebhook, WebhookDelivery


def webhook_lock(webhook_id: int) -> InboundWebhook:
    """A stored inbound delivery, locked while it is turned into a capture (or put back to be tried again)."""
    return InboundWebhook.objects.select_for_update().get(pk=webhook_id)


def webhooks_lock(ids, **still) -> QuerySet[InboundWebhook]:
    """The stored inbound deliveries among ``ids`` that still match ``still``, locked as the queryset is read."""
    return InboundWebhook.objects.select_for_update().filter(pk__in=ids, **still)


def delivery_lock(delivery_id: int) -> WebhookDelivery:
    """An outbound webhook delivery, locked while its try is recorded."""
    return WebhookDelivery.objects.select_for_update().get(pk=delivery_id)


def delivery_lock_or_skip(delivery_id: int) -> WebhookDelivery | None:
    """A pending delivery locked (its subscription joined), or None when another worker holds it or it is done."""
    return (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("subscription")
        .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
        .first()
    )
