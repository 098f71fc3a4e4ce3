"""django-q2 entry points for routing: thin, they take ids and call services; each sees one configuration."""

from approvals.services import actions_approved_requeue
from config.versions import one_configuration
from integrations import calendar, calendars, inbound
from routing import cadences, handover, pipeline, sla


@one_configuration
def event_process(event_id: int) -> int:
    return pipeline.event_process(event_id=event_id).pk


@one_configuration
def sla_sweep() -> dict:
    """Scheduled every minute (migration routing 0003): reassign or escalate first-touch breaches."""
    return vars(sla.sla_sweep())


@one_configuration
def cadence_sweep() -> dict:
    """Scheduled every minute (migration routing 0009): propose every cadence step that is due."""
    return cadences.cadence_sweep()


@one_configuration
def cadence_pass() -> dict:
    """A helper the sweep enqueues when more than a batch is due, so several workers share the pass."""
    return cadences.cadence_pass().summary()


@one_configuration
def owner_leads_handover(user_id: int) -> dict:
    """Queued when a rep's user can no longer log in: a batch of their open leads goes back to the routing rules."""
    return vars(handover.owner_leads_handover(user_id=user_id))


@one_configuration
def lost_work_requeue() -> dict:
    """Scheduled every 5 minutes (migrations routing 0011, 0012): work whose task was lost is queued again.

    Events not processed, approved sends not claimed, stored webhooks not captured, invites not sent,
    bookings not yet written to the host's calendar, open leads
    still owned by someone who cannot log in.
    """
    return {
        "events": pipeline.events_unprocessed_requeue(),
        "actions": actions_approved_requeue(),
        "webhooks": inbound.webhooks_received_requeue(),
        "invites": calendar.invites_unsent_requeue(),
        "calendar_writes": calendars.calendar_writes_requeue(),
        "handovers": handover.handovers_requeue(),
    }
