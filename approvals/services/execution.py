"""Carrying out approved actions through the channel backends, exactly once.

The claim locks the action and moves it approved -> executing in a committed transaction; the send
happens outside any transaction; the outcome (provider id, or the failure) is recorded after. A
second run finds the action no longer approved and sends nothing.
"""

import logging
import time
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from approvals.lock_objects import action_lock, action_lock_or_skip
from approvals.models import FIRST_ANSWER_WORKFLOWS, Action, Workflow
from approvals.reactions import ACTION_SENT
from approvals.services.booking import action_book
from approvals.services.quiet_hours import quiet_hold
from approvals.sms import sms_too_long
from audit.models import Decision
from audit.services import Stopwatch, decision_record, decisions_batched
from config.queue import enqueue_on_commit, run_after_commit
from integrations import channels
from integrations.models import CrmEvent
from integrations.outbound import crm_event_emit, lead_data, slack_alert
from leads.choices import Stage
from leads.lock_objects import lead_lock
from leads.models import ConsentRecord, Lead, Message
from leads.selectors import contact_suppressed, email_undeliverable, opt_out_confirmable
from leads.services import consent_confirmation_record, lead_stage_changed, lead_touch
from leads.unsubscribe import list_unsubscribe_headers

logger = logging.getLogger(__name__)

EXECUTE_TASK = "approvals.tasks.action_execute"


def _claim(action_id: int) -> tuple[Action, Message | None] | None:
    """Move an approved action to executing and create its outbound Message, in one committed transaction.

    Returns None when there is nothing to send (not approved any more, already sent, opted out, an address
    that bounces).
    """
    with transaction.atomic():
        # A Booking action commits its meeting in this claim, which locks the lead and then its reps: the lead is
        # locked before the action, the house order (leads.lock_objects), so the claim never waits the other way.
        owner = Action.objects.filter(pk=action_id, workflow=Workflow.BOOKING).values_list("lead_id", flat=True)
        for lead_id in owner:
            lead_lock(lead_id)
        action = action_lock(action_id)
        if action is None or action.status != Action.Status.APPROVED:
            status = getattr(action, "status", None)
            logger.info("action.execute_skipped", extra={"action_id": action_id, "status": status})
            return None
        return _claim_approved(action)


def _opted_out(action: Action, lead) -> str:
    """Why consent forbids ``action`` to reach ``lead`` now ("" when it may go).

    The suppression list is read by the address's digest as well as the lead's flags, so an address that opted
    out under another lead, or before it was forgotten, is refused too. An opt-out's one confirmation text may
    reach the number it confirms, within the FCC's five minutes and once.
    """
    to = action.payload.get("to", "")
    if action.kind == Action.Kind.SEND_SMS:
        confirms = action.payload.get("confirms")
        if action.workflow == Workflow.OPT_OUT_CONFIRMATION:
            return (
                "" if confirms and opt_out_confirmable(confirms, to) else "the opt-out's confirmation is no longer due"
            )
        if lead.opted_out or contact_suppressed("sms", to):
            return "the lead opted out of SMS"
    if action.kind == Action.Kind.SEND_EMAIL and (lead.email_opted_out or contact_suppressed("email", to.lower())):
        return "the lead unsubscribed from email"
    if action.kind == Action.Kind.SEND_CHAT and lead.opted_out and lead.email_opted_out:
        return "the lead asked not to be contacted"
    return ""


def _limited(action: Action) -> bool:
    # The opt-out's one confirmation goes whatever it costs (the FCC's five minutes).
    return action.kind == Action.Kind.SEND_SMS and action.workflow != Workflow.OPT_OUT_CONFIRMATION


def _undeliverable(action: Action, lead) -> str:
    """Why ``action``'s email cannot reach its address ("" when it may go): the address bounced for good.

    Kept apart from consent (``_opted_out``): nobody asked anything; clearing Lead.email_undeliverable (the address
    corrected) lets email go again, and no consent record is written either way.
    """
    if action.kind != Action.Kind.SEND_EMAIL:
        return ""
    to = action.payload.get("to", "").strip().lower()
    why = lead.email_undeliverable if to == lead.email else email_undeliverable(to)
    return f"mail to {to} bounces ({why})" if why else ""


def _not_sent(action: Action, fields: list[str], reasoning: str, *, skipped: bool) -> None:
    """Save why a claimed action does not go, and say so on the lead's timeline."""
    action.save(update_fields=[*fields, "updated_at"])
    decision_record(
        step=Decision.Step.EXECUTE,
        lead=action.lead,
        action=action,
        reasoning=reasoning,
        outcome=Decision.Outcome.SKIPPED if skipped else Decision.Outcome.ESCALATED,
    )


