"""The funnel: how far the period's leads got, in all or by a field such as source or channel."""

from dataclasses import dataclass

from django.db.models import Count, F, Q

from audit.periods import Period
from audit.reports.common import period_leads
from leads.choices import FUNNEL


@dataclass
class FunnelRow:
    """Leads of one group and how many reached each funnel stage (``reached[i]`` for FUNNEL[i])."""

    key: str
    leads: int
    reached: list[int]
    lost: int
    unqualified: int
    spam: int

    @property
    def conversion(self) -> list[float | None]:
        return [n / self.leads if self.leads else None for n in self.reached]


def funnel(period: Period, *, by: str = "") -> list[FunnelRow]:
    """How far the period's leads got (a lost lead counts up to the stage it reached), in all or by source."""
    aggregates = {f"r{i}": Count("id", filter=Q(funnel_rank__gte=i)) for i in range(1, len(FUNNEL) + 1)}
    aggregates |= {stage: Count("id", filter=Q(stage=stage)) for stage in ("lost", "unqualified", "spam")}
    leads = period_leads(period)
    if by:
        rows = list(leads.values(key=F(by)).annotate(leads=Count("id"), **aggregates).order_by("-leads", "key"))
    else:
        rows = [{"key": "all", **leads.aggregate(leads=Count("id"), **aggregates)}]
    return [
        FunnelRow(
            key=row["key"] or "–",
            leads=row["leads"],
            reached=[row[f"r{i}"] for i in range(1, len(FUNNEL) + 1)],
            lost=row["lost"],
            unqualified=row["unqualified"],
            spam=row["spam"],
        )
        for row in rows
    ]
