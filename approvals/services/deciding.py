"""Deciding: a person approves, edits, rejects, retries, snoozes or redrafts a proposed action, under its row lock."""

import difflib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from approvals.drafting import DraftContent
from approvals.exceptions import ActionForbidden, ActionNotFound, ActionStateError
from approvals.lock_objects import action_lock
from approvals.models import Action, Reviewer
from approvals.services.execution import EXECUTE_TASK
from approvals.services.proposing import action_approved_announce, body_validate
from approvals.sms import sms_check
from audit.models import Decision
from audit.services import decision_record
from config.exceptions import validation_text
from config.queue import enqueue_on_commit
from leads.permissions import is_manager

logger = logging.getLogger(__name__)

SNOOZE_CHOICES = {15: "15 minutes", 60: "1 hour", 240: "4 hours", 1440: "Tomorrow"}
MAX_SNOOZE_MINUTES = 7 * 24 * 60
MAX_BULK = 100


def _may_see(action: Action, user) -> bool:
    return is_manager(user) or action.lead.owner_id == user.pk


def _lock_for(action_id: int, user) -> Action:
    """Lock the action row for a decision by ``user``; another rep's action reads as not found."""
    action = action_lock(action_id)
    if action is None or not _may_see(action, user):
        raise ActionNotFound("Action not found.")
    return action


def _require_status(action: Action, *allowed: str, version: int | None = None, deciding: bool = True) -> None:
    if action.status not in allowed:
        decided = f" by {action.decided_by}" if action.decided_by_id else ""
        raise ActionStateError(
            f"This action is already {action.get_status_display().lower()}{decided}.",
            extra={"status": action.status, "version": action.version},
        )
    if version is not None and version != action.version:
        raise ActionStateError(
            "This action changed since you opened it; here it is as it stands now.",
            extra={"status": action.status, "version": action.version},
        )


def _require_reviewer(action: Action, user) -> None:
    if action.review_by == Reviewer.MANAGER and not is_manager(user):
        raise ActionForbidden(f"A manager must decide this one ({action.escalation_reason}).")


def _save(action: Action, user, *fields: str) -> None:
    action.version += 1
    action._history_user = user
    action.save(update_fields=[*fields, "version", "updated_at"])


def edit_distance(before: str, after: str) -> float:
    """How far an edit moved a text: 0 unchanged, 1 nothing kept (1 minus difflib's similarity ratio)."""
    return round(1 - difflib.SequenceMatcher(None, before, after, autojunk=False).ratio(), 3)


def _apply_edit(action: Action, user, body: str) -> None:
    body = body_validate(action.kind, body)
    if body == action.body:
        return
    before = action.body
    if not action.edited:
        action.original_body = before
    action.edited = True
    action.payload = {**action.payload, "body": body}
    action.edit_distance = edit_distance(action.original_body, body)
    decision_record(
        step=Decision.Step.EDIT,
        lead=action.lead,
        action=action,
        actor=user,
        input_summary=before,
        output={"body": body, "edit_distance": action.edit_distance},
        reasoning=f"{user} edited the draft.",
    )


EDIT_FIELDS = ("payload", "edited", "original_body", "edit_distance")


@transaction.atomic
def action_edit(*, action_id: int, user, body: str, version: int | None = None) -> Action:
    """Change a pending message's text without deciding it; validates the body."""
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING, version=version)
    _require_reviewer(action, user)
    _apply_edit(action, user, body)
    _save(action, user, *EDIT_FIELDS)
    return action


@transaction.atomic
def action_approve(*, action_id: int, user, body: str | None = None, version: int | None = None) -> Action:
    """Approve a pending action (optionally with edited text) and queue its execution after commit.

    A second approval finds the action no longer pending and raises ActionStateError: one send.
    ``version`` (from the page the person saw) refuses to overwrite a change made meanwhile. An SMS over the
    managers' segment limit, edited or not, raises ValidationError (``body``).
    """
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING, version=version)
    _require_reviewer(action, user)
    if body is not None:
        _apply_edit(action, user, body)
    elif action.kind == Action.Kind.SEND_SMS:
        sms_check(action.body)  # approved unchanged: still within the managers' limit as it stands now
    action.status = Action.Status.APPROVED
    action.decided_by = user
    action.decided_at = timezone.now()
    action.snoozed_until = None
    if not action.edited:
        action.edit_distance = 0.0
    _save(action, user, *EDIT_FIELDS, "status", "decided_by", "decided_at", "snoozed_until")
    decision_record(
        step=Decision.Step.APPROVE,
        lead=action.lead,
        action=action,
        actor=user,
        output={"status": action.status, "edited": action.edited, "edit_distance": action.edit_distance},
        reasoning=f"{user} approved the {action.get_kind_display().lower()}"
        + (f" after editing (distance {action.edit_distance:.2f})." if action.edited else " unchanged."),
    )
    enqueue_on_commit(EXECUTE_TASK, action.pk)
    action_approved_announce(action)
    logger.info("action.approved", extra={"action_id": action.pk, "user_id": user.pk})
    return action


