"""The one road for every outbound action: propose under the workflow's Policy, decide, execute.

The portal, the API and the admin all call these functions, so they behave identically. The package
re-exports the names callers use; each module holds one idea.
"""

from approvals.exceptions import ActionForbidden, ActionNotFound, ActionStateError
from approvals.services.deciding import (
    EDIT_FIELDS,
    MAX_BULK,
    MAX_SNOOZE_MINUTES,
    SNOOZE_CHOICES,
    BulkResult,
    action_approve,
    action_approve_many,
    action_edit,
    action_for_decision,
    action_redraft,
    action_reject,
    action_retry,
    action_snooze,
    edit_distance,
)
from approvals.services.delivery import action_undelivered
from approvals.services.execution import (
    EXECUTE_TASK,
    action_execute,
    action_send_after_commit,
    executions_stalled,
    retrying,
)
from approvals.services.policy import PolicyOutcome, gate_facts_for, policy_for, policy_outcome
from approvals.services.policy_admin import POLICY_FIELDS, gate_add, gate_remove, policy_graduate, policy_update
from approvals.services.proposing import (
    action_approved_announce,
    action_propose,
    actions_cancel_waiting,
    body_validate,
    message_propose,
    system_message_propose,
    workflow_check,
)
from approvals.services.quiet_hours import quiet_hold
from approvals.services.requeue import actions_approved_requeue, actions_held_release

__all__ = [
    "ActionForbidden",
    "ActionNotFound",
    "ActionStateError",
    "EDIT_FIELDS",
    "EXECUTE_TASK",
    "MAX_BULK",
    "MAX_SNOOZE_MINUTES",
    "POLICY_FIELDS",
    "SNOOZE_CHOICES",
    "BulkResult",
    "PolicyOutcome",
    "action_approve",
    "action_approve_many",
    "action_approved_announce",
    "action_edit",
    "action_execute",
    "action_for_decision",
    "action_propose",
    "action_redraft",
    "action_reject",
    "action_retry",
    "action_send_after_commit",
    "action_snooze",
    "action_undelivered",
    "actions_approved_requeue",
    "actions_cancel_waiting",
    "actions_held_release",
    "body_validate",
    "edit_distance",
    "executions_stalled",
    "gate_add",
    "gate_facts_for",
    "gate_remove",
    "message_propose",
    "policy_for",
    "policy_graduate",
    "policy_outcome",
    "policy_update",
    "quiet_hold",
    "retrying",
    "system_message_propose",
    "workflow_check",
]
