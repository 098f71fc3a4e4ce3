"""django-q2 entry points for approvals: thin, they take ids and call services; each sees one configuration."""

from approvals import services
from config.versions import one_configuration


@one_configuration
def action_execute(action_id: int) -> str:
    action = services.action_execute(action_id=action_id)
    return action.status if action is not None else "skipped"


@one_configuration
def executions_stalled() -> int:
    """Scheduled every 5 minutes (migrations integrations 0007, routing 0012): sends a dead worker left half-done."""
    return services.executions_stalled()


@one_configuration
def actions_held_release() -> int:
    """Scheduled every minute (migration approvals 0012): texts held for quiet hours whose minute has come."""
    return services.actions_held_release()
