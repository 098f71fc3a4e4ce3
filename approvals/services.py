"""The one road for every outbound action: propose under the workflow's Policy, then a person or the policy decides.

The portal, the API and the admin all call these functions, so they behave identically.
"""

import difflib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from approvals.drafting import DraftContent, channel_for
from approvals.exceptions import ActionForbidden, ActionNotFound, ActionStateError
from approvals.gates import GATE_FIELDS, GateFacts, gate_explain, yes_no
from approvals.models import Action, BusinessHours, Policy, PolicyGate, Reviewer, Workflow
from approvals.selectors import graduation_stats
from audit.models import Decision
from audit.services import Stopwatch, decision_record
from config.queue import enqueue_on_commit
from config.versions import SETTINGS_KEY, Snapshot
from integrations.models import CrmEvent
from integrations.outbound import crm_event_emit, lead_data, slack_alert
from leads.models import Lead, Message, VipAccount
from leads.permissions import is_manager
from routing import engine

logger = logging.getLogger(__name__)

EXECUTE_TASK = "integrations.tasks.execute_action"
# Claims an action in the transaction that approved it and sends it after commit, in this process. By path:
# the executor (integrations) builds on this module.
SEND_AFTER_COMMIT = "integrations.services.action_send_after_commit"
SNOOZE_CHOICES = {15: "15 minutes", 60: "1 hour", 240: "4 hours", 1440: "Tomorrow"}
MAX_SNOOZE_MINUTES = 7 * 24 * 60
MAX_BULK = 100


# Every proposal reads its workflow's policy: kept per process, rebuilt when a policy or gate is saved.
_policies = Snapshot(
    SETTINGS_KEY, lambda: {p.workflow: p for p in Policy.objects.prefetch_related("gates")}, (Policy, PolicyGate)
)


def policy_for(workflow: str) -> Policy:
    """The workflow's Policy with its gates (shared: read only); one nobody configured waits for a person."""
    return _policies.get().get(workflow) or Policy(workflow=workflow, mode=Policy.Mode.DRAFT)


def gate_facts_for(
    lead: Lead | None, *, workflow: str, channel: str = "", amount=None, confidence: float | None = None
) -> GateFacts:
    """What gates may test about an action for ``lead``; the costly facts are read only if a gate asks."""
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
            holds = engine.compile_conditions(gate.conditions, GATE_FIELDS).holds(facts)
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


# No savepoint of its own: the pipeline and the cadence pass call it inside theirs, once per lead.
@transaction.atomic(savepoint=False)
def action_propose(
    *,
    lead,
    workflow: str,
    content: DraftContent,
    confidence: float | None,
    reasoning: str,
    event=None,
    amount: Decimal | None = None,
    proposed_by=None,
    policy: Policy | None = None,
    send_here: bool = False,
) -> Action:
    """Create the action ``content`` describes and apply the workflow's Policy to it.

    observe: stored as shadow, never executed. draft: waits for a person. auto: approved and
    queued, unless confidence is below the policy's threshold (then it waits, escalated). A
    gate that holds makes it wait for its reviewer whatever the mode. ``proposed_by`` marks a
    person's own message: only gates stop it. Idempotent per (event, workflow). A caller
    proposing many actions (the cadence scheduler) may pass the ``policy`` it already read.
    With ``send_here`` an approved action is claimed in this transaction and sent by this process
    right after commit instead of through the queue (the pipeline's first answer, where every
    second counts).
    """
    if event is not None:
        existing = Action.objects.filter(event=event, workflow=workflow).first()
        if existing is not None:
            return existing
    facts = gate_facts_for(
        lead, workflow=workflow, channel=Action.kind_channel(content.kind), amount=amount, confidence=confidence
    )
    outcome = policy_outcome(
        workflow=workflow,
        confidence=confidence,
        gate=content.gate,
        facts=facts,
        by_person=proposed_by is not None,
        policy=policy,
    )
    status, escalation = outcome.status, outcome.escalation
    approved = status == Action.Status.APPROVED
    action = Action.objects.create(
        lead=lead,
        event=event,
        workflow=workflow,
        kind=content.kind,
        payload={
            "to": content.to,
            "body": content.body,
            "subject": content.subject,
            "template": content.template_id,
            "rewritten_by": content.rewritten_by,
            "asks_for": content.asks_for,
        },
        status=status,
        amount=amount,
        confidence=confidence,
        reasoning=reasoning,
        escalated=bool(escalation),
        escalation_reason=escalation[:300],
        review_by=outcome.review_by,
        proposed_by=proposed_by,
        decided_by=proposed_by if approved else None,
        decided_at=timezone.now() if approved else None,
    )
    who = f"{proposed_by} wrote it; " if proposed_by is not None else ""
    decision_record(
        step=Decision.Step.PROPOSE,
        lead=lead,
        action=action,
        actor=proposed_by,
        input_summary=content.body,
        output={"action": action.pk, "kind": action.kind, "status": status, "policy_mode": outcome.mode},
        reasoning=f"{who}Policy '{workflow}' is {outcome.mode}"
        + (f"; escalated to {action.get_review_by_display().lower()}: {escalation}" if escalation else "."),
        confidence=confidence,
        outcome=Decision.Outcome.ESCALATED if escalation else Decision.Outcome.OK,
    )
    if approved:
        _announce_approved(action)  # before a claim here moves it on to executing
        if send_here:
            import_string(SEND_AFTER_COMMIT)(action)
        else:
            enqueue_on_commit(EXECUTE_TASK, action.pk)
    elif escalation and status == Action.Status.PENDING:
        slack_alert(
            lead=lead,
            event="escalation",
            text=f":raised_hand: {action.get_workflow_display()} for {lead} waits for "
            f"{action.get_review_by_display().lower()}: {escalation}",
        )
    return action


