from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, Prefetch, Q, When

from routing.models import Cadence, CadenceStep, Enrollment, QualificationCriteria, RoutingRule, StepRun
from routing.models.cadences import WAITING


def rule_list_active() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(active=True).select_related("team").order_by("priority", "id"))


def criteria_get_active() -> QualificationCriteria | None:
    return QualificationCriteria.objects.filter(active=True).order_by("-updated_at").first()


@dataclass(frozen=True)
class EnrollmentRow:
    """An enrollment as the lead page shows it: what comes next and when, on the lead's clock."""

    enrollment: Enrollment
    next_step: str
    next_at: str


def _step_words(step: CadenceStep) -> str:
    what = f"'{step.template.name}'" if step.template_id else f"'{step.note[:60]}'"
    return f"{step.get_channel_display()} {what}"


def lead_enrollments(*, lead, limit: int = 20) -> list[EnrollmentRow]:
    """The lead's enrollments, running ones first, each with its next step in words."""
    enrollments = list(
        Enrollment.objects.filter(lead=lead)
        .select_related("cadence", "stopped_by")
        .prefetch_related(Prefetch("cadence__steps", queryset=CadenceStep.objects.select_related("template")))
        .order_by(Case(When(status__in=WAITING, then=0), default=1), "-created_at")[:limit]
    )
    tz = ZoneInfo(lead.timezone or settings.TIME_ZONE)
    rows = []
    for enrollment in enrollments:
        steps = list(enrollment.cadence.steps.all())
        next_step = next_at = ""
        if enrollment.status in WAITING and enrollment.position < len(steps):
            step = steps[enrollment.position]
            next_step = f"Step {enrollment.position + 1} of {len(steps)}: {_step_words(step)}"
            if enrollment.next_run_at:
                next_at = f"{enrollment.next_run_at.astimezone(tz):%a %b %d, %H:%M} ({tz.key})"
        rows.append(EnrollmentRow(enrollment, next_step, next_at))
    return rows


def cadences_enrollable():
    """Cadences a person may start by hand: active, with steps; reminders follow bookings instead."""
    return (
        Cadence.objects.filter(active=True, steps__isnull=False)
        .exclude(trigger=Cadence.Trigger.APPOINTMENT)
        .distinct()
        .order_by("name")
    )


@dataclass
class StepFigures:
    position: int
    label: str
    proposed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    replied: int = 0

    @property
    def reply_rate(self) -> float | None:
        return self.replied / self.sent if self.sent else None


@dataclass
class CadenceFigures:
    cadence: Cadence
    enrolled: int = 0
    running: int = 0
    completed: int = 0
    stopped_by_reply: int = 0
    opt_outs: int = 0
    stopped_other: int = 0
    steps: list[StepFigures] = field(default_factory=list)

    @property
    def reply_share(self) -> float | None:
        """The point of it: the share of enrollments a reply ended."""
        return self.stopped_by_reply / self.enrolled if self.enrolled else None


def cadence_report(*, since: datetime, until: datetime) -> list[CadenceFigures]:
    """Per cadence, for enrollments started in [since, until): how they ended, and per step what it did and drew.

    Two grouped queries whatever the number of enrollments; a reply counts for the step sent just before it.
    """
    started = Q(started_at__gte=since, started_at__lt=until)
    stopped = Enrollment.Status.STOPPED
    totals = {
        row["cadence_id"]: row
        for row in Enrollment.objects.filter(started)
        .values("cadence_id")
        .annotate(
            enrolled=Count("id"),
            running=Count("id", filter=Q(status__in=WAITING)),
            completed=Count("id", filter=Q(status=Enrollment.Status.COMPLETED)),
            stopped_by_reply=Count("id", filter=Q(status=stopped, stop_kind=Enrollment.StopKind.REPLY)),
            opt_outs=Count("id", filter=Q(status=stopped, stop_kind=Enrollment.StopKind.OPT_OUT)),
            stopped_all=Count("id", filter=Q(status=stopped)),
        )
    }
    runs = (
        StepRun.objects.filter(enrollment__started_at__gte=since, enrollment__started_at__lt=until)
        .values("enrollment__cadence_id", "step_id")
        .annotate(
            proposed=Count("id", filter=Q(status=StepRun.Status.PROPOSED)),
            sent=Count("id", filter=Q(action__status="done")),
            skipped=Count("id", filter=Q(status=StepRun.Status.SKIPPED)),
            failed=Count("id", filter=Q(status=StepRun.Status.FAILED)),
            replied=Count("id", filter=Q(replied_at__isnull=False)),
        )
    )
    by_step = {(r["enrollment__cadence_id"], r["step_id"]): r for r in runs}
    report = []
    cadences = Cadence.objects.prefetch_related(
        Prefetch("steps", queryset=CadenceStep.objects.select_related("template"))
    ).order_by("name")
    for cadence in cadences:
        row = totals.get(cadence.pk, {})
        figures = CadenceFigures(
            cadence,
            enrolled=row.get("enrolled", 0),
            running=row.get("running", 0),
            completed=row.get("completed", 0),
            stopped_by_reply=row.get("stopped_by_reply", 0),
            opt_outs=row.get("opt_outs", 0),
            stopped_other=row.get("stopped_all", 0) - row.get("stopped_by_reply", 0) - row.get("opt_outs", 0),
        )
        steps = [(s.pk, f"{s.when} · {_step_words(s)}") for s in cadence.steps.all()]
        if (cadence.pk, None) in by_step:
            steps.append((None, "steps since removed"))
        for position, (step_id, label) in enumerate(steps, start=1):
            counts = by_step.get((cadence.pk, step_id), {})
            figures.steps.append(
                StepFigures(
                    position,
                    label,
                    **{k: counts.get(k, 0) for k in ("proposed", "sent", "skipped", "failed", "replied")},
                )
            )
        report.append(figures)
    return report
