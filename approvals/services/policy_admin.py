"""Administering policies: a manager turns a workflow's dial, graduates it to auto, adds or removes gates. Logged."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from approvals.gates import GATE_FIELDS
from approvals.lock_objects import policy_lock
from approvals.models import Policy, PolicyGate, Reviewer
from approvals.selectors import graduation_stats
from approvals.services.policy import policy_for
from approvals.services.proposing import workflow_check
from audit.models import Decision
from audit.services import decision_record
from leads.conditions import describe, parse_lines

logger = logging.getLogger(__name__)


POLICY_FIELDS = ("mode", "min_confidence", "graduation_bar", "graduation_window")


@transaction.atomic
def policy_update(*, workflow: str, user, reason: str = "", **changes) -> Policy:
    """Turn the dial (mode, threshold, graduation bar); validated, kept in history and logged as a Decision.

    Values may be the strings a form posted: the model's validation converts them or names the field.
    """
    workflow_check(workflow)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({name: "This setting does not exist." for name in sorted(unknown)})
    policy = policy_lock(workflow) or Policy(workflow=workflow)
    before = {name: getattr(policy, name) for name in POLICY_FIELDS}
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.full_clean()
    changed = {
        name: [before[name], getattr(policy, name)] for name in POLICY_FIELDS if before[name] != getattr(policy, name)
    }
    if not changed:
        return policy
    words = ", ".join(f"{name.replace('_', ' ')} {old} → {new}" for name, (old, new) in changed.items())
    policy._history_user = user
    policy._change_reason = (reason or words)[:100]
    policy.save()
    decision_record(
        step=Decision.Step.POLICY,
        workflow=workflow,
        actor=user,
        output={"changed": changed},
        reasoning=f"{user}: {workflow.replace('_', ' ')} {words}" + (f" ({reason})" if reason else "."),
    )
    logger.info("policy.changed", extra={"workflow": workflow, "user_id": user.pk, "changed": list(changed)})
    return policy


def policy_graduate(*, workflow: str, user) -> Policy:
    """Move a workflow to auto after its record earned it (the portal's one-click graduation)."""
    stats = graduation_stats(policy_for(workflow))
    if not stats.eligible:
        raise ValidationError({"mode": f"Not ready to graduate: {stats.verdict}"})
    return policy_update(workflow=workflow, user=user, mode=Policy.Mode.AUTO, reason=f"graduated: {stats.verdict}")


@transaction.atomic
def gate_add(*, workflow: str, user, name: str, conditions_text: str, reviewer: str = Reviewer.MANAGER) -> PolicyGate:
    """Add an approval gate to a workflow's Policy (created in draft mode if it did not exist)."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Name the gate, e.g. 'Quotes over 5,000'."
    if reviewer not in Reviewer.values:
        errors["reviewer"] = f"Choose one of {', '.join(Reviewer.values)}."
    try:
        conditions = parse_lines(conditions_text or "", fields=GATE_FIELDS)
    except ValueError as exc:
        errors["conditions"] = str(exc)
    if errors:
        raise ValidationError(errors)
    workflow_check(workflow)
    policy, _ = Policy.objects.get_or_create(workflow=workflow)
    gate = PolicyGate(policy=policy, name=name[:100], conditions=conditions, reviewer=reviewer)
    gate.full_clean()
    gate._history_user = user
    gate.save()
    decision_record(
        step=Decision.Step.POLICY,
        workflow=workflow,
        actor=user,
        output={"gate": gate.pk, "conditions": conditions, "reviewer": reviewer},
        reasoning=f"{user} added gate '{gate.name}' ({describe(conditions)}) to {workflow.replace('_', ' ')}.",
    )
    return gate


@transaction.atomic
def gate_remove(*, gate_id: int, user) -> None:
    """Remove an approval gate; logged with what it tested."""
    gate = PolicyGate.objects.select_related("policy").filter(pk=gate_id).first()
    if gate is None:
        raise ValidationError({"gate": "That gate no longer exists."})
    workflow = gate.policy.workflow
    gate._history_user = user
    gate.delete()
    decision_record(
        step=Decision.Step.POLICY,
        workflow=workflow,
        actor=user,
        output={"gate_removed": gate_id, "conditions": gate.conditions},
        reasoning=f"{user} removed gate '{gate.name}' from {workflow.replace('_', ' ')}.",
    )
