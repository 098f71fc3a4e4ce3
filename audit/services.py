"""Writing the audit trail. Called inside each service's transaction, so the log and the change commit together."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from time import perf_counter

from django.db import connection
from django.utils import timezone

from audit.metrics import step_observe
from audit.models import Decision, ReportSettings
from audit.periods import baseline_period


def decision_record(
    *,
    step: str,
    lead=None,
    action=None,
    workflow: str = "",
    actor=None,
    actor_type: str | None = None,
    input_summary: str = "",
    output: dict | None = None,
    reasoning: str = "",
    confidence: float | None = None,
    duration_ms: float | None = None,
    outcome: str = Decision.Outcome.OK,
    model: str = "",
    tokens_in: int | None = None,
    tokens_out: int | None = None,
) -> Decision:
    """Record one step taken on a lead; a person's step when ``actor`` is given, else the system's."""
    if actor_type is None:
        actor_type = Decision.ActorType.PERSON if actor is not None else Decision.ActorType.SYSTEM
    step_observe(step, duration_ms, model)
    decision = Decision(
        step=step,
        lead=lead,
        action=action,
        workflow=workflow or (action.workflow if action is not None else ""),
        actor=actor,
        actor_type=actor_type,
        input_summary=input_summary[:2000],
        output=output or {},
        reasoning=reasoning,
        confidence=confidence,
        duration_ms=duration_ms,
        outcome=outcome,
        model=model,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
    )
    batch = _batch.get()
    if batch is not None and batch.depth == _savepoint_depth():
        batch.pending.append(decision)
    else:
        decision.save()
    return decision


def _savepoint_depth() -> int:
    # Blocks entered with savepoint=False roll back with their transaction, so they do not count.
    return sum(1 for sid in connection.savepoint_ids if sid)


@dataclass
class _Batch:
    pending: list[Decision]
    depth: int


_batch: ContextVar[_Batch | None] = ContextVar("decision_batch", default=None)


@contextmanager
def decisions_batched() -> Iterator[None]:
    """Write the Decisions recorded in the block with one INSERT when it ends; use it inside the transaction.

    A task that records several steps saves a round trip for each. Only steps recorded at the
    block's own savepoint depth wait: one recorded inside a nested savepoint is written at once,
    so a savepoint rolled back takes its Decision with it. If the block raises, nothing waiting is
    written (its transaction is rolled back anyway). Until the block ends, a waiting Decision has no pk.
    """
    if _batch.get() is not None:
        yield
        return
    batch = _Batch([], _savepoint_depth())
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    if batch.pending:
        Decision.objects.bulk_create(batch.pending)


class Stopwatch:
    """Milliseconds spent in a ``with`` block, for Decision.duration_ms."""

    def __enter__(self):
        self._start = perf_counter()
        self.ms = 0.0
        return self

    def __exit__(self, *exc):
        self.ms = round((perf_counter() - self._start) * 1000, 3)
        return False


def decisions_prunable(*, older_than_days: int, now=None):
    """Decisions older than the retention period, minus what reports read.

    Kept whatever their age: model calls (AI quality's latency and cost) and everything inside
    the baseline period (every report compares with it). Every other report reads leads,
    actions, messages and step runs, which are not pruned.
    """
    now = now or timezone.now()
    old = Decision.objects.filter(created_at__lt=now - timedelta(days=older_than_days)).filter(model="")
    baseline = baseline_period(ReportSettings.objects.filter(pk=1).first())
    if baseline is not None:
        old = old.exclude(created_at__gte=baseline.since, created_at__lt=baseline.until)
    return old


def decisions_prune(*, older_than_days: int, batch: int = 5000, progress=None) -> int:
    """Delete prunable decisions in batches (short transactions, no long lock); returns how many went."""
    if older_than_days < 1:
        raise ValueError("Keep at least one day of the log.")
    total = 0
    while True:
        ids = list(decisions_prunable(older_than_days=older_than_days).values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        total += Decision.objects.filter(pk__in=ids).delete()[0]
        if progress is not None:
            progress(total)
