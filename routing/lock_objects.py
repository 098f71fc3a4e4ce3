"""Every row lock on routing's tables, by name (see leads.lock_objects for the order across the house).

Team rows are locked in id order while rotation state moves, so two workers needing the same teams
queue rather than deadlock; an enrollment is locked by the scheduler's pick and by every stop.
"""

from datetime import datetime

from django.db.models import QuerySet

from routing.models import Assignment, Enrollment, Rep, Team
from routing.models.cadences import WAITING


def teams_lock(team_ids) -> QuerySet[Team]:
    """The teams among ``team_ids``, locked in id order as the queryset is read."""
    return Team.objects.filter(pk__in=team_ids).order_by("pk").select_for_update()


def assignment_lock(assignment_id: int) -> Assignment:
    """An assignment (its rep's user joined), locked while its SLA breach is handled."""
    return Assignment.objects.select_for_update().select_related("rep__user").get(pk=assignment_id)


def enrollment_lock(enrollment_id: int) -> Enrollment | None:
    """One enrollment, locked while a person changes it; None when there is none."""
    return Enrollment.objects.select_for_update(of=("self",)).filter(pk=enrollment_id).first()


def enrollments_running_lock(**filters) -> QuerySet[Enrollment]:
    """Running (active or paused) enrollments matching ``filters``, their cadence joined, locked in id order."""
    # Only the cadence is joined (never changed by a stop); no nullable relation: a lock that waits re-reads
    # only the locked row, and a joined nullable one could come back empty.
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("cadence")
        .filter(status__in=WAITING, **filters)
        .order_by("pk")
    )


def enrollments_due_lock(now: datetime) -> QuerySet[Enrollment]:
    """Active enrollments due at ``now``, locked as read; rows another worker holds are skipped, not waited for."""
    return Enrollment.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        status=Enrollment.Status.ACTIVE, next_run_at__lte=now
    )


def reps_lock(rep_ids) -> QuerySet[Rep]:
    """The reps among ``rep_ids``, locked in id order as the queryset is read: a booking's commit holds its hosts'
    rows while it checks the time again, so two commits for one rep queue instead of both finding it free."""
    return Rep.objects.filter(pk__in=rep_ids).order_by("pk").select_for_update(of=("self",))
