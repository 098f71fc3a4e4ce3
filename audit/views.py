"""Operational endpoints (health) and the managers' reports."""

import csv
import json
import logging
from datetime import date

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from prometheus_client import CONTENT_TYPE_LATEST

from approvals.models import Workflow
from audit import reports, tables
from audit.models import Decision, ReportSettings
from audit.scrape import metrics_text
from config.queue import broker
from config.spreadsheets import csv_cell, csv_row
from integrations.signatures import secret_equal
from leads.permissions import is_manager

logger = logging.getLogger(__name__)


@require_GET
def healthz(request):
    """200 when the database answers, with the task queue's depth; 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("healthz.database_down")
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    try:
        depth = broker().queue_size()
    except Exception:  # noqa: BLE001 - a broker outage is reported, not raised
        logger.exception("healthz.broker_down")
        return JsonResponse({"status": "degraded", "database": "ok", "queue": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "queue_depth": depth})


REPORTS = {
    "speed": "Speed to lead",
    "funnel": "Funnel",
    "follow-up": "Follow-up",
    "leaks": "Leaks",
    "ai": "AI quality",
    "booking": "Booking",
    "roi": "ROI",
}
# What fills each report, said where a table is empty: a new business sees what to do, not a blank grid.
EMPTY_HINTS = {
    "speed": "Leads captured in this period fill it, once a first answer, automatic or from a rep, has gone to them.",
    "funnel": "Leads captured in this period fill it, counted at the furthest stage each reached.",
    "follow-up": "Cadence steps that ran in this period fill it (Routing → Cadences in the admin).",
    "leaks": "Missed calls, unanswered leads and quotes with no follow-up in this period fill it.",
    "ai": "Drafts reps approved, edited or rejected in this period fill it, per workflow.",
    "booking": "Leads captured in this period who book a meeting (in a reply, by the link, by a rep) fill it.",
    "roi": "Leads won in this period and in the baseline fill it.",
}
MAX_DAYS = 366


def _manager(request) -> None:
    if not is_manager(request.user):
        raise PermissionDenied("Reports are for managers.")


def _day(value: str, name: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        errors[name] = f"Give a date like 2026-11-01, not {value!r}."
        return None


def report_period(request) -> tuple[reports.Period, dict]:
    """The period the page asks for (``from``, ``to``, both included; default the last 30 days), and errors by field."""
    errors: dict = {}
    first, last = _day(request.GET.get("from", ""), "from", errors), _day(request.GET.get("to", ""), "to", errors)
    if first and last and last < first:
        errors["to"] = "The last day must not be before the first."
    elif first and last and (last - first).days >= MAX_DAYS:
        errors["to"] = f"At most {MAX_DAYS} days at once."
    if errors or not (first and last):
        default = reports.Period.last_days(30)
        return default, errors
    return reports.Period.dates(first, last), errors


def _span(period: reports.Period, baseline: reports.Period | None) -> tuple[reports.Period, str]:
    """The weeks a chart over time covers: from the baseline on when it came earlier (so before and after are in
    one picture), else the period; and how its table is titled."""
    if baseline is not None and baseline.since < period.since and (period.until - baseline.since).days <= MAX_DAYS:
        return reports.Period(baseline.since, period.until), f"By week, from the baseline ({baseline.label}) on"
    return period, "By week"


def _tables(
    name: str, period: reports.Period, settings_row: ReportSettings, *, over_time: bool = True
) -> list[tables.Table]:
    """The report's tables for ``period``; ``over_time`` adds its weekly table and chart (the first section only)."""
    baseline = reports.baseline_period(settings_row)
    span, title = _span(period, baseline)
    if name == "speed":
        speed = tables.speed_tables(reports.speed_to_lead(period))
        if over_time:
            speed.insert(1, tables.speed_week_table(reports.speed_by_week(span), baseline, title))
        return speed
    if name == "funnel":
        return tables.funnel_tables(
            reports.funnel(period), reports.funnel(period, by="source"), reports.funnel(period, by="channel")
        )
    if name == "follow-up":
        return tables.follow_up_tables(reports.follow_up(period))
    if name == "leaks":
        leaks = tables.leak_tables(reports.leaks(period))
        if over_time:
            leaks.append(tables.leak_week_table(reports.leaks_by_week(span), baseline, title))
        return leaks
    if name == "ai":
        return tables.ai_tables(reports.ai_quality(period))
    if name == "booking":
        return tables.booking_tables(reports.booking_report(period))
    if baseline is None:
        return []
    result = reports.roi(
        baseline=baseline,
        current=period,
        close_rate=settings_row.close_rate,
        deal_value=settings_row.average_deal_value,
        monthly_cost=settings_row.monthly_cost,
    )
    roi_tables = tables.roi_tables(result)
    roi_tables[-1].title += f": {result.formula}"
    return roi_tables


