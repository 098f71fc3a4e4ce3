"""Every row lock on approvals' tables, by name (see leads.lock_objects for the order across the house).

An action is locked by every decision on it and by the executor's claim, so a cancelled or rejected
action is never sent and an approved one is sent once.
"""

from django.db.models import QuerySet

from approvals.models import Action, Policy


def action_lock(action_id: int) -> Action | None:
    """The action (its lead joined, not locked), locked until the transaction ends; None when there is none."""
    return Action.objects.select_for_update(of=("self",)).select_related("lead").filter(pk=action_id).first()


def action_lock_or_skip(action_id: int, **still) -> Action | None:
    """The action locked if no other transaction holds it and it still matches ``still`` (field lookups); else None."""
    return (
        Action.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("lead")
        .filter(pk=action_id, **still)
        .first()
    )


def actions_waiting_lock(lead) -> QuerySet[Action]:
    """The lead's actions still waiting to go (pending or approved), locked as the queryset is read."""
    return Action.objects.select_for_update(of=("self",)).filter(
        lead=lead, status__in=(Action.Status.PENDING, Action.Status.APPROVED)
    )


def policy_lock(workflow: str) -> Policy | None:
    """The workflow's Policy row, locked while a manager changes it; None when nobody configured it yet."""
    return Policy.objects.select_for_update().filter(workflow=workflow).first()