def _claim_approved(action: Action) -> tuple[Action, Message | None] | None:
    """Approved -> executing, with its outbound Message; the caller holds the action (row lock, or its creation).

    A task for the team (call task, Slack nudge) has no Message: nothing goes to the lead. Returns None, with
    the action cancelled, when consent forbids it now (an opt-out since it was approved), back in the queue
    when the lead is held for a person (a model read an opt-out) or a text is over the managers' segment limit,
    or still approved when quiet hours hold a text.
    """
    lead = action.lead
    refused = (_opted_out(action, lead) or _undeliverable(action, lead)) if action.to_lead else ""
    if refused:
        action.status, action.error = Action.Status.CANCELLED, f"Not sent: {refused}."
        _not_sent(action, ["status", "error"], f"Not sent: {refused} after the action was approved.", skipped=True)
        return None
    if action.to_lead and lead.consent_hold and action.workflow != Workflow.OPT_OUT_CONFIRMATION:
        action.status, action.escalated = Action.Status.PENDING, True
        action.escalation_reason = f"held: {lead.consent_hold}"[:300]
        action.version += 1
        reasoning = f"Not sent: {lead.consent_hold}. It waits in the queue until a person settles it."
        _not_sent(action, ["status", "escalated", "escalation_reason", "version"], reasoning, skipped=False)
        return None
    # A Booking action books first, in this transaction: its message says how it went (approvals.services.booking).
    if not action_book(action):
        return None
    # The last guard, read after a booking rewrote the body (its confirmation): approved before the managers lowered
    # the limit, or written past the services. A booking made stays made; a later claim does not book it again.
    too_long = sms_too_long(action.body) if _limited(action) else ""
    if too_long:
        action.status, action.escalated = Action.Status.PENDING, True
        action.escalation_reason = f"too long: {too_long}"[:300]
        action.version += 1
        reasoning = f"Not sent: {too_long} It waits in the queue for a shorter text."
        _not_sent(action, ["status", "escalated", "escalation_reason", "version"], reasoning, skipped=False)
        return None
    if action.to_lead and quiet_hold(action):  # a text the law does not allow now: still approved, it goes then
        return None
    action.status = Action.Status.EXECUTING
    action.attempts += 1
    action.save(update_fields=["status", "attempts", "updated_at"])
    if not action.to_lead:
        return action, None
    # The action is held (row lock or creation): no savepointed update_or_create needed. Only a claim makes
    # an action's Message (attempts is never reset), so the first claim has none to reuse.
    earlier = Message.objects.filter(action=action).first() if action.attempts > 1 else None
    message = earlier or Message(action=action)
    message.lead = lead
    message.direction = Message.Direction.OUTBOUND
    message.channel = action.channel
    message.to = action.payload.get("to", "")
    message.subject = action.payload.get("subject", "")
    message.body = action.body
    message.status = Message.Status.SENDING
    message.error = ""
    message.save()
    return action, message


def _fail(action: Action, message: Message | None, error: str, *, reason: str = "send failed") -> None:
    with transaction.atomic():
        if message is not None:
            message.status = Message.Status.FAILED
            message.error = error
            message.save(update_fields=["status", "error"])
        action.status = Action.Status.FAILED
        action.error = error
        action.escalated = True
        action.escalation_reason = reason
        action.save(update_fields=["status", "error", "escalated", "escalation_reason", "updated_at"])
        decision_record(
            step=Decision.Step.EXECUTE,
            lead=action.lead,
            action=action,
            reasoning=f"Send failed: {error}",
            outcome=Decision.Outcome.FAILED,
        )
        slack_alert(lead=action.lead, event="send_failed", text=f":warning: Could not send to {action.lead}: {error}")
    logger.warning("action.failed", extra={"action_id": action.pk, "error": error})


