"""django-q2 entry points for integrations: thin, they take ids and call services."""

from integrations.services import action_execute


def execute_action(action_id: int) -> str:
    action = action_execute(action_id=action_id)
    return action.status if action is not None else "skipped"