def actions_cancel_waiting(*, lead, reason: str, kind: str | None = None, action_ids: list[int] | None = None) -> int:
    """Cancel what still waits to go to ``lead`` (pending or approved; of one kind, or only ``action_ids``, if given).

    Returns how many were cancelled. The executor locks the same rows, so a cancelled action is never sent.
    """
    waiting = Action.objects.select_for_update().filter(
        lead=lead, status__in=(Action.Status.PENDING, Action.Status.APPROVED)
    )
    if kind:
        waiting = waiting.filter(kind=kind)
    if action_ids is not None:
        waiting = waiting.filter(pk__in=action_ids)
    count = 0
    for action in waiting:
        action.status, action.error = Action.Status.CANCELLED, reason
        action.version += 1
        action._change_reason = reason[:100]
        action.save(update_fields=["status", "error", "version", "updated_at"])
        count += 1
    return count


def _announce_approved(action: Action) -> None:
    crm_event_emit(
        CrmEvent.ACTION_APPROVED,
        lead=action.lead,
        data=lambda: {
            "action": {
                "id": action.pk,
                "workflow": action.workflow,
                "kind": action.kind,
                "body": action.body,
                "decided_by": action.decided_by.get_username() if action.decided_by_id else None,
            },
            "lead": lead_data(action.lead),
        },
    )


def _may_see(action: Action, user) -> bool:
    return is_manager(user) or action.lead.owner_id == user.pk


def _lock_for(action_id: int, user) -> Action:
    """Lock the action row for a decision by ``user``; another rep's action reads as not found."""
    action = Action.objects.select_for_update(of=("self",)).filter(pk=action_id).select_related("lead").first()
    if action is None or not _may_see(action, user):
        raise ActionNotFound("Action not found.")
    return action


def _require_status(action: Action, *allowed: str, version: int | None = None, deciding: bool = True) -> None:
    if action.status not in allowed:
        decided = f" by {action.decided_by}" if action.decided_by_id else ""
        raise ActionStateError(
            f"This action is already {action.get_status_display().lower()}{decided}.",
            extra={"status": action.status, "version": action.version},
        )
    if version is not None and version != action.version:
        raise ActionStateError(
            "This action changed since you opened it; here it is as it stands now.",
            extra={"status": action.status, "version": action.version},
        )


def _require_reviewer(action: Action, user) -> None:
    if action.review_by == Reviewer.MANAGER and not is_manager(user):
        raise ActionForbidden(f"A manager must decide this one ({action.escalation_reason}).")


def _save(action: Action, user, *fields: str) -> None:
    action.version += 1
    action._history_user = user
    action.save(update_fields=[*fields, "version", "updated_at"])


