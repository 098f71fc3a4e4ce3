"""django-q2 entry points for audit: thin, they call services."""

from django.conf import settings

from audit import services


def decisions_prune() -> int:
    """Scheduled daily (migrations audit 0008, routing 0012): the log's retention; 0 keeps it for ever."""
    days = settings.DECISION_RETENTION_DAYS
    return services.decisions_prune(older_than_days=days) if days else 0
