"""The one road for every outbound action: propose under the workflow's Policy, then a person or the policy decides.

The portal, the API and the admin all call these functions, so they behave identically.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from approvals.drafting import DraftContent
from approvals.exceptions import ActionNotFound, ActionStateError
from approvals.models import Action, Policy
from audit.models import Decision
from audit.services import decision_record
from config.queue import enqueue_on_commit
from leads.permissions import is_manager

logger = logging.getLogger(__name__)

EXECUTE_TASK = "integrations.tasks.execute_action"


def _policy_for(workflow: str) -> Policy:
    # A workflow nobody configured waits for a person: the safe end of the dial.
    return Policy.objects.filter(workflow=workflow).first() or Policy(workflow=workflow, mode=Policy.Mode.DRAFT)


@dataclass(frozen=True)
class PolicyOutcome:
    mode: str
    status: str
    escalation: str = ""


def policy_outcome(*, workflow: str, confidence: float | None, gate: str = "") -> PolicyOutcome:
    """What the workflow's Policy does with a proposal; reads only (used by what-ifs too).

    ``gate`` names why this proposal must be seen by a person (a model's draft naming a price…):
    a gate always wins over the dial, except in observe mode, where nothing is ever sent.
    """
    policy = _policy_for(workflow)
    if policy.mode == Policy.Mode.OBSERVE:
        return PolicyOutcome(policy.mode, Action.Status.SHADOW)
    if gate:
        return PolicyOutcome(policy.mode, Action.Status.PENDING, gate)
    if policy.mode == Policy.Mode.AUTO:
        if confidence is not None and confidence < policy.min_confidence:
            escalation = f"confidence {confidence:.2f} < {policy.min_confidence:.2f}"
            return PolicyOutcome(policy.mode, Action.Status.PENDING, escalation)
        return PolicyOutcome(policy.mode, Action.Status.APPROVED)
    return PolicyOutcome(policy.mode, Action.Status.PENDING)


@transaction.atomic
def action_propose(
    *, lead, workflow: str, content: DraftContent, confidence: float | None, reasoning: str, event=None
) -> Action:
    """Create the action ``content`` describes and apply the workflow's Policy to it.

    observe: stored as shadow, never executed. draft: waits for a person. auto: approved and
    queued, unless confidence is below the policy's threshold (then it waits, escalated).
    Idempotent per (event, workflow): a retried pipeline gets the action it proposed before.
    """
    if event is not None:
        existing = Action.objects.filter(event=event, workflow=workflow).first()
        if existing is not None:
            return existing
    outcome = policy_outcome(workflow=workflow, confidence=confidence, gate=content.gate)
    status, escalation = outcome.status, outcome.escalation
    action = Action.objects.create(
        lead=lead,
        event=event,
        workflow=workflow,
        kind=content.kind,
        payload={
            "to": content.to,
            "body": content.body,
            "subject": content.subject,
            "template": content.template_id,
            "rewritten_by": content.rewritten_by,
        },
        status=status,
        confidence=confidence,
        reasoning=reasoning,
        escalated=bool(escalation),
        escalation_reason=escalation,
        decided_at=timezone.now() if status == Action.Status.APPROVED else None,
    )
    decision_record(
        step=Decision.Step.PROPOSE,
        lead=lead,
        action=action,
        input_summary=content.body,
        output={"action": action.pk, "kind": action.kind, "status": status, "policy_mode": outcome.mode},
        reasoning=f"Policy '{workflow}' is {outcome.mode}" + (f"; escalated: {escalation}" if escalation else "."),
        confidence=confidence,
        outcome=Decision.Outcome.ESCALATED if escalation else Decision.Outcome.OK,
    )
    if status == Action.Status.APPROVED:
        enqueue_on_commit(EXECUTE_TASK, action.pk)
    return action


def _lock_for(action_id: int, user) -> Action:
    """Lock the action row for a decision by ``user``; another rep's action reads as not found."""
    action = Action.objects.select_for_update(of=("self",)).filter(pk=action_id).select_related("lead").first()
    if action is None or not (is_manager(user) or action.lead.owner_id == user.pk):
        raise ActionNotFound("Action not found.")
    return action


def _require_status(action: Action, *allowed: str) -> None:
    if action.status not in allowed:
        decided = f" by {action.decided_by}" if action.decided_by_id else ""
        raise ActionStateError(
            f"This action is already {action.get_status_display().lower()}{decided}.",
            extra={"status": action.status},
        )


def validate_body(action: Action, body: str) -> str:
    """Check an edited message body against its channel; raises ValidationError naming ``body``."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "The message may not be empty."})
    if action.kind == Action.Kind.SEND_SMS and len(body) > settings.SMS_MAX_LENGTH:
        raise ValidationError(
            {"body": f"An SMS may be at most {settings.SMS_MAX_LENGTH} characters; this one has {len(body)}."}
        )
    return body


def _apply_edit(action: Action, user, body: str) -> None:
    body = validate_body(action, body)
    if body == action.body:
        return
    before = action.body
    if not action.edited:
        action.original_body = before
    action.edited = True
    action.payload = {**action.payload, "body": body}
    decision_record(
        step=Decision.Step.EDIT,
        lead=action.lead,
        action=action,
        actor=user,
        input_summary=before,
        output={"body": body},
        reasoning=f"{user} edited the draft.",
    )


@transaction.atomic
def action_edit(*, action_id: int, user, body: str) -> Action:
    """Change a pending message's text without deciding it; validates the body."""
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING)
    _apply_edit(action, user, body)
    action._history_user = user
    action.save(update_fields=["payload", "edited", "original_body", "updated_at"])
    return action