def _complete(action: Action, message: Message, provider_id: str, duration_ms: float, note: str = "") -> None:
    now = timezone.now()
    with transaction.atomic(), decisions_batched():
        message.status = Message.Status.SENT
        message.provider_id = provider_id
        # An email's provider id is its Message-ID: replies thread back to the lead by it.
        message.message_id = provider_id if message.channel == "email" else ""
        message.sent_at = now
        message.save(update_fields=["status", "provider_id", "message_id", "sent_at"])
        action.status = Action.Status.DONE
        action.save(update_fields=["status", "updated_at"])
        lead = lead_lock(action.lead_id)
        if action.workflow == Workflow.OPT_OUT_CONFIRMATION:
            # A compliance text, not a touch: no stage, no first response, no cadence clock.
            consent_confirmation_record(
                lead=lead, opt_out=ConsentRecord.objects.get(pk=action.payload["confirms"]), message=message
            )
            decision_record(
                step=Decision.Step.EXECUTE,
                lead=lead,
                action=action,
                output={"message": message.pk, "provider_id": provider_id},
                reasoning=f"The opt-out's one confirmation text handed to the {action.channel} backend.{note}",
                duration_ms=duration_ms,
            )
            return
        lead.last_outbound_at = now
        before = lead.stage
        changed = []
        if action.workflow in FIRST_ANSWER_WORKFLOWS and lead.first_response_at is None:
            lead.first_response_at = now
            changed.append("first_response_at")
        if action.workflow == Workflow.QUOTE and lead.stage in (Stage.NEW, Stage.QUALIFIED, Stage.CONTACTED):
            lead.stage = Stage.QUOTED
            changed.append("stage")
        elif lead.stage in (Stage.NEW, Stage.QUALIFIED):
            lead.stage = Stage.CONTACTED
            changed.append("stage")
        if changed:
            lead._change_reason = f"{action.get_kind_display()} sent"
            lead.save(update_fields=[*changed, "last_outbound_at", "updated_at"])
        else:
            # Not through save(): a send alone is not a change of the lead worth a history row.
            Lead.objects.filter(pk=lead.pk).update(last_outbound_at=now)
        if "stage" in changed:
            lead_stage_changed(lead, before=before, by="nightshift")
        crm_event_emit(
            CrmEvent.MESSAGE_SENT,
            lead=lead,
            data=lambda: {
                "lead": lead_data(lead),
                "message": {"id": message.pk, "channel": message.channel, "to": message.to, "body": message.body},
            },
        )
        decision_record(
            step=Decision.Step.EXECUTE,
            lead=lead,
            action=action,
            output={"message": message.pk, "provider_id": provider_id},
            reasoning=f"{action.get_kind_display()} handed to the {action.channel} backend.{note}",
            duration_ms=duration_ms,
        )
        if action.decided_by_id is not None:
            # A message a person approved is their touch; one the policy sent alone is not.
            lead_touch(lead=lead, how=f"{action.get_kind_display().lower()} sent", actor=action.decided_by)
        ACTION_SENT.send(action=action)
    logger.info("action.done", extra={"action_id": action.pk, "provider_id": provider_id})


def _team_task_complete(action: Action, provider_id: str, duration_ms: float) -> None:
    with transaction.atomic():
        action.status = Action.Status.DONE
        action.save(update_fields=["status", "updated_at"])
        decision_record(
            step=Decision.Step.EXECUTE,
            lead=action.lead,
            action=action,
            output={"provider_id": provider_id},
            reasoning=f"{action.get_kind_display()}: {action.body}",
            duration_ms=duration_ms,
        )
    logger.info("action.done", extra={"action_id": action.pk, "provider_id": provider_id})


def _slack_nudge(action: Action) -> channels.SendResult:
    delivery = slack_alert(lead=action.lead, event="cadence", text=f":bell: {action.body}")
    return channels.SendResult(provider_id=f"slack-delivery-{delivery.pk}" if delivery else "slack-not-configured")


def _sender(action: Action, message: Message | None):
    """The channel call that carries the action out."""
    if action.kind == Action.Kind.SEND_SMS:
        return partial(channels.send_sms, to=message.to, body=message.body, confirming=action.payload.get("confirms"))
    if action.kind == Action.Kind.SEND_CHAT:
        return partial(channels.send_chat, message_id=message.pk)
    if action.kind == Action.Kind.SLACK_NUDGE:
        return partial(_slack_nudge, action)
    if action.kind == Action.Kind.CALL_TASK:
        link = f"{settings.PUBLIC_BASE_URL}/portal/leads/{action.lead_id}/"
        body = f"{action.body}\n\n{action.lead} · {action.lead.phone or action.lead.email}\n{link}"
        return partial(
            channels.send_email, to=action.payload.get("to", ""), subject=action.payload.get("subject", ""), body=body
        )
    return partial(
        channels.send_email,
        to=message.to,
        subject=message.subject,
        body=message.body,
        headers=list_unsubscribe_headers(action.lead_id, message.to),
    )


def action_execute(*, action_id: int) -> Action | None:
    """Send an approved action once and record the provider id.

    Three short transactions: claim (approved -> executing, row locked), send outside any
    transaction, record. A second run finds the action no longer approved and sends nothing; a
    worker killed mid-send leaves it visibly ``executing`` rather than risking a second text.
    """
    claimed = _claim(action_id)
    return _carry_out(*claimed) if claimed is not None else None


def action_send_after_commit(action: Action) -> None:
    """Claim ``action``, approved in the current transaction, and send it from this process once that commits.

    For the pipeline's automatic first answer: no second task and no second claim transaction. The
    claim commits with the approval, so no other worker can take the action; a process that dies
    before the send leaves it ``executing``, which the stalled-send sweep settles as it does a
    worker killed mid-send (it asks the provider, then sends again or hands it to a person).
    """
    claimed = _claim_approved(action)
    if claimed is not None:
        run_after_commit(_carry_out, *claimed)


