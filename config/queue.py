"""Enqueueing django-q2 tasks so that workers only ever see committed data."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.tasks import async_task

logger = logging.getLogger(__name__)


@cache
def broker():
    # One broker per process: building one per call costs ~3.5 ms on Redis (RECIPES.md).
    return get_broker()


def enqueue(func: str, *args) -> str:
    """Queue the task at dotted path ``func`` now and return its task id."""
    return async_task(func, *args, broker=broker())


def _task_row_joins_transaction() -> bool:
    return bool(Conf.ORM == DEFAULT_DB_ALIAS and not Conf.SYNC and transaction.get_connection().in_atomic_block)


def enqueue_on_commit(func: str, *args) -> None:
    """Queue the task so that it becomes visible to workers when the current transaction commits.

    With the ORM broker on the app's own database the task row is written inside the transaction
    (a transactional outbox): it commits or rolls back with the data it refers to, costs no
    second commit, and cannot be lost to a crash between commit and enqueue. Other brokers
    (Redis) and synchronous test mode are handed the task after commit.
    """
    if _task_row_joins_transaction():
        enqueue(func, *args)
    else:
        transaction.on_commit(lambda: enqueue(func, *args))


def run_after_commit(func: Callable, *args) -> None:
    """Call ``func(*args)`` in this process as soon as the current transaction commits.

    For work that must follow its task at once (the pipeline's automatic first answer): no queue
    round trip and no second task. The caller leaves a trace in the committed data that a sweep
    finds if the process dies before ``func`` runs. An error in it is logged, not raised: the
    transaction it follows has committed.
    """

    def run() -> None:  # named: Django's robust on_commit logs a failure by the callback's __qualname__
        func(*args)

    run.__qualname__ = f"{func.__module__}.{func.__qualname__}"
    transaction.on_commit(run, robust=True)


def requeue_cutoff(older_than_minutes: int | None = None, now: datetime | None = None) -> datetime:
    """Work still waiting from before this moment has lost its task (REQUEUE_MINUTES ago by default)."""
    return (now or timezone.now()) - timedelta(minutes=older_than_minutes or settings.REQUEUE_MINUTES)


def requeue(func: str, waiting_ids) -> int:
    """Queue ``func`` again for each id in ``waiting_ids`` (at most 500 a pass); returns how many.

    For work whose task was lost (a broker that forgot it, a task that failed every attempt);
    ``func`` must be safe to run twice, since a task that is merely late still runs too.
    """
    ids = list(waiting_ids[:500])
    for pk in ids:
        enqueue(func, pk)
    if ids:
        logger.warning("task.requeued", extra={"func": func, "count": len(ids)})
    return len(ids)
