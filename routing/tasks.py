"""django-q2 entry points for routing: thin, they take ids and call services."""

from routing.cadences import cadence_pass as _cadence_pass
from routing.cadences import cadence_sweep as _cadence_sweep
from routing.pipeline import process_event as _process_event
from routing.sla import sla_sweep as _sla_sweep


def process_event(event_id: int) -> int:
    return _process_event(event_id=event_id).pk


def sla_sweep() -> dict:
    """Scheduled every minute (migration routing 0003): reassign or escalate first-touch breaches."""
    return vars(_sla_sweep())


def cadence_sweep() -> dict:
    """Scheduled every minute (migration routing 0009): propose every cadence step that is due."""
    return _cadence_sweep()


def cadence_pass() -> dict:
    """A helper the sweep enqueues when more than a batch is due, so several workers share the pass."""
    return _cadence_pass().summary()
