"""Who may see what: reps see their own leads, managers see all."""

from django.db.models import QuerySet

MANAGER_GROUP = "manager"
REP_GROUP = "rep"


def is_manager(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "groups"):
        return False
    if user.is_superuser:
        return True
    # Cached per request object: the portal asks on every row.
    if not hasattr(user, "_nightshift_is_manager"):
        user._nightshift_is_manager = user.groups.filter(name=MANAGER_GROUP).exists()
    return user._nightshift_is_manager


def scope_to_user(queryset: QuerySet, user, *, owner_path: str = "owner") -> QuerySet:
    """Limit ``queryset`` to rows of leads ``user`` may see; integrations (API keys) see all."""
    if getattr(user, "is_api_key", False) or is_manager(user):
        return queryset
    return queryset.filter(**{owner_path: user})


def portal_roles(request) -> dict:
    """Template context: whether the person is a manager (the nav shows the managers' pages)."""
    return {"user_is_manager": is_manager(getattr(request, "user", None))}
