"""Speed to lead: capture to the first response sent, overall and by channel, source, hour, weekday and rep."""

from dataclasses import dataclass
from datetime import date
from functools import partial

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncWeek

from audit.periods import Period, business_tz
from audit.reports.common import (
    FAST,
    NOISE_STAGES,
    SLOW,
    _at_once,
    _grouped,
    _user_names,
    period_leads,
    period_weeks,
    week_start,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
RESPONSE = ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
FRACTIONS = {"p50": 0.5, "p90": 0.9, "p99": 0.99}


@dataclass
class Speed:
    """Capture to first response sent, for one group of leads (seconds)."""

    leads: int = 0
    answered: int = 0
    within_1m: int = 0
    within_5m: int = 0
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None

    @property
    def share_1m(self) -> float | None:
        return self.within_1m / self.leads if self.leads else None

    @property
    def share_5m(self) -> float | None:
        return self.within_5m / self.leads if self.leads else None


def _counts() -> dict:
    return {
        "leads": Count("id"),
        "answered": Count("first_response_at"),
        "within_1m": Count("id", filter=Q(first_response_at__lte=F("created_at") + FAST)),
        "within_5m": Count("id", filter=Q(first_response_at__lte=F("created_at") + SLOW)),
    }


def _speed_grouped(leads: QuerySet, key) -> dict:
    """``{group: Speed}`` for ``leads`` grouped by the expression ``key`` (None: one group, all of them)."""
    groups = _grouped(leads, key, _counts(), value=RESPONSE, fractions=FRACTIONS)
    return {group: Speed(**figures) for group, figures in groups.items()}


@dataclass
class SpeedReport:
    overall: Speed
    by_channel: list[tuple[str, Speed]]
    by_source: list[tuple[str, Speed]]
    by_hour: list[tuple[str, Speed]]
    by_weekday: list[tuple[str, Speed]]
    by_rep: list[tuple[str, Speed]]


def speed_to_lead(period: Period) -> SpeedReport:
    """Time from capture to the first response sent: p50/p90/p99, shares within 1 and 5 minutes, by group.

    Spam and unqualified leads are left out (nobody should answer them); a lead never answered
    counts in ``leads`` and against the shares, not in the percentiles.
    """
    leads = period_leads(period).exclude(stage__in=NOISE_STAGES)
    tz = business_tz()
    keys = (
        None,
        F("channel"),
        F("source"),
        ExtractHour("created_at", tzinfo=tz),
        ExtractIsoWeekDay("created_at", tzinfo=tz),
        F("owner_id"),
    )
    overall, by_channel, by_source, by_hour, by_weekday, by_rep = _at_once(
        [partial(_speed_grouped, leads, key) for key in keys]
    )
    names = _user_names([k for k in by_rep if k is not None])
    return SpeedReport(
        overall=overall[None],
        by_channel=sorted(by_channel.items(), key=lambda kv: -kv[1].leads),
        by_source=sorted(by_source.items(), key=lambda kv: -kv[1].leads),
        by_hour=[(f"{hour:02d}:00", speed) for hour, speed in sorted(by_hour.items())],
        by_weekday=[(WEEKDAYS[day - 1], speed) for day, speed in sorted(by_weekday.items())],
        by_rep=sorted(
            ((names.get(k, "unassigned"), s) for k, s in by_rep.items()), key=lambda kv: (-kv[1].leads, kv[0])
        ),
    )


def speed_by_week(period: Period) -> list[tuple[date, Speed]]:
    """Speed to lead for each week (Monday on the business's clock) that ``period`` touches, empty weeks included.

    The same leads as :func:`speed_to_lead` (spam and unqualified left out), bucketed by when they arrived.
    """
    leads = period_leads(period).exclude(stage__in=NOISE_STAGES)
    groups = _speed_grouped(leads, TruncWeek("created_at", tzinfo=business_tz()))
    found = {week_start(week): speed for week, speed in groups.items() if week is not None}
    return [(week, found.get(week, Speed())) for week in period_weeks(period)]
