"""Leaks: leads slipping away (slow first response, missed calls, quotes, SLA breaches, idle), each a list to open."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from audit.periods import Period
from audit.reports.common import NOISE_STAGES, period_leads, slow_response
from leads.choices import OPEN_STAGES, Stage
from leads.models import Lead, Message
from routing.models import Assignment, Enrollment
from routing.models.cadences import WAITING

LEAKS = {
    "slow": "No response within 5 minutes",
    "missed_calls": "Missed calls never returned",
    "quotes": "Quotes with no follow-up",
    "sla": "SLA breaches",
    "idle": "Open leads with no touch",
}


def leak_leads(kind: str, period: Period, *, now: datetime | None = None) -> QuerySet:
    """The leads of one leak, newest first: each report's list a manager can click through."""
    now = now or timezone.now()
    idle = now - timedelta(days=settings.REPORT_IDLE_DAYS)
    if kind == "slow":
        leads = period_leads(period).exclude(stage__in=NOISE_STAGES).filter(slow_response(now))
    elif kind == "missed_calls":
        returned = Message.objects.filter(
            lead=OuterRef("lead_id"), direction=Message.Direction.OUTBOUND, created_at__gt=OuterRef("created_at")
        )
        missed = Message.objects.filter(
            channel="call",
            direction=Message.Direction.INBOUND,
            status=Message.Status.MISSED,
            created_at__gte=period.since,
            created_at__lt=period.until,
        ).filter(~Exists(returned))
        leads = Lead.objects.filter(pk__in=missed.values("lead_id"))
    elif kind == "quotes":
        running = Enrollment.objects.filter(lead=OuterRef("pk"), status__in=WAITING)
        leads = (
            Lead.objects.filter(stage=Stage.QUOTED)
            .filter(Q(last_outbound_at__lt=now - timedelta(days=settings.REPORT_QUOTE_DAYS)) | Q(last_outbound_at=None))
            .filter(~Exists(running))
        )
    elif kind == "sla":
        breached = Assignment.objects.filter(breached_at__gte=period.since, breached_at__lt=period.until)
        leads = Lead.objects.filter(pk__in=breached.values("lead_id"))
    elif kind == "idle":
        leads = Lead.objects.filter(stage__in=OPEN_STAGES).filter(
            Q(last_outbound_at__lt=idle) | Q(last_outbound_at=None, created_at__lt=idle)
        )
    else:
        raise ValueError(f"Unknown leak {kind!r}.")
    return leads.order_by("-created_at", "-id")


def leaks(period: Period) -> list[tuple[str, str, int]]:
    """(kind, label, how many) for every leak."""
    return [(kind, label, leak_leads(kind, period).count()) for kind, label in LEAKS.items()]
