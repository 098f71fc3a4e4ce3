"""Delivery reports: an outbound message moves forward (sent, delivered) or fails.

Texts by the SMS provider's status callbacks; emails by the bounces that come back to our inbound address
(integrations.dsn reads them, integrations.mail hands them here).
"""

import logging

from django.db import transaction

from audit.models import Decision
from audit.services import decision_record
from integrations.dsn import DeliveryReport, RecipientStatus
from leads.choices import Channel
from leads.lock_objects import lead_lock, outbound_message_lock
from leads.models import ConsentRecord, Lead, Message
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


def _bounced_message(original_ids: tuple[str, ...], address: str) -> Message | None:
    """Our outbound email a bounce returns: by the Message-ID it quotes, else the latest email to ``address``.

    A quoted email with one recipient is the one, whatever address failed (the lead's mailbox may forward to the
    one that bounced); one with several (a calendar invite to the lead and the rep) only for one of them.
    """
    sent = Message.objects.filter(direction=Message.Direction.OUTBOUND, channel=Channel.EMAIL)
    if original_ids:
        found = {m.message_id: m for m in sent.filter(message_id__in=original_ids)}
        for message in (found[i] for i in original_ids if i in found):
            recipients = [a.strip().lower() for a in message.to.split(",")]
            if len(recipients) == 1 or address in recipients:
                return message
    if "@" not in address:
        return None
    return sent.filter(to__iexact=address).exclude(provider_id="").order_by("-created_at", "-id").first()


def _address_undeliverable(lead: Lead, recipient: RecipientStatus, message: Message) -> str:
    why = f"{recipient.status} {recipient.diagnostic}".strip()[:300]
    if lead.email != recipient.address or lead.email_undeliverable == why:
        return ""
    lead.email_undeliverable = why
    lead._change_reason = f"email bounced ({recipient.status})"
    lead.save(update_fields=["email_undeliverable", "updated_at"])
    decision_record(
        step=Decision.Step.DELIVERY,
        lead=lead,
        output={"message": message.pk, "status": recipient.status, "address": "undeliverable"},
        reasoning=f"The address {recipient.address} takes no mail ({recipient.summary}): no email goes to it until "
        "a person corrects or clears it on the lead.",
        outcome=Decision.Outcome.FAILED,
    )
    return "; the address is marked undeliverable"


def _recipient_apply(report: DeliveryReport, recipient: RecipientStatus) -> str:
    found = _bounced_message(report.original_ids, recipient.address)
    if found is None:
        return f"{recipient.address or 'an unnamed recipient'} ({recipient.summary}): no email of ours to it"
    lead = lead_lock(found.lead_id)
    message = (outbound_message_lock(found.provider_id) if found.provider_id else None) or found
    if not recipient.failed:
        decision_record(
            step=Decision.Step.DELIVERY,
            lead=lead,
            action=message.action,
            output={"message": message.pk, "status": recipient.status, "action": recipient.action},
            reasoning=f"The email to {recipient.address} is {recipient.action or 'reported'} ({recipient.summary});"
            " the receiving side keeps trying, nothing changes yet.",
        )
        return f"message {message.pk} to {recipient.address} {recipient.action or 'reported'} ({recipient.status})"
    done = f"message {message.pk} to {recipient.address} bounced ({recipient.status})"
    # The address first: the action's fallback (message.undelivered) must not propose email to it again.
    if recipient.address_dead:
        done += _address_undeliverable(lead, recipient, message)
    if PROGRESS.get(message.status, 0) < PROGRESS[Message.Status.FAILED]:
        message.status = Message.Status.FAILED
        message.error_code = recipient.status[:20]
        message.error = f"Bounced: {recipient.summary}"
        message.save(update_fields=["status", "error_code", "error"])
        if message.action_id:
            MESSAGE_UNDELIVERED.send(message=message)
        else:
            decision_record(
                step=Decision.Step.DELIVERY,
                lead=lead,
                output={"message": message.pk, "status": recipient.status},
                reasoning=f"Not delivered to {recipient.address}: {message.error}",
                outcome=Decision.Outcome.FAILED,
            )
        done += "; the message is marked failed"
    return done


def email_bounce_record(*, report: DeliveryReport) -> str:
    """Apply a bounce (integrations.dsn) to the outbound email it returns; returns what was done, in words.

    The email is found by the Message-ID the bounce quotes, else as the latest email to the failed address. A
    failed recipient fails the message (status failed; the RFC 3463 status as error_code; the server's words as
    error) and, through message.undelivered, its action, which falls back to a text when the workflow's policy
    allows (approvals.services.delivery), as an undelivered text falls back to email. A permanent failure of the
    address itself (RecipientStatus.address_dead) also sets Lead.email_undeliverable, which stops every later
    email to it; a transient one (4.x.x) or a delay does not. Runs in the stored bounce's transaction.
    """
    if not report.recipients:
        return f"A delivery failure notice from {report.reporter or 'the mail system'} naming no recipient."
    done = [_recipient_apply(report, recipient) for recipient in report.recipients]
    # Counts only: the outcomes name the person's address.
    logger.info("email.bounce", extra={"reporter": report.reporter, "recipients": len(done)})
    return f"Delivery report from {report.reporter or 'the mail system'}: " + "; ".join(done) + "."
