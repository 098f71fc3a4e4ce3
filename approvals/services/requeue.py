"""Approved sends that wait for a sweep: held for quiet hours until their minute, or whose task was lost.

Both sweeps only queue the executor's task; the claim (approvals.services.execution) lets one run through, so a
send queued twice goes once, and a held text is asked about quiet hours again when it is claimed.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from approvals.models import Action
from approvals.services.execution import EXECUTE_TASK
from config.queue import enqueue, requeue, requeue_cutoff


def actions_held_release(*, now=None) -> int:
    """Queue the sends of texts held for quiet hours whose minute has come; returns how many (500 at most a pass).

    Scheduled every minute (migration approvals 0012). It looks back REQUEUE_MINUTES only: a held text still
    waiting after that lost its task, and ``actions_approved_requeue`` queues it again.
    """
    now = now or timezone.now()
    due = Action.objects.filter(
        status=Action.Status.APPROVED,
        not_before__lte=now,
        not_before__gt=now - timedelta(minutes=settings.REQUEUE_MINUTES),
    ).order_by("not_before")
    ids = list(due.values_list("pk", flat=True)[:500])
    for pk in ids:
        enqueue(EXECUTE_TASK, pk)
    return len(ids)


def actions_approved_requeue(*, older_than_minutes: int | None = None, now=None) -> int:
    """Queue again the sends of actions approved long ago and still not claimed; returns how many.

    A second task for an action whose first is merely late sends nothing: the claim lets one through. A text held
    for quiet hours is not lost before its minute: it counts only once ``not_before`` is as old as the cutoff.
    """
    cutoff = requeue_cutoff(older_than_minutes, now)
    waiting = Action.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lt=cutoff), status=Action.Status.APPROVED, updated_at__lt=cutoff
    ).order_by("updated_at")
    return requeue(EXECUTE_TASK, waiting.values_list("pk", flat=True))
