"""What integrations holds about a person, for export and erasure (PERSON_EXPORT, PERSON_FORGET in leads.reactions).

Raw provider callbacks (InboundWebhook: a Twilio text, a mail, an ad platform's lead, with the sender's number or
address), what we posted to CRMs and Slack (WebhookDelivery: lead data), and chat sessions (a bearer token
tying a browser to the lead's conversation). A webhook is theirs when it became one of their events, or when its
payload carries one of their addresses (a STOP text or a failed parse never became an event).
"""

from django.db.models import Q

from integrations.models import ChatSession, InboundWebhook, WebhookAttempt, WebhookDelivery
from leads.privacy import Person, redacted, rows_export, rows_forget, words_forgotten

NOT_SENT = "Not sent: the person was forgotten."


def _webhooks(person: Person):
    return InboundWebhook.objects.filter(Q(event__lead_id__in=person.lead_ids) | person.found_in("payload"))


def _deliveries(person: Person):
    return WebhookDelivery.objects.filter(Q(lead_id__in=person.lead_ids) | person.found_in("payload"))


def integrations_forget(*, person: Person, leads, user=None) -> dict[str, int]:
    """Blank raw payloads and delivery bodies, stop deliveries still waiting (they would post the person's data,
    or an empty body, to a CRM), and end chat sessions. Kept: each row's kind, source, provider id, status and
    times, so delivery logs and provider retries (the unique (source, external_id)) still work."""
    deliveries = _deliveries(person)
    ids = list(deliveries.values_list("pk", flat=True))
    # A CRM's answer may echo anything it was sent (the person's words too): only its status code is kept.
    attempts = rows_forget(WebhookAttempt.objects.filter(delivery_id__in=ids), {"error": words_forgotten}, person)[0]
    delivered = rows_forget(
        WebhookDelivery.objects.filter(pk__in=ids), {"payload": {}, "last_error": words_forgotten}, person
    )[0]
    stopped = WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None, last_error=NOT_SENT
    )
    webhooks = rows_forget(_webhooks(person), {"payload": {}, "error": redacted}, person)[0]
    # The session is only its token and lead: a browser holding the token must not reach the tombstone's chat.
    sessions, _ = ChatSession.objects.filter(lead_id__in=person.lead_ids).delete()
    return {
        "inbound_webhooks": webhooks,
        "webhook_deliveries": delivered,
        "webhook_deliveries_stopped": stopped,
        "webhook_attempts": attempts,
        "chat_sessions": sessions,
    }


def integrations_export(*, person: Person, leads) -> dict[str, list[dict]]:
    """The person's raw webhooks, what was posted about them (and each try's answer), their chat sessions."""
    deliveries = _deliveries(person).order_by("created_at", "id")
    return {
        "inbound_webhooks": rows_export(_webhooks(person).order_by("received_at", "id")),
        "webhook_deliveries": rows_export(deliveries),
        "webhook_attempts": rows_export(WebhookAttempt.objects.filter(delivery__in=deliveries)),
        "chat_sessions": rows_export(ChatSession.objects.filter(lead_id__in=person.lead_ids)),
    }
