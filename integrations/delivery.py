"""Delivery reports from the SMS provider: an outbound message moves forward (sent, delivered) or fails."""

import logging

from django.db import transaction

from leads.lock_objects import outbound_message_lock
from leads.models import Message
from leads.reactions import MESSAGE_UNDELIVERED

logger = logging.getLogger(__name__)


# Twilio's message states, and how far along each is: a late "sent" never overwrites "delivered".
TWILIO_STATUS = {
    "accepted": Message.Status.SENDING,
    "scheduled": Message.Status.SENDING,
    "queued": Message.Status.SENDING,
    "sending": Message.Status.SENDING,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
}
PROGRESS = {
    Message.Status.SENDING: 0,
    Message.Status.SENT: 1,
    Message.Status.DELIVERED: 2,
    Message.Status.UNDELIVERED: 3,
    Message.Status.FAILED: 3,
}
# The delivery errors reps meet most; others link to Twilio's error page.
TWILIO_ERRORS = {
    "21610": "the recipient has unsubscribed (texted STOP to this sender)",
    "30003": "unreachable destination handset (phone off or out of coverage)",
    "30004": "message blocked by the recipient",
    "30005": "unknown destination handset (the number does not exist)",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier as spam",
    "30008": "unknown error from the carrier",
}


def twilio_error_text(code: str) -> str:
    known = TWILIO_ERRORS.get(code)
    return (
        f"Twilio error {code}: {known}"
        if known
        else f"Twilio error {code} (https://www.twilio.com/docs/api/errors/{code})"
    )


def message_delivery_update(*, provider_id: str, status: str, error_code: str = "") -> Message | None:
    """Apply a provider's delivery report to the outbound message it names.

    Reports may arrive late or out of order; a message only moves forward. A message that
    could not be delivered fails its action visibly (it waits in the queue with Retry) and, when
    the workflow's policy allows, the same text is proposed by email.
    """
    new = TWILIO_STATUS.get(status)
    if new is None:
        logger.warning("delivery.unknown_status", extra={"provider_id": provider_id, "status": status})
        return None
    with transaction.atomic():
        message = outbound_message_lock(provider_id)
        if message is None:
            logger.info("delivery.unknown_message", extra={"provider_id": provider_id, "status": status})
            return None
        if PROGRESS.get(new, 0) <= PROGRESS.get(message.status, 0):
            return message
        message.status = new
        message.error_code = error_code[:20]
        failed = new in (Message.Status.UNDELIVERED, Message.Status.FAILED)
        if failed:
            message.error = twilio_error_text(error_code) if error_code else f"Twilio reported the message {status}."
        message.save(update_fields=["status", "error_code", "error"])
        if failed and message.action_id:
            MESSAGE_UNDELIVERED.send(message=message)
    return message
