"""django-q2 entry points for routing: thin, they take ids and call services."""

from routing.pipeline import process_event as _process_event
from routing.sla import sla_sweep as _sla_sweep


def process_event(event_id: int) -> int:
    return _process_event(event_id=event_id).pk


def sla_sweep() -> dict:
    """Scheduled every minute (migration routing 0003): reassign or escalate first-touch breaches."""
    return vars(_sla_sweep())