def body_validate(kind: str, body: str) -> str:
    """A message body stripped and checked against its channel's limits; ValidationError names ``body``."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "The message may not be empty."})
    if kind == Action.Kind.SEND_SMS and len(body) > settings.SMS_MAX_LENGTH:
        raise ValidationError(
            {"body": f"An SMS may be at most {settings.SMS_MAX_LENGTH} characters; this one has {len(body)}."}
        )
    return body


def edit_distance(before: str, after: str) -> float:
    """How far an edit moved a text: 0 unchanged, 1 nothing kept (1 minus difflib's similarity ratio)."""
    return round(1 - difflib.SequenceMatcher(None, before, after, autojunk=False).ratio(), 3)


def _apply_edit(action: Action, user, body: str) -> None:
    body = body_validate(action.kind, body)
    if body == action.body:
        return
    before = action.body
    if not action.edited:
        action.original_body = before
    action.edited = True
    action.payload = {**action.payload, "body": body}
    action.edit_distance = edit_distance(action.original_body, body)
    decision_record(
        step=Decision.Step.EDIT,
        lead=action.lead,
        action=action,
        actor=user,
        input_summary=before,
        output={"body": body, "edit_distance": action.edit_distance},
        reasoning=f"{user} edited the draft.",
    )


EDIT_FIELDS = ("payload", "edited", "original_body", "edit_distance")


@transaction.atomic
def action_edit(*, action_id: int, user, body: str, version: int | None = None) -> Action:
    """Change a pending message's text without deciding it; validates the body."""
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING, version=version)
    _require_reviewer(action, user)
    _apply_edit(action, user, body)
    _save(action, user, *EDIT_FIELDS)
    return action


@transaction.atomic
def action_approve(*, action_id: int, user, body: str | None = None, version: int | None = None) -> Action:
    """Approve a pending action (optionally with edited text) and queue its execution after commit.

    A second approval finds the action no longer pending and raises ActionStateError: one send.
    ``version`` (from the page the person saw) refuses to overwrite a change made meanwhile.
    """
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING, version=version)
    _require_reviewer(action, user)
    if body is not None:
        _apply_edit(action, user, body)
    action.status = Action.Status.APPROVED
    action.decided_by = user
    action.decided_at = timezone.now()
    action.snoozed_until = None
    if not action.edited:
        action.edit_distance = 0.0
    _save(action, user, *EDIT_FIELDS, "status", "decided_by", "decided_at", "snoozed_until")
    decision_record(
        step=Decision.Step.APPROVE,
        lead=action.lead,
        action=action,
        actor=user,
        output={"status": action.status, "edited": action.edited, "edit_distance": action.edit_distance},
        reasoning=f"{user} approved the {action.get_kind_display().lower()}"
        + (f" after editing (distance {action.edit_distance:.2f})." if action.edited else " unchanged."),
    )
    enqueue_on_commit(EXECUTE_TASK, action.pk)
    _announce_approved(action)
    logger.info("action.approved", extra={"action_id": action.pk, "user_id": user.pk})
    return action


@dataclass(frozen=True)
class BulkResult:
    action_id: int
    action: Action | None
    error: str = ""


def action_approve_many(*, action_ids: Iterable[int], user) -> list[BulkResult]:
    """Approve several pending actions unchanged, each in its own transaction; one refusal stops no other."""
    ids = list(dict.fromkeys(int(i) for i in action_ids))
    if not ids:
        raise ValidationError({"ids": "Select at least one action."})
    if len(ids) > MAX_BULK:
        raise ValidationError({"ids": f"Approve at most {MAX_BULK} actions at once; {len(ids)} were selected."})
    results = []
    for action_id in ids:
        try:
            results.append(BulkResult(action_id, action_approve(action_id=action_id, user=user)))
        except (ActionNotFound, ActionStateError, ActionForbidden) as exc:
            results.append(BulkResult(action_id, None, exc.message))
    return results


