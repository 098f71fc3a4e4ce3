"""The demo business's clock: when leads arrive (days, nights, weekends) and how long its people take to act.

Times are aware datetimes; hours are on the business's clock (TIME_ZONE, audit.periods.business_tz), the clock the
reports read. The office is open on weekdays from 08:00 to 18:00, as the demo's BusinessHours say.
"""

import math
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from routing.timing import local_at

OPENS, CLOSES = time(8), time(18)
# Leads a day by weekday (Monday first), before a day's own ups and downs.
DAILY = (21, 22, 21, 20, 19, 9, 6)
# Relative share of leads by hour of the day: most in office hours, some in the evening, a few at night.
HOURLY = (1, 1, 0.5, 0.5, 0.5, 1, 2, 4, 7, 8, 8, 8, 7, 8, 8, 7, 6, 5, 4, 4, 3, 3, 2, 1)
# How quickly a person acts on something waiting for them, in minutes while the office is open: (median, spread,
# shortest, longest). "slow": before automation, drafts sat for hours; "quick": a rep working the queue; "fast": a
# rep answering an alert about a new lead.
PACES = {"slow": (100, 0.9, 5, 480), "quick": (16, 1.0, 1, 240), "fast": (6, 0.7, 1, 60)}
# After hours the first look comes this many minutes after the office opens: (earliest, latest).
MORNING = {"slow": (20, 200), "quick": (5, 75), "fast": (3, 45)}


class Clock:
    """Draws the business's moments with one seeded random generator (the same seed: the same history)."""

    def __init__(self, tz: ZoneInfo, rng: random.Random):
        self.tz, self.rng = tz, rng

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return local.weekday() < 5 and OPENS <= local.time() < CLOSES

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` if the office is open then, else when it next opens."""
        if self.is_open(moment):
            return moment
        local = moment.astimezone(self.tz)
        day = local.date()
        if local.time() >= OPENS:
            day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return local_at(day, OPENS, self.tz)

    def arrivals(self, day: date) -> list[datetime]:
        """When the day's leads arrive, in order."""
        count = round(DAILY[day.weekday()] * self.rng.uniform(0.75, 1.25))
        hours = self.rng.choices(range(24), weights=HOURLY, k=count)
        moments = [local_at(day, time(hour), self.tz) + timedelta(seconds=self.rng.uniform(0, 3600)) for hour in hours]
        return sorted(moments)

    def person(self, moment: datetime, pace: str) -> datetime:
        """When a person gets to something that started waiting at ``moment`` (office hours only)."""
        if pace == "slow" and self.is_open(moment) and self.rng.random() < 0.15:
            pace = "fast"  # even before automation, a rep at the desk sometimes answered at once
        elif pace == "quick" and self.rng.random() < 0.1:
            moment = self.next_open(moment + timedelta(hours=14))  # out on a job: the draft waits for the morning
        median, spread, low, high = PACES[pace]
        morning = MORNING[pace]
        if self.is_open(moment):
            minutes = min(max(self.rng.lognormvariate(math.log(median), spread), low), high)
            done = moment + timedelta(minutes=minutes)
            if self.is_open(done) and done.astimezone(self.tz).date() == moment.astimezone(self.tz).date():
                return done
            moment = done
        return self.next_open(moment) + timedelta(minutes=self.rng.uniform(*morning))

    def seconds(self, moment: datetime, low: float, high: float) -> datetime:
        return moment + timedelta(seconds=self.rng.uniform(low, high))

    def office_days_later(self, moment: datetime, days: int, hours: tuple[int, int] = (9, 16)) -> datetime:
        """A moment in office hours ``days`` working days after ``moment`` (a slot a person picks)."""
        day = moment.astimezone(self.tz).date()
        while days > 0:
            day += timedelta(days=1)
            days -= day.weekday() < 5
        while day.weekday() >= 5:
            day += timedelta(days=1)
        hour = self.rng.randint(*hours)
        return local_at(day, time(hour, self.rng.choice((0, 30))), self.tz)
