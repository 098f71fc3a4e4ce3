"""Reading a workflow's Policy: the autonomy dial and the gates, evaluated over an action's facts. Reads only."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from approvals.gates import GATE_FIELDS, GateFacts, gate_explain, yes_no
from approvals.models import Action, BusinessHours, Policy, PolicyGate, Reviewer, Workflow
from config.versions import SETTINGS_KEY, Snapshot
from leads.conditions import compile_conditions
from leads.models import Lead, Message, VipAccount

# Every proposal reads its workflow's policy: kept per process, rebuilt when a policy or gate is saved.
_policies = Snapshot(
    SETTINGS_KEY, lambda: {p.workflow: p for p in Policy.objects.prefetch_related("gates")}, (Policy, PolicyGate)
)


def policy_for(workflow: str) -> Policy:
    """The workflow's Policy with its gates (shared: read only); one nobody configured waits for a person."""
    return _policies.get().get(workflow) or Policy(workflow=workflow, mode=Policy.Mode.DRAFT)


def gate_facts_for(
    lead: Lead | None,
    *,
    workflow: str,
    channel: str = "",
    amount=None,
    confidence: float | None = None,
    extra: dict | None = None,
) -> GateFacts:
    """What gates may test about an action for ``lead``; the costly facts are read only if a gate asks.

    ``extra``: facts only some workflows have (a booking's ``booking_type`` and ``hours_ahead``).
    """
    qualification = (lead.qualification or {}) if lead is not None else {}
    values = {
        "workflow": workflow,
        "channel": channel,
        "amount": amount,
        "confidence": confidence,
        "score": lead.score if lead is not None else None,
        "intent": qualification.get("intent", ""),
        "company": lead.company if lead is not None else "",
        "source": "",
        "booking_type": "",
        "hours_ahead": None,
        **(extra or {}),
    }
    if lead is None or lead.pk is None:
        return GateFacts(values)
    return GateFacts(
        values,
        {
            "vip": lambda: yes_no(_is_vip(lead)),
            "first_message": lambda: yes_no(
                not Message.objects.filter(lead=lead, direction=Message.Direction.OUTBOUND).exists()
            ),
            "outside_business_hours": lambda: _outside_business_hours(lead, timezone.now()),
            "source": lambda: lead.events.order_by("received_at", "id").values_list("source", flat=True).first() or "",
        },
    )


def _is_vip(lead: Lead) -> bool:
    match = Q()
    if lead.company.strip():
        match |= Q(company__iexact=lead.company.strip())
    if lead.email_domain:
        match |= Q(email_domain=lead.email_domain)
    return bool(match) and VipAccount.objects.filter(match).exists()


def _outside_business_hours(lead: Lead, now: datetime) -> str:
    # Hours are the business's, read on the lead's clock: a 7 p.m. text to Denver is 7 p.m. there.
    hours = list(BusinessHours.objects.all())
    if not hours:
        return ""
    local = now.astimezone(ZoneInfo(lead.timezone or settings.TIME_ZONE))
    today = [h for h in hours if h.weekday == local.weekday()]
    return yes_no(not any(h.opens <= local.time() < h.closes for h in today))


def _gate_holding(policy: Policy, facts: GateFacts) -> tuple[str, str] | None:
    """The first active gate of ``policy`` that holds: (why in words, who reviews)."""
    if policy.pk is None:
        return None
    label = Workflow(policy.workflow).label if policy.workflow in Workflow.values else policy.workflow
    for gate in policy.gates.all():
        if not gate.active:
            continue
        try:
            holds = compile_conditions(gate.conditions, GATE_FIELDS).holds(facts)
        except ValueError as exc:
            # A gate that can't be read must not let actions through: it holds, and says why.
            return f"gate '{gate.name}' could not be evaluated ({exc})", Reviewer.MANAGER
        if holds:
            return gate_explain(gate.name, gate.conditions, facts, label), gate.reviewer
    return None


@dataclass(frozen=True)
class PolicyOutcome:
    mode: str
    status: str
    escalation: str = ""
    review_by: str = Reviewer.REP


def policy_outcome(
    *,
    workflow: str,
    confidence: float | None,
    gate: str = "",
    facts: GateFacts | None = None,
    by_person: bool = False,
    policy: Policy | None = None,
) -> PolicyOutcome:
    """What the workflow's Policy does with a proposal; reads only (used by what-ifs too).

    Order: observe records a shadow (the system's proposals only); a gate (``gate`` from the
    draft, or a PolicyGate whose conditions hold) always waits for a person; a person's own
    proposal is otherwise approved; auto approves unless confidence is under the threshold;
    draft waits.
    """
    policy = policy or policy_for(workflow)
    if policy.mode == Policy.Mode.OBSERVE and not by_person:
        return PolicyOutcome(policy.mode, Action.Status.SHADOW)
    if gate:
        return PolicyOutcome(policy.mode, Action.Status.PENDING, gate)
    held = _gate_holding(policy, facts or GateFacts({"workflow": workflow, "confidence": confidence}))
    if held is not None:
        return PolicyOutcome(policy.mode, Action.Status.PENDING, held[0], held[1])
    if by_person:
        return PolicyOutcome(policy.mode, Action.Status.APPROVED)
    if policy.mode == Policy.Mode.AUTO:
        if confidence is not None and confidence < policy.min_confidence:
            escalation = f"confidence {confidence:.2f} < {policy.min_confidence:.2f}"
            return PolicyOutcome(policy.mode, Action.Status.PENDING, escalation)
        return PolicyOutcome(policy.mode, Action.Status.APPROVED)
    return PolicyOutcome(policy.mode, Action.Status.PENDING)