@transaction.atomic
def action_reject(*, action_id: int, user, reason: str, version: int | None = None) -> Action:
    """Reject a pending action with a reason (required); nothing is sent."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the action is rejected."})
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING, version=version)
    _require_reviewer(action, user)
    action.status = Action.Status.REJECTED
    action.rejection_reason = reason
    action.decided_by = user
    action.decided_at = timezone.now()
    _save(action, user, "status", "rejection_reason", "decided_by", "decided_at")
    decision_record(
        step=Decision.Step.REJECT,
        lead=action.lead,
        action=action,
        actor=user,
        reasoning=reason,
        output={"status": "rejected"},
    )
    return action


@transaction.atomic
def action_retry(*, action_id: int, user) -> Action:
    """Send a failed action again after a person looked at it."""
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.FAILED)
    action.status = Action.Status.APPROVED
    action.error = ""
    _save(action, user, "status", "error")
    decision_record(step=Decision.Step.RETRY, lead=action.lead, action=action, actor=user, reasoning=f"{user} retried.")
    enqueue_on_commit(EXECUTE_TASK, action.pk)
    return action


@transaction.atomic
def action_snooze(*, action_id: int, user, minutes: int, version: int | None = None) -> Action:
    """Hide a pending action from the queue for ``minutes``; it comes back by itself, still pending."""
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_SNOOZE_MINUTES:
        raise ValidationError({"minutes": f"Snooze for 1 to {MAX_SNOOZE_MINUTES} minutes."})
    action = _lock_for(action_id, user)
    _require_status(action, Action.Status.PENDING, version=version)
    action.snoozed_until = timezone.now() + timedelta(minutes=minutes)
    _save(action, user, "snoozed_until")
    decision_record(
        step=Decision.Step.SNOOZE,
        lead=action.lead,
        action=action,
        actor=user,
        reasoning=f"{user} snoozed it until {timezone.localtime(action.snoozed_until):%b %d %H:%M}.",
        output={"until": action.snoozed_until.isoformat()},
    )
    return action


def action_regenerate(*, action_id: int, user, instruction: str = "", version: int | None = None) -> Action:
    """Draft a pending message again, from the current template and (when configured) the model.

    The model is asked outside any transaction (it may take seconds); the new text is applied
    under the row lock only if nobody changed the action meanwhile.
    """
    # routing.pipeline proposes through this module, so it is imported when first needed.
    from routing.pipeline import NextStep, draft_for
    from routing.reasoning import conversation_for, criteria_active

    instruction = (instruction or "").strip()
    if len(instruction) > 500:
        raise ValidationError({"instruction": f"At most 500 characters; this one has {len(instruction)}."})
    action = Action.objects.filter(pk=action_id).select_related("lead__owner", "event").first()
    if action is None or not _may_see(action, user):
        raise ActionNotFound("Action not found.")
    _require_status(action, Action.Status.PENDING, version=version)
    _require_reviewer(action, user)
    lead = action.lead
    message = action.event.message if action.event_id else ""
    with Stopwatch() as timer:
        content = draft_for(
            lead,
            NextStep(workflow=action.workflow, asks_for=action.payload.get("asks_for", "")),
            conversation_for(lead, message=message, channel=action.channel, event=action.event),
            criteria_active(),
            lead.owner.get_full_name() if lead.owner_id else "",
            instruction=instruction,
        )
    if content is None:
        raise ValidationError(
            {"instruction": "There is no active template for this workflow and channel to draft from."}
        )
    with transaction.atomic():
        locked = _lock_for(action_id, user)
        _require_status(locked, Action.Status.PENDING, version=action.version)
        before = locked.body
        locked.payload = {
            **locked.payload,
            "body": content.body,
            "subject": content.subject,
            "template": content.template_id,
            "rewritten_by": content.rewritten_by,
        }
        locked.edited, locked.original_body, locked.edit_distance = False, "", None
        fields = [*EDIT_FIELDS]
        if content.gate:
            locked.escalated, locked.escalation_reason = True, content.gate[:300]
            fields += ["escalated", "escalation_reason"]
        _save(locked, user, *fields)
        model_note = (
            f"rewritten by {content.rewritten_by}"
            if content.rewritten_by
            else "no model rewrote it: the template's text"
            + (" (the instruction needs a model)" if instruction else "")
        )
        decision_record(
            step=Decision.Step.REGENERATE,
            lead=lead,
            action=locked,
            actor=user,
            input_summary=before,
            output={"body": content.body, "instruction": instruction, "rewritten_by": content.rewritten_by},
            reasoning=f"{user} asked for a new draft"
            + (f" ({instruction})" if instruction else "")
            + f"; {model_note}.",
            duration_ms=timer.ms,
            model=content.rewritten_by,
        )
    return locked


def message_propose(*, lead_id: int, user, body: str, workflow: str = Workflow.FOLLOW_UP, amount=None) -> Action:
    """A person's own message to the lead (a reply, a quote): sent at once unless a gate holds it for review."""
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None or not (is_manager(user) or lead.owner_id == user.pk):
        raise ActionNotFound("Lead not found.")
    return _message_propose(lead, workflow, body, amount, proposed_by=user, reasoning=f"Written by {user}.")


def system_message_propose(*, lead_id: int, body: str, workflow: str, amount=None, source: str = "API") -> Action:
    """A message an integration proposes (the CRM's quote…): the workflow's whole Policy applies, dial and gates."""
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        raise ValidationError({"lead": f"No lead {lead_id}."})
    return _message_propose(lead, workflow, body, amount, proposed_by=None, reasoning=f"Proposed through the {source}.")


def _workflow_check(workflow: str) -> None:
    if workflow not in Workflow.values:
        raise ValidationError({"workflow": f"Unknown workflow '{workflow}'."})


