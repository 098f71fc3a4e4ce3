"""django-q2 entry points for audit: thin, they call services."""

from django.conf import settings

from audit.services import decisions_prune


def prune_log() -> int:
    """Scheduled daily (migration audit 0008): the log's retention; 0 keeps it for ever."""
    days = settings.DECISION_RETENTION_DAYS
    return decisions_prune(older_than_days=days) if days else 0
