"""Follow-up: what became of the cadence steps that fell due in the period."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from approvals.models import Action
from audit.periods import Period
from audit.reports.leaks import leak_leads
from routing.models import Enrollment, StepRun


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
