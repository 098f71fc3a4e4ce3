"""django-q2 entry points for routing: thin, they take ids and call services; each sees one configuration."""

from config.versions import one_configuration
from integrations.services import actions_approved_requeue
from routing.cadences import cadence_pass as _cadence_pass
from routing.cadences import cadence_sweep as _cadence_sweep
from routing.pipeline import events_unprocessed_requeue
from routing.pipeline import process_event as _process_event
from routing.sla import sla_sweep as _sla_sweep


@one_configuration
def process_event(event_id: int) -> int:
    return _process_event(event_id=event_id).pk


@one_configuration
def sla_sweep() -> dict:
    """Scheduled every minute (migration routing 0003): reassign or escalate first-touch breaches."""
    return vars(_sla_sweep())


@one_configuration
def cadence_sweep() -> dict:
    """Scheduled every minute (migration routing 0009): propose every cadence step that is due."""
    return _cadence_sweep()


@one_configuration
def cadence_pass() -> dict:
    """A helper the sweep enqueues when more than a batch is due, so several workers share the pass."""
    return _cadence_pass().summary()


@one_configuration
def requeue_lost() -> dict:
    """Scheduled every 5 minutes (migration routing 0011): events and approved sends whose task was lost."""
    return {"events": events_unprocessed_requeue(), "actions": actions_approved_requeue()}
