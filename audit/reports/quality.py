"""AI quality: what people did with the system's proposals, why it escalated, and what the model calls cost."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Avg, Count, F, Q, Sum

from approvals.models import Action, Workflow
from audit.models import Decision
from audit.periods import Period
from audit.reports.common import _grouped


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
