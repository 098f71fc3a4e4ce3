"""When a cadence step may go: delays, business days and quiet hours on the lead's clock. Pure: no ORM.

Instants are aware datetimes; hours and minutes are elapsed time (24 hours is 24 hours across a
daylight-saving change), business days keep the wall-clock time. Every result is one instant, so
a step scheduled across a DST change is neither sent twice nor skipped. Windows (``Window``, ``Week``)
are wall times on the lead's clock; the ``tz`` argument says which clock that is.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES, HOURS, BUSINESS_DAYS = "minutes", "hours", "business_days"


@dataclass(frozen=True)
class Window:
    """Local times a channel may reach someone: from ``allowed_from`` up to (not including) ``allowed_until``."""

    allowed_from: time
    allowed_until: time

    @classmethod
    def parse(cls, text: str) -> "Window":
        """``"08:00-21:00"`` → Window; raises ValueError naming what is wrong."""
        start, sep, end = text.partition("-")
        if not sep:
            raise ValueError(f"Write the window as 08:00-21:00, not {text!r}.")
        window = cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        if window.allowed_from >= window.allowed_until:
            raise ValueError(f"The window {text!r} must end after it starts, within one day.")
        return window


def narrower(first: Window | None, second: Window | None) -> Window | None:
    """The hours both windows allow (the later start, the earlier end); None when either is closed or they miss."""
    if first is None or second is None:
        return None
    start, end = max(first.allowed_from, second.allowed_from), min(first.allowed_until, second.allowed_until)
    return Window(start, end) if start < end else None


@dataclass(frozen=True)
class Week:
    """Local windows by kind of day on the lead's clock; a day whose window is None is closed (nothing goes).

    ``holidays_closed`` closes the dates passed as holidays too (the business's Holiday rows).
    """

    weekdays: Window | None
    saturday: Window | None
    sunday: Window | None
    holidays_closed: bool = False

    @classmethod
    def every_day(cls, window: Window | None) -> "Week":
        return cls(window, window, window)

    def window_on(self, day: date, holidays: Collection[date] = ()) -> Window | None:
        """The window of ``day`` (a local date), or None when nothing may go that day."""
        if self.holidays_closed and day in holidays:
            return None
        return {5: self.saturday, 6: self.sunday}.get(day.weekday(), self.weekdays)

    def stricter(self, other: "Week") -> "Week":
        """What both weeks allow: each day's narrower window; a holiday closed by either is closed."""
        return Week(
            narrower(self.weekdays, other.weekdays),
            narrower(self.saturday, other.saturday),
            narrower(self.sunday, other.sunday),
            self.holidays_closed or other.holidays_closed,
        )

    @property
    def never_open(self) -> bool:
        return self.weekdays is None and self.saturday is None and self.sunday is None


def local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``at`` o'clock on ``day`` in ``tz``; a wall time a DST change skips becomes the moment after the gap."""
    # Through UTC and back: a nonexistent wall time (spring forward) maps to one real instant,
    # and an ambiguous one (fall back) to its first occurrence.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz)


def is_business_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: datetime, days: int, tz: ZoneInfo, holidays: Collection[date]) -> datetime:
    """``days`` business days after ``start`` at the same local wall time, skipping weekends and ``holidays``."""
    local = start.astimezone(tz)
    day, added = local.date(), 0
    while added < days:
        day += timedelta(days=1)
        added += is_business_day(day, holidays)
    return local_at(day, local.time(), tz)


def offset(
    base: datetime, *, delay: int, unit: str, tz: ZoneInfo, holidays: Collection[date], before: bool = False
) -> datetime:
    """``delay`` ``unit`` after ``base`` (or before it, for appointment reminders)."""
    if unit == BUSINESS_DAYS:
        return add_business_days(base, delay, tz, holidays)
    delta = timedelta(minutes=delay) if unit == MINUTES else timedelta(hours=delay)
    moment = base.astimezone(UTC)
    return moment - delta if before else moment + delta


def next_allowed(
    moment: datetime,
    *,
    tz: ZoneInfo,
    window: Window | None,
    holidays: Collection[date] = (),
    business_days_only: bool = False,
) -> datetime:
    """The first instant at or after ``moment`` that ``window`` allows on the lead's clock (``moment`` if it does).

    A step outside the window moves to the next allowed minute, never dropped. With
    ``business_days_only`` the day must also be a business day.
    """
    local = moment.astimezone(tz)
    day = local.date()
    for _ in range(400):  # a year of closed days is a configuration error, not a loop forever
        if not business_days_only or is_business_day(day, holidays):
            if window is None:
                return moment if day == local.date() else local_at(day, time(0), tz)
            if moment < local_at(day, window.allowed_until, tz):
                return max(moment, local_at(day, window.allowed_from, tz))
        day += timedelta(days=1)
    return moment


def next_open(
    moment: datetime,
    *,
    tz: ZoneInfo,
    week: Week,
    holidays: Collection[date] = (),
    business_days_only: bool = False,
) -> datetime | None:
    """The first instant at or after ``moment`` that ``week`` allows on the ``tz`` clock (``moment`` if it does).

    None when no day opens within a year (a week closed every day): the caller must not send then.
    """
    day = moment.astimezone(tz).date()
    for _ in range(400):
        window = week.window_on(day, holidays)
        open_day = window is not None and (not business_days_only or is_business_day(day, holidays))
        if open_day and moment < local_at(day, window.allowed_until, tz):
            return max(moment, local_at(day, window.allowed_from, tz))
        day += timedelta(days=1)
    return None
