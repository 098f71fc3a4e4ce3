"""What an undelivered message does to the action that sent it (integrations.delivery reports it)."""

from django.conf import settings

from approvals.drafting import DraftContent
from approvals.lock_objects import action_lock
from approvals.models import Action, Policy
from approvals.services.proposing import action_propose
from approvals.sms import sms_text
from audit.models import Decision
from audit.services import decision_record
from integrations.outbound import slack_alert
from leads.models import Message


def _fallback_content(action: Action, lead, policy: Policy | None) -> DraftContent | None:
    """The same message on the other written channel, when the policy allows it and the lead can be reached there:
    an undelivered text goes by email, a bounced email by text (one too long for a text waits for a person)."""
    allows = {
        Action.Kind.SEND_SMS: policy is None or policy.fallback_to_email,
        Action.Kind.SEND_EMAIL: policy is None or policy.fallback_to_sms,
    }
    if not allows.get(action.kind):
        return None
    if action.kind == Action.Kind.SEND_SMS and lead.email and not lead.email_undeliverable:
        return DraftContent(
            kind=Action.Kind.SEND_EMAIL, to=lead.email, body=action.body, subject=settings.BUSINESS_NAME
        )
    if action.kind == Action.Kind.SEND_EMAIL and lead.phone and not lead.opted_out:
        # A text over the managers' segment limit is escalated by proposing, like every other text.
        return DraftContent(kind=Action.Kind.SEND_SMS, to=lead.phone, body=sms_text(action.body, lead=lead))
    return None


def action_undelivered(*, message: Message) -> None:
    """The provider could not deliver ``message`` (a text the carrier refused, an email that bounced): its action
    fails visibly (Retry in the queue) and, when the workflow's policy allows (``fallback_to_email``,
    ``fallback_to_sms``), the same text is proposed on the other channel. Runs in the delivery report's transaction.
    """
    action = action_lock(message.action_id)
    if action is None or action.status != Action.Status.DONE:
        return
    policy = Policy.objects.filter(workflow=action.workflow).first()
    lead = action.lead
    content = _fallback_content(action, lead, policy)
    what = "Text" if action.kind == Action.Kind.SEND_SMS else action.get_kind_display()
    fallback = None
    if content is not None:
        by = "email" if content.kind == Action.Kind.SEND_EMAIL else "text"
        fallback = action_propose(
            lead=lead,
            workflow=action.workflow,
            content=content,
            confidence=action.confidence,
            reasoning=f"The {what.lower()} to {message.to} could not be delivered ({message.error}); "
            f"the same message by {by}.",
            proposed_by=action.proposed_by,
        )
    instead = f"sent by {fallback.channel} instead (action {fallback.pk})" if fallback else ""
    action.status = Action.Status.FAILED
    action.error = message.error
    action.escalated = True
    action.escalation_reason = "not delivered" + (f"; {instead}" if fallback else "")
    action.version += 1
    action.save(update_fields=["status", "error", "escalated", "escalation_reason", "version", "updated_at"])
    decision_record(
        step=Decision.Step.DELIVERY,
        lead=lead,
        action=action,
        output={"message": message.pk, "status": message.status, "error_code": message.error_code},
        reasoning=f"Not delivered to {message.to}: {message.error}"
        + (f" Proposed by {fallback.channel} instead (action {fallback.pk})." if fallback else ""),
        outcome=Decision.Outcome.FAILED,
    )
    slack_alert(lead=lead, event="send_failed", text=f":warning: {what} to {lead} not delivered: {message.error}")