def _message_propose(lead: Lead, workflow: str, body: str, amount, *, proposed_by, reasoning: str) -> Action:
    _workflow_check(workflow)
    reach = channel_for(lead)
    if reach is None:
        raise ValidationError({"body": "The lead has no phone number we may text and no email address."})
    channel, kind, to = reach
    body = body_validate(kind, body)
    if amount is not None:
        amount = Decimal(amount)
        if amount <= 0:
            raise ValidationError({"amount": "The amount must be more than zero."})
    subject = f"Your {Workflow(workflow).label.lower()} from {settings.BUSINESS_NAME}" if channel == "email" else ""
    return action_propose(
        lead=lead,
        workflow=workflow,
        content=DraftContent(kind=kind, to=to, body=body, subject=subject),
        confidence=None,
        reasoning=reasoning,
        amount=amount,
        proposed_by=proposed_by,
    )


POLICY_FIELDS = ("mode", "min_confidence", "graduation_bar", "graduation_window")


@transaction.atomic
def policy_update(*, workflow: str, user, reason: str = "", **changes) -> Policy:
    """Turn the dial (mode, threshold, graduation bar); validated, kept in history and logged as a Decision.

    Values may be the strings a form posted: the model's validation converts them or names the field.
    """
    _workflow_check(workflow)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({name: "This setting does not exist." for name in sorted(unknown)})
    policy = Policy.objects.select_for_update().filter(workflow=workflow).first() or Policy(workflow=workflow)
    before = {name: getattr(policy, name) for name in POLICY_FIELDS}
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.full_clean()
    changed = {
        name: [before[name], getattr(policy, name)] for name in POLICY_FIELDS if before[name] != getattr(policy, name)
    }
    if not changed:
        return policy
    words = ", ".join(f"{name.replace('_', ' ')} {old} → {new}" for name, (old, new) in changed.items())
    policy._history_user = user
    policy._change_reason = (reason or words)[:100]
    policy.save()
    decision_record(
        step=Decision.Step.POLICY,
        workflow=workflow,
        actor=user,
        output={"changed": changed},
        reasoning=f"{user}: {workflow.replace('_', ' ')} {words}" + (f" ({reason})" if reason else "."),
    )
    logger.info("policy.changed", extra={"workflow": workflow, "user_id": user.pk, "changed": list(changed)})
    return policy


def policy_graduate(*, workflow: str, user) -> Policy:
    """Move a workflow to auto after its record earned it (the portal's one-click graduation)."""
    stats = graduation_stats(policy_for(workflow))
    if not stats.eligible:
        raise ValidationError({"mode": f"Not ready to graduate: {stats.verdict}"})
    return policy_update(workflow=workflow, user=user, mode=Policy.Mode.AUTO, reason=f"graduated: {stats.verdict}")


@transaction.atomic
def gate_add(*, workflow: str, user, name: str, conditions_text: str, reviewer: str = Reviewer.MANAGER) -> PolicyGate:
    """Add an approval gate to a workflow's Policy (created in draft mode if it did not exist)."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Name the gate, e.g. 'Quotes over 5,000'."
    if reviewer not in Reviewer.values:
        errors["reviewer"] = f"Choose one of {', '.join(Reviewer.values)}."
    try:
        conditions = engine.parse_lines(conditions_text or "", fields=GATE_FIELDS)
    except ValueError as exc:
        errors["conditions"] = str(exc)
    if errors:
        raise ValidationError(errors)
    _workflow_check(workflow)
    policy, _ = Policy.objects.get_or_create(workflow=workflow)
    gate = PolicyGate(policy=policy, name=name[:100], conditions=conditions, reviewer=reviewer)
    gate.full_clean()
    gate._history_user = user
    gate.save()
    decision_record(
        step=Decision.Step.POLICY,
        workflow=workflow,
        actor=user,
        output={"gate": gate.pk, "conditions": conditions, "reviewer": reviewer},
        reasoning=f"{user} added gate '{gate.name}' ({engine.describe(conditions)}) to {workflow.replace('_', ' ')}.",
    )
    return gate


@transaction.atomic
def gate_remove(*, gate_id: int, user) -> None:
    """Remove an approval gate; logged with what it tested."""
    gate = PolicyGate.objects.select_related("policy").filter(pk=gate_id).first()
    if gate is None:
        raise ValidationError({"gate": "That gate no longer exists."})
    workflow = gate.policy.workflow
    gate._history_user = user
    gate.delete()
    decision_record(
        step=Decision.Step.POLICY,
        workflow=workflow,
        actor=user,
        output={"gate_removed": gate_id, "conditions": gate.conditions},
        reasoning=f"{user} removed gate '{gate.name}' from {workflow.replace('_', ' ')}.",
    )
