"""django-q2 entry points for routing: thin, they take ids and call services; each sees one configuration."""

import logging
import time

from approvals.services import actions_approved_requeue
from config.versions import one_configuration
from integrations import calendar, calendars, inbound
from integrations.llm.language import language_detect
from leads.geo import location_for
from routing import cadences, handover, pipeline, sla
from routing.reasoning import provider_get

logger = logging.getLogger(__name__)


def worker_warm(**_signal) -> None:
    """django-q2's ``post_spawn`` (a fresh or recycled worker, before its first task): load what a lead would
    otherwise wait for — the language identifier's model (~0.6 s), the ZIP table (~0.25 s) and the configured
    provider's model and classifier (seconds for the embedding model) — so a worker's first answer is as fast
    as its hundredth. Never raises: a worker that cannot warm up still works, cold."""
    started = time.monotonic()
    try:
        language_detect("Warming up: is this English?")
        location_for("10001")
        provider_get()
    except Exception:
        logger.exception("worker.warm_failed")
        return
    logger.info("worker.warm", extra={"ms": round((time.monotonic() - started) * 1000)})


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
