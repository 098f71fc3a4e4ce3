"""Every report as tables: the same rows feed the page, its charts and its CSV export."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from audit import charts, reports
from leads.choices import FUNNEL, Stage

# Column formats: how a raw value is shown (the CSV keeps the raw value).
INT, PCT, SECONDS, MONEY, TEXT, MS = "int", "pct", "seconds", "money", "text", "ms"


@dataclass
class Table:
    title: str
    columns: list[tuple[str, str]]  # (heading, format)
    rows: list[list] = field(default_factory=list)
    # Index of the numeric column drawn as bars beside the table (None: no chart).
    chart: int | None = None
    # Per row, the leak whose list of leads its first cell opens ('' or missing: no link).
    links: list[str] = field(default_factory=list)
    # A chart drawn from the rows (audit.charts), shown beside the table in place of the bars.
    figure: str = ""

    def display(self) -> list[tuple[list[str], str]]:
        """Each row's cells as shown, with the leak it links to ('' for none)."""
        kinds = [kind for _, kind in self.columns]
        return [
            (
                [cell(value, kind) for value, kind in zip(row, kinds, strict=True)],
                self.links[i] if i < len(self.links) else "",
            )
            for i, row in enumerate(self.rows)
        ]

    @property
    def chart_heading(self) -> str:
        return self.columns[self.chart][0] if self.chart is not None else ""

    def bars(self) -> list[tuple[str, float, float]]:
        """(label, value, share of the largest) for the chart column."""
        if self.chart is None:
            return []
        values = [(str(row[0]), float(row[self.chart] or 0)) for row in self.rows]
        top = max((v for _, v in values), default=0) or 1
        return [(label, value, value / top) for label, value in values]


def _speed_row(label: str, s: reports.Speed) -> list:
    return [label, s.leads, s.answered, s.p50, s.p90, s.p99, s.share_1m, s.share_5m]


SPEED_COLUMNS = [
    ("", TEXT),
    ("Leads", INT),
    ("Answered", INT),
    ("p50", SECONDS),
    ("p90", SECONDS),
    ("p99", SECONDS),
    ("Within 1 min", PCT),
    ("Within 5 min", PCT),
]


def speed_tables(report: reports.SpeedReport) -> list[Table]:
    tables = [Table("Capture to first response", SPEED_COLUMNS, [_speed_row("All leads", report.overall)])]
    for title, groups, chart in (
        ("By channel", report.by_channel, 3),
        ("By source", report.by_source, 3),
        ("By hour of day (nights visible)", report.by_hour, 3),
        ("By day of week (weekends visible)", report.by_weekday, 3),
        ("By rep", report.by_rep, 3),
    ):
        tables.append(Table(title, SPEED_COLUMNS, [_speed_row(str(k or "–"), s) for k, s in groups], chart=chart))
    return tables


def in_baseline(week: date, baseline: reports.Period | None) -> bool:
    """The week (its Monday) lies mostly in the baseline: its Thursday is one of the baseline's days."""
    return baseline is not None and baseline.first_day <= week + timedelta(days=3) <= baseline.last_day


def duration_text(seconds: float) -> str:
    """Seconds as an axis reads them: 45 s, 12 min, 3 h, 2 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or unit == "s":
            value = seconds / size
            return f"{value:.0f} {unit}" if value >= 10 or value == round(value) else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def speed_week_table(weeks: list[tuple[date, reports.Speed]], baseline: reports.Period | None, title: str) -> Table:
    """Speed to lead week by week, the baseline's weeks marked, drawn as p50 and p90 lines on a log scale."""
    table = Table(
        title,
        [("Week of", TEXT), ("Baseline", TEXT), ("Leads", INT), ("Answered", INT), ("p50", SECONDS),
         ("p90", SECONDS), ("Within 5 min", PCT)],
    )  # fmt: skip
    marked = [in_baseline(week, baseline) for week, _ in weeks]
    table.rows = [
        [f"{week:%Y-%m-%d}", "yes" if mark else "", s.leads, s.answered, s.p50, s.p90, s.share_5m]
        for (week, s), mark in zip(weeks, marked, strict=True)
    ]
    table.figure = charts.line_chart(
        title="Speed to lead by week: p50 and p90",
        labels=[f"{week:%b %-d}" for week, _ in weeks],
        series=[charts.Series("p50", [s.p50 for _, s in weeks]), charts.Series("p90", [s.p90 for _, s in weeks])],
        marked=marked,
        mark_label="Baseline",
        log=True,
        value_text=duration_text,
    )
    return table


