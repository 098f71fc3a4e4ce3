"""Writing the audit trail. Called inside each service's transaction, so the log and the change commit together."""

from time import perf_counter

from audit.models import Decision


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
    return Decision.objects.create(
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


class Stopwatch:
    """Milliseconds spent in a ``with`` block, for Decision.duration_ms."""

    def __enter__(self):
        self._start = perf_counter()
        self.ms = 0.0
        return self

    def __exit__(self, *exc):
        self.ms = round((perf_counter() - self._start) * 1000, 3)
        return False
