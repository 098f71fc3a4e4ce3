"""django-q2 entry points for integrations: thin, they take ids and call services."""

from integrations.inbound import webhook_process
from integrations.services import action_execute


def execute_action(action_id: int) -> str:
    action = action_execute(action_id=action_id)
    return action.status if action is not None else "skipped"


def process_webhook(webhook_id: int) -> str:
    return webhook_process(webhook_id=webhook_id).status