def leak_week_table(weeks: list[tuple[date, dict[str, int]]], baseline: reports.Period | None, title: str) -> Table:
    """The dated leaks week by week (late answers, unreturned missed calls, SLA breaches), the baseline marked."""
    kinds = reports.DATED
    table = Table(title, [("Week of", TEXT), ("Baseline", TEXT), *[(reports.LEAKS[k], INT) for k in kinds]])
    marked = [in_baseline(week, baseline) for week, _ in weeks]
    table.rows = [
        [f"{week:%Y-%m-%d}", "yes" if mark else "", *[counts[k] for k in kinds]]
        for (week, counts), mark in zip(weeks, marked, strict=True)
    ]
    table.figure = charts.line_chart(
        title="Leaks by week",
        labels=[f"{week:%b %-d}" for week, _ in weeks],
        series=[charts.Series(reports.LEAKS[k], [counts[k] for _, counts in weeks]) for k in kinds],
        marked=marked,
        mark_label="Baseline",
    )
    return table


def funnel_tables(overall: list[reports.FunnelRow], by_source, by_channel) -> list[Table]:
    (row,) = overall
    stages = Table("Reached each stage", [("Stage", TEXT), ("Leads", INT), ("Conversion", PCT)], chart=1)
    for stage, reached, share in zip(FUNNEL, row.reached, row.conversion, strict=True):
        stages.rows.append([Stage(stage).label, reached, share])
    stages.figure = charts.funnel_chart(
        title="The funnel: leads that reached each stage",
        stages=[(Stage(stage).label, reached) for stage, reached in zip(FUNNEL, row.reached, strict=True)],
    )
    stages.rows += [[label, n, n / row.leads if row.leads else None] for label, n in
                    (("Lost", row.lost), ("Unqualified", row.unqualified), ("Spam", row.spam))]  # fmt: skip
    tables = [stages]
    for title, rows in (("By source", by_source), ("By channel", by_channel)):
        columns = [("", TEXT), ("Leads", INT), *[(Stage(s).label, INT) for s in FUNNEL[1:]], ("Won", PCT)]
        table = Table(title, columns, chart=1)
        table.rows = [[r.key, r.leads, *r.reached[1:], r.conversion[-1]] for r in rows]
        tables.append(table)
    return tables


def follow_up_tables(figures: reports.FollowUp) -> list[Table]:
    columns = [("Due", INT), ("Sent", INT), ("Waiting", INT), ("Skipped", INT), ("Failed", INT), ("Overdue", INT)]
    row = [figures.due, figures.done, figures.waiting, figures.skipped, figures.failed, figures.overdue]
    return [
        Table("Cadence steps that fell due", [*columns, ("Completion", PCT)], [[*row, figures.completion]]),
        Table("Open leads with no touch", [("Leads", INT)], [[figures.idle_leads]], links=["idle"]),
    ]


def leak_tables(counts: list[tuple[str, str, int]]) -> list[Table]:
    table = Table("Leaks", [("Leak", TEXT), ("Leads", INT)], chart=1, links=[kind for kind, _, _ in counts])
    table.rows = [[label, n] for _, label, n in counts]
    return [table]


