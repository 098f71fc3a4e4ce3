"""Quiet hours at the executor: a text the law does not allow now is held, still approved, until it may go.

The rules, the holidays and the lead's clock live a floor above (routing.quiet); the executor asks through
approvals.reactions.ACTION_QUIET_HOURS, so approvals imports nothing of routing. A held text keeps its approval
with ``not_before`` (UTC) and ``held_reason`` (the words the queue and the lead page show); the minute sweep
(approvals.services.requeue.actions_held_release) queues it when its time comes, and the claim lets it through once.
"""

import logging

from django.utils import timezone

from approvals.models import Action
from approvals.reactions import ACTION_QUIET_HOURS
from audit.models import Decision
from audit.services import decision_record

logger = logging.getLogger(__name__)


def quiet_hold(action: Action, *, now=None) -> bool:
    """Hold ``action`` if quiet hours forbid it to reach its lead at ``now``; True when held (nothing is sent).

    Only texts are asked: the state laws govern calls and texts, and an email, a chat reply or a task for the team
    is not one. The caller holds the action (row lock, or its creation). Exempt, as routing.quiet says: a direct
    reply within QUIET_HOURS_REPLY_MINUTES of the person's own message, and the opt-out's one confirmation.
    """
    if action.kind != Action.Kind.SEND_SMS:
        return False
    now = now or timezone.now()
    held = [verdict for verdict in ACTION_QUIET_HOURS.send(action=action, now=now) if not verdict.allowed]
    if not held:
        return False
    verdict = max(held, key=lambda v: v.until)
    action.not_before, action.held_reason = verdict.until, verdict.why[:300]
    action.save(update_fields=["not_before", "held_reason", "updated_at"])
    decision_record(
        step=Decision.Step.EXECUTE,
        lead=action.lead,
        action=action,
        reasoning=f"Not sent yet: {verdict.why}. It stays approved and goes then; nothing is dropped.",
        output={"not_before": verdict.until.isoformat(), "region": verdict.region},
        outcome=Decision.Outcome.SKIPPED,
    )
    logger.info("action.held", extra={"action_id": action.pk, "until": verdict.until.isoformat()})
    return True
