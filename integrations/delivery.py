"""Delivery reports from the SMS provider: an outbound message moves forward (sent, delivered) or fails."""

import logging

from django.db import transaction

from leads.lock_objects import outbound_message_lock
from leads.models import ConsentRecord, Message
from leads.reactions import MESSAGE_UNDELIVERED
from leads.services import Evidence, consent_opt_out

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


# Carrier answers that mean the person does not want our texts: the number is opted out (no confirmation: the
# carrier blocks it). 21610: the recipient texted STOP to this sender (Twilio's own opt-out list); 30004: the
# recipient or their carrier blocks messages from this sender.
CARRIER_OPT_OUT = frozenset({"21610", "30004"})


def message_delivery_update(*, provider_id: str, status: str, error_code: str = "", to: str = "") -> Message | None:
    """Apply a provider's delivery report to the outbound message it names (``to``: the number it went to).

    Reports may arrive late or out of order; a message only moves forward. A message that
    could not be delivered fails its action visibly (it waits in the queue with Retry) and, when
    the workflow's policy allows, the same text is proposed by email. A carrier opt-out code
    (CARRIER_OPT_OUT) opts the number out of SMS, even for a message we do not know.
    """
    new = TWILIO_STATUS.get(status)
    if new is None:
        logger.warning("delivery.unknown_status", extra={"provider_id": provider_id, "status": status})
        return None
    with transaction.atomic():
        message = outbound_message_lock(provider_id)
        if error_code in CARRIER_OPT_OUT and (to or message is not None):
            consent_opt_out(
                channel="sms",
                how=ConsentRecord.How.CARRIER,
                phone=message.to if message is not None else to,
                lead=message.lead if message is not None else None,
                evidence=Evidence(
                    words=twilio_error_text(error_code),
                    message=message,
                    reference=f"{provider_id} error {error_code}",
                    actor_label=f"carrier (Twilio {error_code})",
                ),
            )
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
