from django.db.models import QuerySet

from approvals.models import Action
from leads.permissions import scope_to_user


def action_list(*, user) -> QuerySet[Action]:
    return scope_to_user(Action.objects.select_related("lead", "decided_by"), user, owner_path="lead__owner")


def action_queue(*, user, rep_user_id: int | None = None) -> QuerySet[Action]:
    """What waits for a person: pending actions and failed sends, oldest first."""
    queryset = action_list(user=user).filter(status__in=[Action.Status.PENDING, Action.Status.FAILED])
    if rep_user_id:
        queryset = queryset.filter(lead__owner_id=rep_user_id)
    return queryset.select_related("lead__owner", "event").order_by("created_at", "id")
