"""What an undelivered message does to the action that sent it (integrations.delivery reports it)."""

from django.conf import settings

from approvals.drafting import DraftContent
from approvals.lock_objects import action_lock
from approvals.models import Action, Policy
from approvals.services.proposing import action_propose
from audit.models import Decision
from audit.services import decision_record
from integrations.outbound import slack_alert
from leads.models import Message


def action_undelivered(*, message: Message) -> None:
    """The provider could not deliver ``message``: its action fails visibly (Retry in the queue) and, when the
    workflow's policy allows, the same text is proposed by email. Runs in the delivery report's transaction.
    """
    action = action_lock(message.action_id)
    if action is None or action.status != Action.Status.DONE:
        return
    fallback = None
    policy = Policy.objects.filter(workflow=action.workflow).first()
    lead = action.lead
    if action.kind == Action.Kind.SEND_SMS and lead.email and (policy is None or policy.fallback_to_email):
        fallback = action_propose(
            lead=lead,
            workflow=action.workflow,
            content=DraftContent(
                kind=Action.Kind.SEND_EMAIL, to=lead.email, body=action.body, subject=settings.BUSINESS_NAME
            ),
            confidence=action.confidence,
            reasoning=f"The text to {message.to} could not be delivered ({message.error}); the same message by email.",
            proposed_by=action.proposed_by,
        )
    action.status = Action.Status.FAILED
    action.error = message.error
    action.escalated = True
    action.escalation_reason = "not delivered" + (f"; sent by email instead (action {fallback.pk})" if fallback else "")
    action.version += 1
    action.save(update_fields=["status", "error", "escalated", "escalation_reason", "version", "updated_at"])
    decision_record(
        step=Decision.Step.DELIVERY,
        lead=lead,
        action=action,
        output={"message": message.pk, "status": message.status, "error_code": message.error_code},
        reasoning=f"Not delivered to {message.to}: {message.error}"
        + (f" Proposed by email instead (action {fallback.pk})." if fallback else ""),
        outcome=Decision.Outcome.FAILED,
    )
    slack_alert(lead=lead, event="send_failed", text=f":warning: Text to {lead} not delivered: {message.error}")
