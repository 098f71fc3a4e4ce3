"""What every report shares: the leads of a period, the response-time filters, percentiles and grouped queries.

Percentiles are linear interpolation between the nearest ranks: PostgreSQL's ``percentile_cont``,
computed the same way in Python on SQLite.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, F, Q, QuerySet

from audit.periods import Period
from leads.choices import Stage
from leads.models import Lead

NOISE_STAGES = (Stage.SPAM, Stage.UNQUALIFIED)
FAST, SLOW = timedelta(minutes=1), timedelta(minutes=5)


def period_weeks(period: Period) -> list[date]:
    """The Mondays (business's clock) of the weeks ``period`` touches, in order: the buckets of a weekly report."""
    first, last = period.first_day, period.last_day
    monday = first - timedelta(days=first.weekday())
    return [monday + timedelta(weeks=n) for n in range((last - monday).days // 7 + 1)]


def week_start(value) -> date:
    """A TruncWeek value (an aware datetime on the business's clock, or a date) as its Monday."""
    return value.date() if isinstance(value, datetime) else value


def period_leads(period: Period) -> QuerySet:
    """Leads that arrived in ``period``."""
    return Lead.objects.filter(created_at__gte=period.since, created_at__lt=period.until)


def answered_in_time() -> Q:
    return Q(first_response_at__lte=F("created_at") + SLOW)


def slow_response(now: datetime) -> Q:
    """Not answered within 5 minutes, once those 5 minutes have passed (never answered included)."""
    return ~answered_in_time() & Q(created_at__lt=now - SLOW)


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the nearest ranks of sorted ``values`` (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    rank = fraction * (len(values) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return values[low] + (values[high] - values[low]) * (rank - low)


class Percentile(Aggregate):
    """``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``: PostgreSQL only; nulls are left out."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _seconds(value) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else value


def _grouped(rows: QuerySet, key, aggregates: dict, *, value, fractions: dict[str, float]) -> dict:
    """``{group: figures}``: ``aggregates`` and the ``fractions`` percentiles of ``value`` (durations in seconds)
    over ``rows`` grouped by the expression ``key`` (None: one group of all rows).

    PostgreSQL computes the percentiles in the same query; SQLite, which has no percentile_cont, gets
    the values and interpolates them here the same way. Nulls are left out of the percentiles.
    """
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates = aggregates | {name: Percentile(value, fraction) for name, fraction in fractions.items()}
    if key is None:
        groups = {None: rows.aggregate(**aggregates)}
    else:
        grouped = rows.annotate(key=key).values("key").annotate(**aggregates).order_by("key")
        groups = {row.pop("key"): row for row in grouped}
    if postgres:
        for figures in groups.values():
            figures.update({name: _seconds(figures[name]) for name in fractions})
        return groups
    measured = rows.annotate(measure=value)
    pairs = (
        measured.annotate(key=key).values_list("key", "measure")
        if key is not None
        else ((None, measure) for measure in measured.values_list("measure", flat=True))
    )
    values: dict = {}
    for group, measure in pairs:
        if measure is not None:
            values.setdefault(group, []).append(_seconds(measure))
    for group, figures in groups.items():
        ordered = sorted(values.get(group, []))
        figures.update({name: percentile(ordered, fraction) for name, fraction in fractions.items()})
    return groups


def _at_once(calls: list) -> list:
    """Independent report queries run at once on PostgreSQL, each in its own connection (REPORT_PARALLEL threads).

    Inside a transaction they run in turn on this connection, the only one that sees its uncommitted
    rows; SQLite runs them in turn too.
    """
    workers = settings.REPORT_PARALLEL
    if connection.vendor != "postgresql" or connection.in_atomic_block or workers < 2:
        return [call() for call in calls]

    def run(call):
        try:
            return call()
        finally:
            connection.close()  # the thread's own connection: nothing else will close it

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, calls))


def _user_names(ids: list[int]) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    return {u.pk: u.get_full_name() or u.get_username() for u in get_user_model().objects.filter(pk__in=ids)}
