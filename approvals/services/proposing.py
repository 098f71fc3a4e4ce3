"""Proposing: every outbound action is created here and handed to its workflow's Policy (observe, draft, auto)."""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from approvals.drafting import DraftContent, channel_for, opt_out_confirmation_content
from approvals.exceptions import ActionNotFound
from approvals.lock_objects import actions_waiting_lock
from approvals.models import Action, Policy, Workflow
from approvals.services.execution import EXECUTE_TASK, action_send_after_commit
from approvals.services.policy import gate_facts_for, policy_outcome
from approvals.sms import sms_check, sms_too_long
from audit.models import Decision
from audit.services import decision_record
from config.queue import enqueue_on_commit
from integrations.models import CrmEvent
from integrations.outbound import crm_event_emit, lead_data, slack_alert
from leads.models import Lead
from leads.permissions import is_manager

logger = logging.getLogger(__name__)


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
    extra_payload: dict | None = None,
    gate_facts: dict | None = None,
) -> Action:
    """Create the action ``content`` describes and apply the workflow's Policy to it.

    observe: stored as shadow, never executed. draft: waits for a person. auto: approved and
    queued, unless confidence is below the policy's threshold (then it waits, escalated). A
    gate that holds makes it wait for its reviewer whatever the mode. ``proposed_by`` marks a
    person's own message: only gates stop it. Idempotent per (event, workflow). A caller
    proposing many actions (the cadence scheduler) may pass the ``policy`` it already read.
    With ``send_here`` an approved action is claimed in this transaction and sent by this process
    right after commit instead of through the queue (the pipeline's first answer, where every
    second counts). ``extra_payload`` joins the action's payload. While a model's reading of an
    opt-out holds the lead (``Lead.consent_hold``), every proposal waits for a person, escalated. So does a text
    over the managers' SMS segment limit (``approvals.sms``), the opt-out's confirmation aside. ``gate_facts``
    are the workflow's own facts for its gates (a booking's type and hours ahead).
    """
    if event is not None:
        existing = Action.objects.filter(event=event, workflow=workflow).first()
        if existing is not None:
            return existing
    facts = gate_facts_for(
        lead,
        workflow=workflow,
        channel=Action.kind_channel(content.kind),
        amount=amount,
        confidence=confidence,
        extra=gate_facts,
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
    if (
        getattr(lead, "consent_hold", "")
        and workflow != Workflow.OPT_OUT_CONFIRMATION
        and status != Action.Status.SHADOW
    ):
        status, escalation = Action.Status.PENDING, f"held: {lead.consent_hold}"
    if status in (Action.Status.APPROVED, Action.Status.PENDING) and (too_long := _too_long(workflow, content)):
        # A template or a model's text over the limit (a long name, a UCS-2 letter in it) waits for a person.
        status, escalation = Action.Status.PENDING, f"too long: {too_long}"
    approved = status == Action.Status.APPROVED
    action = Action.objects.create(
        lead=lead,
        event=event,
        workflow=workflow,
        kind=content.kind,
        payload=action_payload(content, extra_payload),
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
        action_approved_announce(action)  # before a claim here moves it on to executing
        if send_here:
            action_send_after_commit(action)
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


def action_payload(content: DraftContent, extra: dict | None = None) -> dict:
    """An action's payload as proposing stores it: the message's address, text and what drafted it, plus ``extra``."""
    return {
        "to": content.to,
        "body": content.body,
        "subject": content.subject,
        "template": content.template_id,
        "rewritten_by": content.rewritten_by,
        "asks_for": content.asks_for,
        "language": content.language,
        **(extra or {}),
    }


def actions_cancel_waiting(*, lead, reason: str, kind: str | None = None, action_ids: list[int] | None = None) -> int:
    """Cancel what still waits to go to ``lead`` (pending or approved; of one kind, or only ``action_ids``, if given).

    Returns how many were cancelled. The executor locks the same rows, so a cancelled action is never sent.
    """
    waiting = actions_waiting_lock(lead)
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


def _too_long(workflow: str, content: DraftContent) -> str:
    # The opt-out's one confirmation goes at once whatever it costs: holding it could miss the FCC's five minutes.
    if content.kind != Action.Kind.SEND_SMS or workflow == Workflow.OPT_OUT_CONFIRMATION:
        return ""
    return sms_too_long(content.body)


def action_approved_announce(action: Action) -> None:
    """Tell subscribed CRMs an action was approved (by a person, or by the policy alone)."""
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


def body_validate(kind: str, body: str) -> str:
    """A message body stripped and checked against its channel's limits; ValidationError names ``body``.

    An SMS may cost at most the managers' number of segments (``approvals.sms``), counted by its encoding.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "The message may not be empty."})
    if kind == Action.Kind.SEND_SMS:
        sms_check(body)
    return body


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


def workflow_check(workflow: str) -> None:
    """Raise ValidationError (``workflow``) unless ``workflow`` is one of ours."""
    if workflow not in Workflow.values:
        raise ValidationError({"workflow": f"Unknown workflow '{workflow}'."})


def _message_propose(lead: Lead, workflow: str, body: str, amount, *, proposed_by, reasoning: str) -> Action:
    workflow_check(workflow)
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


# The action kinds that reach a lead on each channel a person can opt out of ("all": every one of them).
OPT_OUT_KINDS = {
    "sms": (Action.Kind.SEND_SMS,),
    "email": (Action.Kind.SEND_EMAIL,),
    "all": (Action.Kind.SEND_SMS, Action.Kind.SEND_EMAIL, Action.Kind.SEND_CHAT),
}


def actions_cancel_on_opt_out(*, lead, channel: str, reason: str, record=None, confirm: bool = False) -> int:
    """Receiver of LEAD_OPTED_OUT: cancel what waits to reach ``lead`` on ``channel``; returns how many."""
    return sum(actions_cancel_waiting(lead=lead, reason=reason, kind=kind) for kind in OPT_OUT_KINDS.get(channel, ()))


# The one confirmation goes at once, whatever the workflows' dials: the FCC gives five minutes.
CONFIRMATION_POLICY = Policy(workflow=Workflow.OPT_OUT_CONFIRMATION, mode=Policy.Mode.AUTO, min_confidence=0)


def opt_out_confirm(*, lead, channel: str, reason: str, record=None, confirm: bool = False) -> None:
    """Receiver of LEAD_OPTED_OUT: propose the opt-out's one confirmation text, sent right after the commit."""
    if not confirm or record is None or not record.phone:
        return
    action_propose(
        lead=lead,
        workflow=Workflow.OPT_OUT_CONFIRMATION,
        content=opt_out_confirmation_content(lead, phone=record.phone, record_id=record.pk),
        confidence=None,
        reasoning=f"Confirms the opt-out ({reason})",
        policy=CONFIRMATION_POLICY,
        send_here=True,
        extra_payload={"confirms": record.pk},
    )
