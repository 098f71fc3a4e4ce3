"""Carrying out approved actions through the channel backends, exactly once."""

import logging

from django.db import transaction
from django.utils import timezone

from approvals.models import Action, Workflow
from audit.models import Decision
from audit.services import Stopwatch, decision_record
from integrations import channels
from leads.choices import Stage
from leads.models import Lead, Message
from routing.sla import lead_touch

logger = logging.getLogger(__name__)


def _claim(action_id: int) -> tuple[Action, Message] | None:
    """Move an approved action to executing and create its outbound Message, in one committed transaction.

    Returns None when there is nothing to send (not approved any more, already sent, opted out).
    """
    with transaction.atomic():
        action = Action.objects.select_for_update(of=("self",)).select_related("lead").filter(pk=action_id).first()
        if action is None or action.status != Action.Status.APPROVED:
            logger.info(
                "action.execute_skipped", extra={"action_id": action_id, "status": getattr(action, "status", None)}
            )
            return None
        lead = action.lead
        if action.kind == Action.Kind.SEND_SMS and lead.opted_out:
            action.status = Action.Status.CANCELLED
            action.error = "The lead opted out of SMS."
            action.save(update_fields=["status", "error", "updated_at"])
            decision_record(
                step=Decision.Step.EXECUTE,
                lead=lead,
                action=action,
                reasoning="Not sent: the lead opted out of SMS after the action was approved.",
                outcome=Decision.Outcome.SKIPPED,
            )
            return None
        action.status = Action.Status.EXECUTING
        action.attempts += 1
        action.save(update_fields=["status", "attempts", "updated_at"])
        message, _ = Message.objects.update_or_create(
            action=action,
            defaults={
                "lead": lead,
                "direction": Message.Direction.OUTBOUND,
                "channel": action.channel,
                "to": action.payload.get("to", ""),
                "subject": action.payload.get("subject", ""),
                "body": action.body,
                "status": Message.Status.SENDING,
                "error": "",
            },
        )
    return action, message


def _fail(action: Action, message: Message, error: str) -> None:
    with transaction.atomic():
        message.status = Message.Status.FAILED
        message.error = error
        message.save(update_fields=["status", "error"])
        action.status = Action.Status.FAILED
        action.error = error
        action.escalated = True
        action.escalation_reason = "send failed"
        action.save(update_fields=["status", "error", "escalated", "escalation_reason", "updated_at"])
        decision_record(
            step=Decision.Step.EXECUTE,
            lead=action.lead,
            action=action,
            reasoning=f"Send failed: {error}",
            outcome=Decision.Outcome.FAILED,
        )
    logger.warning("action.failed", extra={"action_id": action.pk, "error": error})


def _complete(action: Action, message: Message, provider_id: str, duration_ms: float) -> None:
    now = timezone.now()
    with transaction.atomic():
        message.status = Message.Status.SENT
        message.provider_id = provider_id
        message.sent_at = now
        message.save(update_fields=["status", "provider_id", "sent_at"])
        action.status = Action.Status.DONE
        action.save(update_fields=["status", "updated_at"])
        lead = Lead.objects.select_for_update().get(pk=action.lead_id)
        changed = []
        answers = (Workflow.FIRST_RESPONSE, Workflow.CLARIFYING_QUESTION)
        if action.workflow in answers and lead.first_response_at is None:
            lead.first_response_at = now
            changed.append("first_response_at")
        if action.workflow == Workflow.QUOTE and lead.stage in (Stage.NEW, Stage.QUALIFIED, Stage.CONTACTED):
            lead.stage = Stage.QUOTED
            changed.append("stage")
        elif lead.stage in (Stage.NEW, Stage.QUALIFIED):
            lead.stage = Stage.CONTACTED
            changed.append("stage")
        if changed:
            lead._change_reason = f"{action.get_kind_display()} sent"
            lead.save(update_fields=[*changed, "updated_at"])
        decision_record(
            step=Decision.Step.EXECUTE,
            lead=lead,
            action=action,
            output={"message": message.pk, "provider_id": provider_id},
            reasoning=f"{action.get_kind_display()} handed to the {action.channel} backend.",
            duration_ms=duration_ms,
        )
        if action.decided_by_id is not None:
            # A message a person approved is their touch; one the policy sent alone is not.
            lead_touch(lead=lead, how=f"{action.get_kind_display().lower()} sent", actor=action.decided_by)
    logger.info("action.done", extra={"action_id": action.pk, "provider_id": provider_id})


def action_execute(*, action_id: int) -> Action | None:
    """Send an approved action once and record the provider id.

    Three short transactions: claim (approved -> executing, row locked), send outside any
    transaction, record. A second run finds the action no longer approved and sends nothing; a
    worker killed mid-send leaves it visibly ``executing`` rather than risking a second text.
    """
    claimed = _claim(action_id)
    if claimed is None:
        return None
    action, message = claimed
    try:
        with Stopwatch() as timer:
            if action.kind == Action.Kind.SEND_SMS:
                result = channels.send_sms(to=message.to, body=message.body)
            else:
                result = channels.send_email(to=message.to, subject=message.subject, body=message.body)
    except Exception as exc:  # noqa: BLE001 - any provider failure must leave the action visibly failed, not stuck
        _fail(action, message, str(exc) or exc.__class__.__name__)
        return action
    _complete(action, message, result.provider_id, timer.ms)
    return action
