"""django-q2 entry points for integrations: thin, they take ids and call services; each sees one configuration."""

from config.versions import one_configuration
from integrations import calendar, calendars, inbound, outbound


@one_configuration
def webhook_process(webhook_id: int) -> str:
    return inbound.webhook_process(webhook_id=webhook_id).status


@one_configuration
def webhook_deliver(delivery_id: int) -> str:
    delivery = outbound.webhook_deliver(delivery_id=delivery_id)
    return delivery.status if delivery is not None else "not due"


@one_configuration
def deliveries_due() -> int:
    """Scheduled every minute (migrations integrations 0004, routing 0012): webhooks whose retry time has come."""
    return outbound.deliveries_due()


@one_configuration
def invite_send(appointment_id: int) -> str:
    message = calendar.invite_send(appointment_id=appointment_id)
    return "sent" if message is not None else "nothing new"


@one_configuration
def calendar_write(appointment_id: int) -> str:
    return calendars.calendar_write(appointment_id=appointment_id)
