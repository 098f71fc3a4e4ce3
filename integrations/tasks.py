"""django-q2 entry points for integrations: thin, they take ids and call services; each sees one configuration."""

from config.versions import one_configuration
from integrations.calendar import invite_send
from integrations.inbound import webhook_process
from integrations.outbound import deliveries_due, webhook_deliver
from integrations.services import action_execute, executions_stalled


@one_configuration
def execute_action(action_id: int) -> str:
    action = action_execute(action_id=action_id)
    return action.status if action is not None else "skipped"


@one_configuration
def process_webhook(webhook_id: int) -> str:
    return webhook_process(webhook_id=webhook_id).status


@one_configuration
def deliver_webhook(delivery_id: int) -> str:
    delivery = webhook_deliver(delivery_id=delivery_id)
    return delivery.status if delivery is not None else "not due"


@one_configuration
def webhook_deliveries_due() -> int:
    """Scheduled every minute (migration integrations 0004): retries of outbound webhooks whose time has come."""
    return deliveries_due()


@one_configuration
def send_invite(appointment_id: int) -> str:
    message = invite_send(appointment_id=appointment_id)
    return "sent" if message is not None else "nothing new"


@one_configuration
def stalled_sends() -> int:
    """Scheduled every 5 minutes (migration integrations 0007): sends a dead worker left half-done are settled."""
    return executions_stalled()
