"""What the managers' reports read: speed to lead, follow-up, funnel, leaks, AI quality and ROI. Reads only.

Every report takes a Period (leads by when they arrived) and answers from indexed, grouped
queries, so its cost follows the period's rows (bench/reports.py: 1,000,000 leads). Percentiles
are linear interpolation between the nearest ranks: PostgreSQL's ``percentile_cont``, computed
the same way in Python on SQLite. Hours and weekdays are on the business's clock (TIME_ZONE).
"""

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from approvals.models import Action, Workflow
from audit.models import Decision
from leads.choices import FUNNEL, OPEN_STAGES, Stage
from leads.models import Lead, Message
from routing.models import Assignment, Enrollment, StepRun
from routing.models.cadences import WAITING

NOISE_STAGES = (Stage.SPAM, Stage.UNQUALIFIED)
FAST, SLOW = timedelta(minutes=1), timedelta(minutes=5)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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

    def leads(self) -> QuerySet:
        return Lead.objects.filter(created_at__gte=self.since, created_at__lt=self.until)


def baseline_period(settings_row) -> Period | None:
    """The baseline a manager set on the report settings (both days), else None."""
    if settings_row is not None and settings_row.baseline_start and settings_row.baseline_end:
        return Period.dates(settings_row.baseline_start, settings_row.baseline_end)
    return None


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
    leads = period.leads().exclude(stage__in=NOISE_STAGES)
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


@dataclass
class FunnelRow:
    """Leads of one group and how many reached each funnel stage (``reached[i]`` for FUNNEL[i])."""

    key: str
    leads: int
    reached: list[int]
    lost: int
    unqualified: int
    spam: int

    @property
    def conversion(self) -> list[float | None]:
        return [n / self.leads if self.leads else None for n in self.reached]


def funnel(period: Period, *, by: str = "") -> list[FunnelRow]:
    """How far the period's leads got (a lost lead counts up to the stage it reached), in all or by source."""
    aggregates = {f"r{i}": Count("id", filter=Q(funnel_rank__gte=i)) for i in range(1, len(FUNNEL) + 1)}
    aggregates |= {stage: Count("id", filter=Q(stage=stage)) for stage in ("lost", "unqualified", "spam")}
    leads = period.leads()
    if by:
        rows = list(leads.values(key=F(by)).annotate(leads=Count("id"), **aggregates).order_by("-leads", "key"))
    else:
        rows = [{"key": "all", **leads.aggregate(leads=Count("id"), **aggregates)}]
    return [
        FunnelRow(
            key=row["key"] or "–",
            leads=row["leads"],
            reached=[row[f"r{i}"] for i in range(1, len(FUNNEL) + 1)],
            lost=row["lost"],
            unqualified=row["unqualified"],
            spam=row["spam"],
        )
        for row in rows
    ]


# --- leaks ---------------------------------------------------------------------------------------------------------

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
        leads = period.leads().exclude(stage__in=NOISE_STAGES).filter(slow_response(now))
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


# --- follow-up ---------------------------------------------------------------------------------------------------


@dataclass
class FollowUp:
    due: int
    done: int
    skipped: int
    failed: int
    waiting: int
    overdue: int
    idle_leads: int

    @property
    def completion(self) -> float | None:
        return self.done / self.due if self.due else None


def follow_up(period: Period, *, now: datetime | None = None) -> FollowUp:
    """Cadence steps that fell due in the period: sent, skipped, failed, proposed but not sent yet, or overdue."""
    now = now or timezone.now()
    runs = StepRun.objects.filter(created_at__gte=period.since, created_at__lt=period.until).aggregate(
        done=Count("id", filter=Q(action__status=Action.Status.DONE)),
        waiting=Count(
            "id",
            filter=Q(status=StepRun.Status.PROPOSED) & ~Q(action__status=Action.Status.DONE),
        ),
        skipped=Count("id", filter=Q(status=StepRun.Status.SKIPPED)),
        failed=Count("id", filter=Q(status=StepRun.Status.FAILED)),
    )
    overdue = Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE,
        next_run_at__gte=period.since,
        next_run_at__lt=min(period.until, now - timedelta(minutes=15)),
    ).count()
    due = runs["done"] + runs["waiting"] + runs["skipped"] + runs["failed"] + overdue
    return FollowUp(due=due, overdue=overdue, idle_leads=leak_leads("idle", period, now=now).count(), **runs)