def ai_tables(quality: reports.AiQuality) -> list[Table]:
    workflows = Table(
        "What people did with the system's proposals",
        [
            ("Workflow", TEXT),
            ("Proposed", INT),
            ("Sent by the policy", INT),
            ("Approved unchanged", INT),
            ("Edited", INT),
            ("Rejected", INT),
            ("Waiting", INT),
            ("Shadow", INT),
            ("Escalated", INT),
        ],
        chart=1,
    )
    workflows.rows = [
        [
            w.label,
            w.proposed,
            w.sent_alone,
            w.approved_unchanged,
            w.edited,
            w.rejected,
            w.waiting,
            w.shadow,
            w.escalated,
        ]  # fmt: skip
        for w in quality.workflows
    ]
    workflows.figure = charts.stacked_bars(
        title="What happened to each workflow's proposals",
        parts=[heading for heading, _ in workflows.columns[2:8]],
        rows=[(row[0], row[2:8]) for row in workflows.rows],
    )
    reasons = Table("Why actions waited for a person", [("Reason", TEXT), ("Actions", INT)], chart=1)
    reasons.rows = [[reason, n] for reason, n in quality.reasons]
    models = Table(
        "Model calls",
        [
            ("Model", TEXT),
            ("Calls", INT),
            ("Average", MS),
            ("p95", MS),
            ("Tokens in", INT),
            ("Tokens out", INT),
            ("Cost", MONEY),
        ],  # fmt: skip
    )
    models.rows = [[m.model, m.calls, m.avg_ms, m.p95_ms, m.tokens_in, m.tokens_out, m.cost] for m in quality.models]
    return [workflows, reasons, models]


def roi_tables(result: reports.Roi) -> list[Table]:
    lost = Table(
        "Leads lost to a slow first response or no follow-up",
        [("Period", TEXT), ("Leads", INT), ("Slow", INT), ("No follow-up", INT), ("Lost", PCT)],
    )
    for label, figures in (("Baseline", result.baseline), ("Now", result.current)):
        lost.rows.append([label, figures.leads, figures.slow, figures.unfollowed, figures.rate])
    value = Table(
        "What the recovered leads are worth",
        [("Recovered leads", TEXT), ("Value a month", MONEY), ("Cost a month", MONEY), ("Net a month", MONEY)],
    )
    value.rows.append([f"{result.recovered:.1f}", result.monthly_value, result.monthly_cost, result.net])
    booked = Table(
        f"Leads who booked a meeting: {result.booking_formula}",
        [("Period", TEXT), ("Leads", INT), ("Booked", INT), ("Booked share", PCT)],
    )
    for label, figures in (("Baseline", result.booked_before), ("Now", result.booked_now)):
        if figures is not None:
            booked.rows.append([label, figures.leads, figures.booked, figures.rate])
    return [lost, booked, value]


BOOKED_COLUMNS = [
    ("", TEXT),
    ("Leads", INT),
    ("Booked", INT),
    ("Booked share", PCT),
    ("Capture to booked p50", SECONDS),
    ("p90", SECONDS),
]


def _booked_row(row: reports.BookedShare) -> list:
    return [row.key, row.leads, row.booked, row.share, row.p50, row.p90]


def booking_tables(report: reports.BookingReport) -> list[Table]:
    tables = [Table("Capture to booked", BOOKED_COLUMNS, [_booked_row(report.overall)])]
    for title, rows in (("By source", report.by_source), ("By channel", report.by_channel)):
        tables.append(Table(title, BOOKED_COLUMNS, [_booked_row(r) for r in rows], chart=3))
    a = report.attendance
    shows = Table(
        "No-shows (meetings that began; a rep marks them on the lead page)",
        [("Meetings begun", INT), ("Marked", INT), ("No-shows", INT), ("No-show rate (of marked)", PCT)],
    )
    shows.rows.append([a.past, a.marked, a.no_shows, a.no_show_rate])
    tables.append(shows)
    return tables


def cell(value, kind: str) -> str:
    """A raw value as the page shows it."""
    if value is None:
        return "–"
    if kind == PCT:
        return f"{value:.0%}"
    if kind == SECONDS:
        # 15 hours reads as "15 h", not "905.4 min"; the CSV keeps the seconds.
        return f"{value:.0f} s" if value < 120 else duration_text(value)
    if kind == MS:
        return f"{value:.0f} ms"
    if kind == MONEY:
        return f"{Decimal(value):,.2f}"
    if kind == INT:
        return f"{value:,}"
    return str(value)


def csv_value(value, kind: str):
    """A raw value as the CSV keeps it: numbers as numbers, shares as fractions, seconds unrounded."""
    if value is None:
        return ""
    if kind == PCT:
        return round(value, 4)
    return value