def _csv(name: str, sections: list[tuple[str, list[tables.Table]]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="nightshift-{name}.csv"'
    writer = csv.writer(response)
    for period_label, section in sections:
        for table in section:
            writer.writerow(csv_row([period_label, table.title]))
            writer.writerow(csv_row(heading for heading, _ in table.columns))
            for row in table.rows:
                # Text a lead or a manager wrote (a source, a rep's name) is made inert; numbers stay numbers.
                writer.writerow(
                    [
                        csv_cell(tables.csv_value(v, kind)) if isinstance(v, str) else tables.csv_value(v, kind)
                        for v, (_, kind) in zip(row, table.columns, strict=True)
                    ]
                )
            writer.writerow([])
    return response


@login_required
@require_GET
def report(request, name: str = "speed") -> HttpResponse:
    """One report for a period (managers), with the baseline beside it on request, as a page or CSV."""
    _manager(request)
    if name not in REPORTS:
        raise Http404("No such report.")
    period, errors = report_period(request)
    settings_row = ReportSettings.load()
    baseline = reports.baseline_period(settings_row)
    compare = baseline is not None and request.GET.get("compare") == "1" and name != "roi"
    sections = [(period.label, _tables(name, period, settings_row))]
    if compare:
        sections.append((f"Baseline: {baseline.label}", _tables(name, baseline, settings_row, over_time=False)))
    if request.GET.get("format") == "csv":
        return _csv(name, sections)
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "name": name,
        "title": REPORTS[name],
        "empty_hint": EMPTY_HINTS.get(name, ""),
        "reports": REPORTS,
        "sections": sections,
        "period": period,
        "errors": errors,
        "baseline": baseline,
        "settings_row": settings_row,
        "compare": compare,
        "query": query.urlencode(),
    }
    return render(request, "audit/report.html", context, status=422 if errors else 200)


@login_required
@require_GET
def leak_list(request, kind: str) -> HttpResponse:
    """The leads of one leak, 50 a page, each linking to its page."""
    _manager(request)
    if kind not in reports.LEAKS:
        raise Http404("No such leak.")
    period, errors = report_period(request)
    leads = reports.leak_leads(kind, period).select_related("owner")
    page = Paginator(leads, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"kind": kind, "label": reports.LEAKS[kind], "page": page, "period": period, "query": query.urlencode()}
    return render(request, "audit/leak_list.html", context)


@login_required
@require_POST
def report_settings(request) -> HttpResponse:
    """Managers set the baseline period and the ROI inputs; invalid values come back named."""
    _manager(request)
    settings_row = ReportSettings.load()
    form = ReportSettingsForm(request.POST, instance=settings_row)
    if not form.is_valid():
        errors = "; ".join(f"{name.replace('_', ' ')}: {' '.join(msgs)}" for name, msgs in form.errors.items())
        return HttpResponse(errors, status=422)
    form.instance._history_user = request.user
    form.save()
    return redirect(f"{reverse('portal:report', args=['roi'])}?{request.GET.urlencode()}")


class ReportSettingsForm(forms.ModelForm):
    class Meta:
        model = ReportSettings
        fields = ["baseline_start", "baseline_end", "baseline_note", "close_rate", "average_deal_value", "monthly_cost"]


class DecisionFilter(django_filters.FilterSet):
    """The log's filters; every one optional, each named in the URL so a search can be shared."""

    workflow = django_filters.ChoiceFilter(choices=Workflow.choices)
    step = django_filters.ChoiceFilter(choices=Decision.Step.choices)
    actor = django_filters.CharFilter(method="filter_actor", help_text="A username, 'system' or 'model'.")
    outcome = django_filters.ChoiceFilter(choices=Decision.Outcome.choices)
    escalated = django_filters.BooleanFilter(method="filter_escalated")
    since = django_filters.DateFilter(field_name="created_at", method="filter_since")
    until = django_filters.DateFilter(field_name="created_at", method="filter_until")
    q = django_filters.CharFilter(field_name="reasoning", lookup_expr="icontains", label="Reasoning contains")

    class Meta:
        model = Decision
        fields = ["workflow", "step", "actor", "outcome", "escalated", "since", "until", "q"]

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        if value.lower() in (Decision.ActorType.SYSTEM, Decision.ActorType.MODEL):
            return queryset.filter(actor_type=value.lower())
        return queryset.filter(actor__username=value)

    def filter_escalated(self, queryset, name, value):
        escalated = Q(outcome=Decision.Outcome.ESCALATED)
        return queryset.filter(escalated) if value else queryset.exclude(escalated)

    def filter_since(self, queryset, name, value):
        return queryset.filter(created_at__gte=reports.Period.dates(value, value).since)

    def filter_until(self, queryset, name, value):
        return queryset.filter(created_at__lt=reports.Period.dates(value, value).until)


LOG_COLUMNS = ["created_at", "step", "workflow", "lead_id", "action_id", "actor_type", "actor", "outcome",
               "confidence", "duration_ms", "model", "reasoning", "input_summary", "output"]  # fmt: skip


@login_required
@require_GET
def decision_log(request) -> HttpResponse:
    """Every decision and action, newest first, filtered (managers); CSV streams every matching row."""
    _manager(request)
    found = DecisionFilter(
        request.GET, queryset=Decision.objects.select_related("actor", "lead").order_by("-created_at", "-id")
    )
    if not found.is_valid():
        return render(request, "audit/log.html", {"filter": found, "page": None}, status=422)
    if request.GET.get("format") == "csv":
        return _log_csv(found.qs)
    page = Paginator(found.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": found, "page": page, "query": query.urlencode(), "retention_days": _retention_words()}
    return render(request, "audit/log.html", context)


class _Echo:
    def write(self, value):
        return value


def _log_csv(decisions) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(LOG_COLUMNS)
        for d in decisions.iterator(chunk_size=2000):
            yield writer.writerow(
                csv_row(
                    [
                        d.created_at.isoformat(),
                        d.step,
                        d.workflow,
                        d.lead_id or "",
                        d.action_id or "",
                        d.actor_type,
                        d.actor.get_username() if d.actor_id else "",
                        d.outcome,
                        d.confidence,
                        d.duration_ms,
                        d.model,
                        d.reasoning,
                        d.input_summary,
                        json.dumps(d.output),
                    ]  # fmt: skip
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="nightshift-log.csv"'
    return response


def _retention_words() -> str:
    days = settings.DECISION_RETENTION_DAYS
    return f"{days} days" if days else "ever"


@require_GET
def metrics(request) -> HttpResponse:
    """Prometheus metrics for a scraper holding METRICS_TOKEN (``Authorization: Bearer …``); off when it is unset."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not secret_equal(token, given):
        response = HttpResponse("A valid bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
