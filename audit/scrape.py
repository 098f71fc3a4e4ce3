"""The /metrics scrape: counts read from the database at scrape time, with the durations of audit.metrics.

Counts (events by channel, actions by status, sends by channel and outcome, the queue and the
oldest waiting work) come from the database, so every web node answers the same whatever
process did the work. Durations (pipeline steps, model calls) are the histograms of
audit.metrics, observed in the process that did the work; with PROMETHEUS_MULTIPROC_DIR set
(an empty directory shared by the web and worker processes of one machine) a scrape sums them
over every process.
"""

import os

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from approvals.models import Action
from config.queue import broker
from leads.models import InboundEvent, Message


class DatabaseCollector:
    """What the database knows, read at each scrape with grouped counts over indexed columns."""

    def collect(self):
        events = CounterMetricFamily(
            "nightshift_events_captured", "Inbound events captured, by channel.", labels=["channel"]
        )
        for row in InboundEvent.objects.values("channel").annotate(n=Count("id")).order_by():
            events.add_metric([row["channel"]], row["n"])
        yield events
        actions = GaugeMetricFamily("nightshift_actions", "Actions by status.", labels=["status"])
        for row in Action.objects.values("status").annotate(n=Count("id")).order_by():
            actions.add_metric([row["status"]], row["n"])
        yield actions
        sends = CounterMetricFamily(
            "nightshift_sends", "Outbound messages by channel and outcome (status).", labels=["channel", "outcome"]
        )
        outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND)
        for row in outbound.values("channel", "status").annotate(n=Count("id")).order_by():
            sends.add_metric([row["channel"], row["status"]], row["n"])
        yield sends
        yield GaugeMetricFamily(
            "nightshift_queue_depth", "Tasks waiting in the django-q2 broker.", value=_queue_depth()
        )
        waiting = GaugeMetricFamily(
            "nightshift_oldest_waiting_seconds",
            "Age of the oldest work not done yet: an event not processed, an approved action not sent.",
            labels=["work"],
        )
        now = timezone.now()
        # Since they were stored and approved: an imported event's received_at, or an action drafted a day
        # before a person approved it, says nothing about the queue.
        oldest_event = InboundEvent.objects.filter(processed_at=None).aggregate(at=Min("created_at"))["at"]
        oldest_action = Action.objects.filter(status=Action.Status.APPROVED).aggregate(at=Min("updated_at"))["at"]
        for work, at in (("event", oldest_event), ("action", oldest_action)):
            waiting.add_metric([work], (now - at).total_seconds() if at else 0)
        yield waiting


def _queue_depth() -> float:
    try:
        return float(broker().queue_size() or 0)
    except Exception:  # noqa: BLE001 - a broker outage shows as NaN, the scrape still answers
        return float("nan")


def metrics_text() -> bytes:
    """One scrape: the database's counts and the durations of this process (or of every process, multiprocess)."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(registry) + generate_latest(REGISTRY)