@dataclass(frozen=True)
class BulkResult:
    action_id: int
    action: Action | None
    error: str = ""


def action_approve_many(*, action_ids: Iterable[int], user) -> list[BulkResult]:
    """Approve several pending actions unchanged, each in its own transaction; one refusal stops no other."""
    ids = list(dict.fromkeys(int(i) for i in action_ids))
    if not ids:
        raise ValidationError({"ids": "Select at least one action."})
    if len(ids) > MAX_BULK:
        raise ValidationError({"ids": f"Approve at most {MAX_BULK} actions at once; {len(ids)} were selected."})
    results = []
    for action_id in ids:
        try:
            results.append(BulkResult(action_id, action_approve(action_id=action_id, user=user)))
        except (ActionNotFound, ActionStateError, ActionForbidden) as exc:
            results.append(BulkResult(action_id, None, exc.message))
        except ValidationError as exc:
            results.append(BulkResult(action_id, None, validation_text(exc)))
    return results


@transaction.atomic
def action_reject(*, action_id: int, user, reason: str, version: int | None = None) -> Action:
    """Reject a pending action with a reason (required); nothing is sent."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the action is rejected."})
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING, version=version)
    _require_reviewer(action, user)
    action.status = Action.Status.REJECTED
    action.rejection_reason = reason
    action.decided_by = user
    action.decided_at = timezone.now()
    _save(action, user, "status", "rejection_reason", "decided_by", "decided_at")
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
    _save(action, user, "status", "error")
    decision_record(step=Decision.Step.RETRY, lead=action.lead, action=action, actor=user, reasoning=f"{user} retried.")
    enqueue_on_commit(EXECUTE_TASK, action.pk)
    return action


@transaction.atomic
def action_snooze(*, action_id: int, user, minutes: int, version: int | None = None) -> Action:
    """Hide a pending action from the queue for ``minutes``; it comes back by itself, still pending."""
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_SNOOZE_MINUTES:
        raise ValidationError({"minutes": f"Snooze for 1 to {MAX_SNOOZE_MINUTES} minutes."})
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING, version=version)
    action.snoozed_until = timezone.now() + timedelta(minutes=minutes)
    _save(action, user, "snoozed_until")
    decision_record(
        step=Decision.Step.SNOOZE,
        lead=action.lead,
        action=action,
        actor=user,
        reasoning=f"{user} snoozed it until {timezone.localtime(action.snoozed_until):%b %d %H:%M}.",
        output={"until": action.snoozed_until.isoformat()},
    )
    return action


def action_for_decision(*, action_id: int, user, version: int | None = None) -> Action:
    """The pending action ``user`` may decide, read without a lock (for work done before the decision, like drafting).

    Raises ActionNotFound (not theirs, or gone), ActionStateError (not pending, or a stale ``version``) or
    ActionForbidden (waits for a manager).
    """
    action = Action.objects.filter(pk=action_id).select_related("lead__owner", "event").first()
    if action is None or not _may_see(action, user):
        raise ActionNotFound("Action not found.")
    _require_status(action, Action.Status.PENDING, version=version)
    _require_reviewer(action, user)
    return action


@transaction.atomic
def action_redraft(
    *, action_id: int, user, content: DraftContent, version: int, instruction: str = "", duration_ms: float = 0.0
) -> Action:
    """Replace a pending message's text with a new draft, if nobody changed the action since ``version``.

    The draft is made by the caller outside any transaction (a model may take seconds); this applies it
    under the row lock. A draft that names a commitment (``content.gate``) escalates the action.
    """
    locked = _lock_for(action_id, user)
    _require_status(locked, Action.Status.PENDING, version=version)
    before = locked.body
    locked.payload = {
        **locked.payload,
        "body": content.body,
        "subject": content.subject,
        "template": content.template_id,
        "rewritten_by": content.rewritten_by,
    }
    locked.edited, locked.original_body, locked.edit_distance = False, "", None
    fields = [*EDIT_FIELDS]
    if content.gate:
        locked.escalated, locked.escalation_reason = True, content.gate[:300]
        fields += ["escalated", "escalation_reason"]
    _save(locked, user, *fields)
    model_note = (
        f"rewritten by {content.rewritten_by}"
        if content.rewritten_by
        else "no model rewrote it: the template's text" + (" (the instruction needs a model)" if instruction else "")
    )
    decision_record(
        step=Decision.Step.REGENERATE,
        lead=locked.lead,
        action=locked,
        actor=user,
        input_summary=before,
        output={"body": content.body, "instruction": instruction, "rewritten_by": content.rewritten_by},
        reasoning=f"{user} asked for a new draft" + (f" ({instruction})" if instruction else "") + f"; {model_note}.",
        duration_ms=duration_ms,
        model=content.rewritten_by,
    )
    return locked
