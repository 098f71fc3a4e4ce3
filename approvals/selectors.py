"""Reads for the queue, the autonomy page and the API."""

import difflib
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from approvals.models import Action, Policy, Reviewer, Workflow
from leads.models import Message
from leads.permissions import is_manager, scope_to_user

QUEUE_SORTS = {
    "oldest": ("created_at", "id"),
    "hottest": (F("lead__score").desc(nulls_last=True), "created_at", "id"),
}
# The queue's escalation filter: value -> (label, condition).
ESCALATIONS = {
    "escalated": ("Any escalation", Q(escalated=True)),
    "gate": ("Held by a gate", Q(escalation_reason__startswith="gate")),
    "confidence": ("Low confidence", Q(escalation_reason__startswith="confidence")),
    "failed": ("Failed sends", Q(status=Action.Status.FAILED)),
    "quiet_hours": ("Held for quiet hours", Q(status=Action.Status.APPROVED, not_before__isnull=False)),
    "manager": ("Waiting for a manager", Q(review_by=Reviewer.MANAGER)),
    "none": ("Not escalated", Q(escalated=False)),
}
# In observe mode a person's own message within this window is what the shadow draft is compared with.
SHADOW_WINDOW = timedelta(hours=24)
SHADOW_SIMILAR = 0.6


def action_list(*, user) -> QuerySet[Action]:
    return scope_to_user(Action.objects.select_related("lead", "decided_by"), user, owner_path="lead__owner")


def action_queue(*, user, sort: str = "oldest", now=None) -> QuerySet[Action]:
    """What waits: pending actions (not snoozed), failed sends and texts held for quiet hours, oldest or hottest first.

    Reps see their own leads' actions that a rep may decide; managers see every queue. The queue's
    filters (rep, workflow, escalation) are approvals.filters.ActionFilter, shared with the API.
    """
    now = now or timezone.now()
    queryset = action_list(user=user).filter(
        Q(status=Action.Status.FAILED)
        | Q(status=Action.Status.PENDING) & (Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now))
        # Approved, but the law holds the text: a person sees what goes later, and when.
        | Q(status=Action.Status.APPROVED, not_before__gt=now)
    )
    if not is_manager(user):
        queryset = queryset.filter(review_by=Reviewer.REP)
    return queryset.select_related("lead__owner", "event").order_by(*QUEUE_SORTS.get(sort, QUEUE_SORTS["oldest"]))


@dataclass
class GraduationStats:
    """How people treated a workflow's last decisions: the evidence for (or against) more autonomy."""

    window: int
    bar: float
    decided: int = 0
    unchanged: int = 0
    edited: int = 0
    rejected: int = 0
    edit_distances: list[float] = field(default_factory=list)
    shadow: int = 0
    shadow_similar: int = 0
    shadow_different: int = 0
    shadow_silent: int = 0
    mode: str = Policy.Mode.DRAFT

    @property
    def agreed(self) -> int:
        return self.unchanged + self.shadow_similar

    @property
    def rate(self) -> float | None:
        return self.agreed / self.decided if self.decided else None

    @property
    def rate_percent(self) -> int:
        return round((self.rate or 0) * 100)

    @property
    def bar_percent(self) -> int:
        return round(self.bar * 100)

    @property
    def mean_edit_distance(self) -> float | None:
        return sum(self.edit_distances) / len(self.edit_distances) if self.edit_distances else None

    @property
    def eligible(self) -> bool:
        return self.mode != Policy.Mode.AUTO and self.decided >= self.window and (self.rate or 0) >= self.bar

    @property
    def verdict(self) -> str:
        if self.mode == Policy.Mode.AUTO:
            return "already on auto"
        if self.decided < self.window:
            return f"{self.decided} of {self.window} decisions so far"
        return f"{self.rate:.0%} agreed over the last {self.decided} (bar {self.bar:.0%})"


def graduation_stats(policy: Policy) -> GraduationStats:
    """The last ``graduation_window`` decisions on the system's proposals for ``policy``'s workflow.

    A person approving the draft as written, or in observe mode sending much the same text
    themselves within a day, agrees with the system; an edit (with its distance), a rejection,
    or a different or no message does not.
    """
    stats = GraduationStats(window=policy.graduation_window, bar=policy.graduation_bar, mode=policy.mode)
    rows = list(
        Action.objects.filter(workflow=policy.workflow, proposed_by__isnull=True)
        .filter(Q(decided_by__isnull=False) | Q(status=Action.Status.SHADOW))
        .order_by("-created_at", "-id")
        .values("lead_id", "status", "edited", "edit_distance", "payload__body", "created_at")[
            : policy.graduation_window
        ]
    )
    shadows = [r for r in rows if r["status"] == Action.Status.SHADOW]
    replies = _person_messages_after(shadows)
    for row in rows:
        stats.decided += 1
        if row["status"] == Action.Status.SHADOW:
            stats.shadow += 1
            reply = replies.get((row["lead_id"], row["created_at"]))
            if reply is None:
                stats.shadow_silent += 1
            elif difflib.SequenceMatcher(None, row["payload__body"] or "", reply).ratio() >= SHADOW_SIMILAR:
                stats.shadow_similar += 1
            else:
                stats.shadow_different += 1
        elif row["status"] == Action.Status.REJECTED:
            stats.rejected += 1
        elif row["edited"]:
            stats.edited += 1
            stats.edit_distances.append(row["edit_distance"] or 0.0)
        else:
            stats.unchanged += 1
    return stats


def _person_messages_after(shadows: list[dict]) -> dict[tuple, str]:
    """For each shadow draft, the first outbound message a person sent the lead within a day after it."""
    if not shadows:
        return {}
    earliest = min(s["created_at"] for s in shadows)
    messages = (
        Message.objects.filter(
            lead_id__in={s["lead_id"] for s in shadows},
            direction=Message.Direction.OUTBOUND,
            created_at__gte=earliest,
        )
        .exclude(channel="call")
        .filter(Q(action__isnull=True) | Q(action__proposed_by__isnull=False) | Q(action__decided_by__isnull=False))
        .order_by("created_at")
        .values_list("lead_id", "created_at", "body")
    )
    by_lead: dict[int, list[tuple]] = {}
    for lead_id, created_at, body in messages:
        by_lead.setdefault(lead_id, []).append((created_at, body))
    found = {}
    for shadow in shadows:
        start = shadow["created_at"]
        for created_at, body in by_lead.get(shadow["lead_id"], []):
            if start <= created_at <= start + SHADOW_WINDOW:
                found[(shadow["lead_id"], start)] = body
                break
    return found


@dataclass(frozen=True)
class WorkflowRow:
    workflow: str
    label: str
    policy: Policy
    gates: list
    stats: GraduationStats


def autonomy_overview() -> list[WorkflowRow]:
    """Every workflow's dial, gates and graduation evidence, for the managers' autonomy page."""
    policies = {p.workflow: p for p in Policy.objects.prefetch_related("gates")}
    rows = []
    for workflow, label in Workflow.choices:
        policy = policies.get(workflow) or Policy(workflow=workflow)
        gates = list(policy.gates.all()) if policy.pk else []
        rows.append(WorkflowRow(workflow, label, policy, gates, graduation_stats(policy)))
    return rows