# --- AI quality ----------------------------------------------------------------------------------------------------


@dataclass
class WorkflowQuality:
    workflow: str
    proposed: int
    sent_alone: int
    approved_unchanged: int
    edited: int
    rejected: int
    waiting: int
    shadow: int
    escalated: int

    @property
    def label(self) -> str:
        return Workflow(self.workflow).label if self.workflow in Workflow.values else self.workflow

    @property
    def decided(self) -> int:
        return self.approved_unchanged + self.edited + self.rejected


@dataclass
class ModelUse:
    model: str
    calls: int
    avg_ms: float | None
    p95_ms: float | None
    tokens_in: int
    tokens_out: int
    cost: Decimal


@dataclass
class AiQuality:
    workflows: list[WorkflowQuality]
    reasons: list[tuple[str, int]]
    models: list[ModelUse] = field(default_factory=list)


def ai_quality(period: Period) -> AiQuality:
    """Per workflow, what people did with the system's proposals; why they escalated; what the model cost."""
    actions = Action.objects.filter(created_at__gte=period.since, created_at__lt=period.until, proposed_by=None)
    person = Q(decided_by__isnull=False)
    rows = (
        actions.values("workflow")
        .annotate(
            proposed=Count("id"),
            sent_alone=Count("id", filter=Q(decided_by=None, status__in=("approved", "executing", "done", "failed"))),
            approved_unchanged=Count("id", filter=person & Q(edited=False) & ~Q(status=Action.Status.REJECTED)),
            edited=Count("id", filter=person & Q(edited=True) & ~Q(status=Action.Status.REJECTED)),
            rejected=Count("id", filter=Q(status=Action.Status.REJECTED)),
            waiting=Count("id", filter=Q(status=Action.Status.PENDING)),
            shadow=Count("id", filter=Q(status=Action.Status.SHADOW)),
            escalated=Count("id", filter=Q(escalated=True)),
        )
        .order_by("workflow")
    )
    reasons = list(
        actions.filter(escalated=True)
        .exclude(escalation_reason="")
        .values_list("escalation_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "escalation_reason")[:10]
    )
    return AiQuality([WorkflowQuality(**row) for row in rows], reasons, _model_use(period))


def _model_use(period: Period) -> list[ModelUse]:
    calls = Decision.objects.filter(created_at__gte=period.since, created_at__lt=period.until).exclude(model="")
    aggregates = {
        "calls": Count("id"),
        "avg_ms": Avg("duration_ms"),
        "tokens_in": Sum("tokens_in"),
        "tokens_out": Sum("tokens_out"),
    }
    groups = _grouped(calls, F("model"), aggregates, value=F("duration_ms"), fractions={"p95_ms": 0.95})
    price_in, price_out = Decimal(settings.LLM_PRICE_IN_PER_1K), Decimal(settings.LLM_PRICE_OUT_PER_1K)
    result = []
    for model, row in sorted(groups.items(), key=lambda kv: -kv[1]["calls"]):
        tokens_in, tokens_out = row["tokens_in"] or 0, row["tokens_out"] or 0
        cost = (Decimal(tokens_in) * price_in + Decimal(tokens_out) * price_out) / 1000
        quantized = cost.quantize(Decimal("0.0001"))
        result.append(ModelUse(model, row["calls"], row["avg_ms"], row["p95_ms"], tokens_in, tokens_out, quantized))
    return result


# --- before and after, ROI -----------------------------------------------------------------------------------------


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
    leads = period.leads().exclude(stage__in=NOISE_STAGES)
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


def roi(*, baseline: Period, current: Period, close_rate: Decimal, deal_value: Decimal, monthly_cost: Decimal) -> Roi:
    """What recovered leads are worth a month against what the system costs, with the arithmetic shown.

    recovered = (baseline lost rate − current lost rate) × current leads (never below 0);
    monthly value = recovered × close rate × deal value × 30 / days in the current period.
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
    return Roi(before, after, current.days, close_rate, deal_value, monthly_cost, recovered, value, net, formula)


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1%}"
