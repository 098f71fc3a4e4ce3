"""Periods on the business's clock (TIME_ZONE) and the baseline a manager set: what reports and pruning share.

Low in the audit app: it imports only Django, so the audit trail's writers (audit.services) can
use it without importing the reports, which read every app's models.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def business_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """Leads that arrived from ``since`` (inclusive) to ``until`` (exclusive)."""

    since: datetime
    until: datetime

    @classmethod
    def dates(cls, first: date, last: date) -> "Period":
        """Whole days on the business's clock, ``last`` included."""
        tz = business_tz()
        return cls(
            datetime.combine(first, time(0), tzinfo=tz), datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
        )

    @classmethod
    def last_days(cls, days: int) -> "Period":
        today = timezone.localdate(timezone=business_tz())
        return cls.dates(today - timedelta(days=days - 1), today)

    @property
    def first_day(self) -> date:
        return self.since.astimezone(business_tz()).date()

    @property
    def last_day(self) -> date:
        return (self.until - timedelta(microseconds=1)).astimezone(business_tz()).date()

    @property
    def days(self) -> float:
        return (self.until - self.since).total_seconds() / 86400

    @property
    def label(self) -> str:
        return f"{self.first_day:%b %-d, %Y} – {self.last_day:%b %-d, %Y}"


def baseline_period(settings_row) -> Period | None:
    """The baseline a manager set on the report settings (both days), else None."""
    if settings_row is not None and settings_row.baseline_start and settings_row.baseline_end:
        return Period.dates(settings_row.baseline_start, settings_row.baseline_end)
    return None