@transaction.atomic
def action_approve(*, action_id: int, user, body: str | None = None) -> Action:
    """Approve a pending action (optionally with edited text) and queue its execution after commit.

    A second approval finds the action no longer pending and raises ActionStateError: one send.
    """
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING)
    if body is not None:
        _apply_edit(action, user, body)
    action.status = Action.Status.APPROVED
    action.decided_by = user
    action.decided_at = timezone.now()
    action._history_user = user
    action.save(
        update_fields=["payload", "edited", "original_body", "status", "decided_by", "decided_at", "updated_at"]
    )
    decision_record(
        step=Decision.Step.APPROVE,
        lead=action.lead,
        action=action,
        actor=user,
        output={"status": action.status, "edited": action.edited},
        reasoning=f"{user} approved the {action.get_kind_display().lower()}"
        + (" after editing." if action.edited else "."),
    )
    enqueue_on_commit(EXECUTE_TASK, action.pk)
    logger.info("action.approved", extra={"action_id": action.pk, "user_id": user.pk})
    return action


@transaction.atomic
def action_reject(*, action_id: int, user, reason: str) -> Action:
    """Reject a pending action with a reason (required); nothing is sent."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the action is rejected."})
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING)
    action.status = Action.Status.REJECTED
    action.rejection_reason = reason
    action.decided_by = user
    action.decided_at = timezone.now()
    action._history_user = user
    action.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"])
    decision_record(
        step=Decision.Step.REJECT,
        lead=action.lead,
        action=action,
        actor=user,
        reasoning=reason,
        output={"status": "rejected"},
    )
    return action


@transaction.atomic
def action_retry(*, action_id: int, user) -> Action:
    """Send a failed action again after a person looked at it."""
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.FAILED)
    action.status = Action.Status.APPROVED
    action.error = ""
    action._history_user = user
    action.save(update_fields=["status", "error", "updated_at"])
    decision_record(step=Decision.Step.RETRY, lead=action.lead, action=action, actor=user, reasoning=f"{user} retried.")
    enqueue_on_commit(EXECUTE_TASK, action.pk)
    return action