def _carry_out(action: Action, message: Message | None) -> Action:
    """Send a claimed action outside any transaction, then record the provider id (or the failure)."""
    send = _sender(action, message)
    try:
        with Stopwatch() as timer:
            result = retrying(send)
    except Exception as exc:  # noqa: BLE001 - any provider failure must leave the action visibly failed, not stuck
        _fail(action, message, str(exc) or exc.__class__.__name__)
        return action
    if message is None:
        _team_task_complete(action, result.provider_id, timer.ms)
    else:
        _complete(action, message, result.provider_id, timer.ms)
    return action


STALLED = "The worker stopped while sending, so it may or may not have gone out: check the conversation before Retry."


def _interrupted_send(action: Action, message: Message | None) -> channels.SendResult | None:
    """Whether a send a dead worker left half-done reached the provider: what it recorded, or None if surely not.

    Raises ChannelError when that cannot be known (an email handed to SMTP, a backend with no record).
    """
    if action.kind == Action.Kind.SEND_CHAT:
        return None  # the stored message is the delivery: sending it again writes the same row
    if action.kind != Action.Kind.SEND_SMS or message is None:
        raise channels.ChannelError(f"{action.get_kind_display()} leaves no record to ask.")
    known = set(
        Message.objects.filter(to=message.to, direction=Message.Direction.OUTBOUND)
        .exclude(provider_id="")
        .values_list("provider_id", flat=True)
    )
    for sent in channels.get_sms_backend().sent_since(to=message.to, since=action.updated_at):
        if sent.body == message.body and sent.provider_id not in known:
            return channels.SendResult(provider_id=sent.provider_id)
    return None


def _settle(action: Action, message: Message | None, verdict: channels.SendResult | None) -> None:
    """Record what the provider has, or send again when it surely has nothing, or hand it to a person."""
    if verdict is not None:
        note = " The worker stopped mid-send; the provider had the message, so it is recorded, not sent again."
        _complete(action, message, verdict.provider_id, 0.0, note)
        return
    if action.attempts >= settings.SEND_ATTEMPTS:
        _fail(action, message, STALLED, reason="send interrupted")
        return
    action.status = Action.Status.APPROVED
    action.save(update_fields=["status", "updated_at"])
    decision_record(
        step=Decision.Step.EXECUTE,
        lead=action.lead,
        action=action,
        reasoning="The worker stopped mid-send and the provider has no such message: sending it again.",
    )
    enqueue_on_commit(EXECUTE_TASK, action.pk)


def executions_stalled(*, older_than_minutes: int | None = None, now=None) -> int:
    """Settle actions a worker that died mid-send left ``executing``; returns how many were found.

    The provider is asked (outside any lock) whether the message reached it: if so it is recorded
    as sent; if it surely did not, it is sent again (up to SEND_ATTEMPTS claims); when the provider
    cannot tell, the action fails into the queue for a person, since a second text is worse than a look.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=older_than_minutes or settings.EXECUTE_STALL_MINUTES)
    stalled = Action.objects.filter(status=Action.Status.EXECUTING, updated_at__lt=cutoff).select_related("lead")
    found = 0
    for seen in list(stalled[:500]):
        message = Message.objects.filter(action=seen).first()
        try:
            verdict, known = _interrupted_send(seen, message), True
        except Exception as exc:  # noqa: BLE001 - a provider that cannot be asked leaves it to a person
            # The class only: a provider's message may quote the lead's number.
            logger.info("action.stall_unknown", extra={"action_id": seen.pk, "why": exc.__class__.__name__})
            verdict, known = None, False
        with transaction.atomic():
            # Still the same claim: no other sweep settled it meanwhile.
            action = action_lock_or_skip(seen.pk, status=Action.Status.EXECUTING, updated_at=seen.updated_at)
            if action is None:
                continue
            if known:
                _settle(action, message, verdict)
            else:
                _fail(action, message, STALLED, reason="send interrupted")
            found += 1
    return found


def retrying(call, *, attempts: int | None = None, delay: float | None = None):
    """Run ``call``; retry a transient ChannelError up to SEND_ATTEMPTS times, doubling the wait each time.

    Only failures where the provider surely did not act are transient, so a retry never sends twice.
    """
    attempts = attempts or settings.SEND_ATTEMPTS
    delay = settings.SEND_RETRY_SECONDS if delay is None else delay
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except channels.ChannelError as exc:
            if not exc.transient or attempt == attempts:
                raise
            logger.info("send.retry", extra={"attempt": attempt, "error": str(exc)})
            time.sleep(delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")
