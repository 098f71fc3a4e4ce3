"""Before and after, ROI: leads lost to a slow answer or no follow-up, and what recovering them is worth."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from audit.periods import Period
from audit.reports.booking import booked_rate
from audit.reports.common import NOISE_STAGES, answered_in_time, period_leads, slow_response
from leads.choices import OPEN_STAGES


@dataclass
class Lost:
    """Leads a period lost to a slow first response or to no follow-up (spam and unqualified left out)."""

    leads: int
    slow: int
    unfollowed: int

    @property
    def rate(self) -> float | None:
        return (self.slow + self.unfollowed) / self.leads if self.leads else None


def lost_leads(period: Period, *, now: datetime | None = None) -> Lost:
    """Slow: not answered within 5 minutes. Unfollowed: answered in time, still open, and not written to for
    REPORT_IDLE_DAYS before the period's end (or now, if sooner)."""
    now = now or timezone.now()
    leads = period_leads(period).exclude(stage__in=NOISE_STAGES)
    end = min(period.until, now)
    idle = end - timedelta(days=settings.REPORT_IDLE_DAYS)
    return Lost(
        **leads.aggregate(
            leads=Count("id"),
            slow=Count("id", filter=slow_response(now)),
            unfollowed=Count(
                "id",
                filter=answered_in_time()
                & Q(stage__in=OPEN_STAGES)
                & (Q(last_outbound_at__lt=idle) | Q(last_outbound_at=None)),
            ),
        )
    )


@dataclass
class Booked:
    """Leads of a period (noise left out) and how many booked a meeting: the conversion booking is for."""

    leads: int
    booked: int

    @property
    def rate(self) -> float | None:
        return self.booked / self.leads if self.leads else None


@dataclass
class Roi:
    baseline: Lost
    current: Lost
    current_days: float
    close_rate: Decimal
    deal_value: Decimal
    monthly_cost: Decimal
    recovered: float
    monthly_value: Decimal
    net: Decimal
    formula: str
    booked_before: Booked | None = None
    booked_now: Booked | None = None
    extra_bookings: float = 0.0
    booking_value: Decimal = Decimal("0.00")
    booking_formula: str = ""


def roi(*, baseline: Period, current: Period, close_rate: Decimal, deal_value: Decimal, monthly_cost: Decimal) -> Roi:
    """What recovered leads are worth a month against what the system costs, with the arithmetic shown.

    recovered = (baseline lost rate − current lost rate) × current leads (never below 0);
    monthly value = recovered × close rate × deal value × 30 / days in the current period.
    Bookings, the conversion booking in the conversation is for, are shown beside it the same way: extra bookings
    = (current booked rate − baseline booked rate) × current leads, worth extra × close rate × deal value × 30/days.
    """
    before, after = lost_leads(baseline), lost_leads(current)
    drop = (before.rate or 0) - (after.rate or 0)
    recovered = max(drop, 0) * after.leads
    scale = Decimal(30) / Decimal(str(round(current.days, 6))) if current.days else Decimal(0)
    value = (Decimal(str(recovered)) * close_rate / 100 * deal_value * scale).quantize(Decimal("0.01"))
    net = value - monthly_cost
    formula = (
        f"({_pct(before.rate)} lost before − {_pct(after.rate)} lost now) × {after.leads} leads = {recovered:.1f} "
        f"recovered; {recovered:.1f} × {close_rate}% close rate × {deal_value} per deal × 30/{current.days:g} days "
        f"= {value} a month, against {monthly_cost} a month: net {net}"
    )
    booked_before, booked_now = Booked(*booked_rate(baseline)), Booked(*booked_rate(current))
    extra = max((booked_now.rate or 0) - (booked_before.rate or 0), 0) * booked_now.leads
    booking_value = (Decimal(str(extra)) * close_rate / 100 * deal_value * scale).quantize(Decimal("0.01"))
    booking_formula = (
        f"({_pct(booked_now.rate)} booked now − {_pct(booked_before.rate)} before) × {booked_now.leads} leads = "
        f"{extra:.1f} more booked; × {close_rate}% close rate × {deal_value} per deal × 30/{current.days:g} days "
        f"= {booking_value} a month"
    )
    return Roi(
        before,
        after,
        current.days,
        close_rate,
        deal_value,
        monthly_cost,
        recovered,
        value,
        net,
        formula,
        booked_before,
        booked_now,
        extra,
        booking_value,
        booking_formula,
    )


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1%}"
