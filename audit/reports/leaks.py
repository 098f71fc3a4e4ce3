"""Leaks: leads slipping away (slow first response, missed calls, quotes, SLA breaches, idle), each a list to open."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from audit.periods import Period, business_tz
from audit.reports.common import NOISE_STAGES, period_leads, period_weeks, slow_response, week_start
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


# The leaks dated by a moment in the period (counted by week); quotes and idle leads are states of now.
DATED = ("slow", "missed_calls", "sla")


def _missed_unreturned(period: Period) -> QuerySet:
    """Missed calls in the period with no outbound message to their lead after them."""
    returned = Message.objects.filter(
        lead=OuterRef("lead_id"), direction=Message.Direction.OUTBOUND, created_at__gt=OuterRef("created_at")
    )
    return Message.objects.filter(
        channel="call",
        direction=Message.Direction.INBOUND,
        status=Message.Status.MISSED,
        created_at__gte=period.since,
        created_at__lt=period.until,
    ).filter(~Exists(returned))


def _breaches(period: Period) -> QuerySet:
    return Assignment.objects.filter(breached_at__gte=period.since, breached_at__lt=period.until)


def leak_leads(kind: str, period: Period, *, now: datetime | None = None) -> QuerySet:
    """The leads of one leak, newest first: each report's list a manager can click through."""
    now = now or timezone.now()
    idle = now - timedelta(days=settings.REPORT_IDLE_DAYS)
    if kind == "slow":
        leads = period_leads(period).exclude(stage__in=NOISE_STAGES).filter(slow_response(now))
    elif kind == "missed_calls":
        leads = Lead.objects.filter(pk__in=_missed_unreturned(period).values("lead_id"))
    elif kind == "quotes":
        running = Enrollment.objects.filter(lead=OuterRef("pk"), status__in=WAITING)
        leads = (
            Lead.objects.filter(stage=Stage.QUOTED)
            .filter(Q(last_outbound_at__lt=now - timedelta(days=settings.REPORT_QUOTE_DAYS)) | Q(last_outbound_at=None))
            .filter(~Exists(running))
        )
    elif kind == "sla":
        leads = Lead.objects.filter(pk__in=_breaches(period).values("lead_id"))
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


def leaks_by_week(period: Period, *, now: datetime | None = None) -> list[tuple[date, dict[str, int]]]:
    """For each week ``period`` touches (Monday, business's clock): the leaks that happened in it, by kind.

    Leads answered late (by arrival), missed calls never returned (by the call) and leads whose SLA was breached
    (by the breach), each lead counted once a week; quotes and idle leads are states of now, not of a week.
    """
    now = now or timezone.now()
    tz = business_tz()
    slow = period_leads(period).exclude(stage__in=NOISE_STAGES).filter(slow_response(now))
    counted = {
        "slow": (slow, "created_at", "id"),
        "missed_calls": (_missed_unreturned(period), "created_at", "lead_id"),
        "sla": (_breaches(period), "breached_at", "lead_id"),
    }
    weeks = {week: dict.fromkeys(DATED, 0) for week in period_weeks(period)}
    for kind, (rows, moment, lead) in counted.items():
        grouped = rows.annotate(week=TruncWeek(moment, tzinfo=tz)).values("week").annotate(n=Count(lead, distinct=True))
        for row in grouped.order_by("week"):
            week = week_start(row["week"])
            if week in weeks:
                weeks[week][kind] = row["n"]
    return list(weeks.items())
