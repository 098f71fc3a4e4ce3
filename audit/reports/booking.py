"""Booking: how soon leads book after they arrive, which sources and channels book, and who does not show up.

A lead counts as booked when any meeting was booked for it (a later cancellation keeps it counted: the booking is
the conversion; the no-show figures say what came of it). Time to book runs from the lead's arrival to its first
booking. No-shows are the meetings of the period's leads that began and that a rep marked (Appointment.attendance).
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from audit.periods import Period
from audit.reports.common import NOISE_STAGES, _grouped, period_leads
from leads.models import Appointment

FRACTIONS = {"p50": 0.5, "p90": 0.9}


@dataclass
class BookedShare:
    """Leads of one group (a source, a channel, all) and how many booked; time to book in seconds."""

    key: str
    leads: int
    booked: int
    p50: float | None = None
    p90: float | None = None

    @property
    def share(self) -> float | None:
        return self.booked / self.leads if self.leads else None


@dataclass
class Attendance:
    """The period's leads' meetings that have begun: how many, how many a rep marked, and the no-shows among those."""

    past: int
    marked: int
    no_shows: int

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.marked if self.marked else None


@dataclass
class BookingReport:
    overall: BookedShare
    by_source: list[BookedShare]
    by_channel: list[BookedShare]
    attendance: Attendance


def _leads(period: Period) -> QuerySet:
    booked = Appointment.objects.filter(lead=OuterRef("pk"))
    first = booked.order_by("created_at").values("created_at")[:1]
    return (
        period_leads(period)
        .exclude(stage__in=NOISE_STAGES)
        .annotate(has_booking=Exists(booked), first_booked_at=Subquery(first))
    )


def _shares(leads: QuerySet, key) -> list[BookedShare]:
    groups = _grouped(
        leads,
        key,
        {"leads": Count("id"), "booked": Count("id", filter=Q(has_booking=True))},
        value=F("first_booked_at") - F("created_at"),
        fractions=FRACTIONS,
    )
    rows = [
        BookedShare(str(k or "–") if key is not None else "all", g["leads"], g["booked"], g["p50"], g["p90"])
        for k, g in groups.items()
    ]
    return sorted(rows, key=lambda r: (-r.leads, r.key))


def booked_rate(period: Period) -> tuple[int, int]:
    """(leads, booked leads) of the period, noise left out: the conversion the ROI model counts."""
    figures = _shares(_leads(period), None)[0]
    return figures.leads, figures.booked


def booking_report(period: Period) -> BookingReport:
    """Time from capture to booked, booked share overall, by source and by channel, and no-shows."""
    leads = _leads(period)
    meetings = Appointment.objects.filter(
        lead__created_at__gte=period.since, lead__created_at__lt=period.until, starts_at__lt=timezone.now()
    ).exclude(status=Appointment.Status.CANCELLED)
    attendance = meetings.aggregate(
        past=Count("id"),
        marked=Count("id", filter=~Q(attendance="")),
        no_shows=Count("id", filter=Q(attendance=Appointment.Attendance.NO_SHOW)),
    )
    return BookingReport(
        overall=_shares(leads, None)[0],
        by_source=_shares(leads, F("source")),
        by_channel=_shares(leads, F("channel")),
        attendance=Attendance(**attendance),
    )
