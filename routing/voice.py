"""Inbound calls: ring the lead's rep (or the team), and turn a missed call into an instant text-back.

The call is captured while Twilio waits (it must know whom to ring, so the lead must exist);
the pipeline then qualifies and routes it like any event, without drafting an answer of its
own. The dial's outcome arrives at the status callback: a missed call records itself on the
timeline, proposes the missed-call text-back through the normal Action path (its Policy
decides whether it goes at once), and offers voicemail; an answered call is the lead's first
touch.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from approvals.drafting import DraftContent, channel_for, draft_compose
from approvals.models import Action, Workflow, render_text
from approvals.services import action_propose
from audit.models import Decision
from audit.services import decision_record
from leads.choices import Channel
from leads.lock_objects import lead_lock
from leads.models import InboundEvent, Lead, Message
from leads.services import CaptureEvent, lead_capture, lead_touch
from routing.availability import OWNER
from routing.directory import lead_takers, owner_first_name
from routing.models import Rep

logger = logging.getLogger(__name__)

SOURCE = "twilio-voice"
MISSED = frozenset({"busy", "no-answer", "failed", "canceled"})
# Used when a manager has not written a missed-call template yet.
TEXT_BACK = "Sorry we missed your call{% if first_name != 'there' %}, {{ first_name }}{% endif %}! This is {{ rep_name }} at {{ business_name }}. How can we help? Reply here and we'll get right back to you."  # noqa: E501
VOICEMAIL_PROMPT = (
    "Sorry, nobody could take your call. Please leave a message after the tone, and we will text you back."
)
MAX_NUMBERS = 10  # Twilio rings at most ten <Number>s at once


def _status_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("twilio-voice-status")


def _numbers_to_ring(lead: Lead) -> tuple[list[str], Rep | None]:
    """The phones of whoever can take the call now (routing.directory.lead_takers, as routing and Slack ask): the
    owner if working, else their team's reps who are, else the fallback team's; none (voicemail) if nobody is.
    The Rep is the owner when they alone are rung."""
    found = lead_takers(lead, need_phone=True)
    owner = Rep.objects.select_related("user").get(pk=found.reps[0].id) if found.who == OWNER else None
    logger.info("voice.ring", extra={"lead_id": lead.pk, "who": found.who, "reason": found.reason})
    return [rep.phone for rep in found.reps[:MAX_NUMBERS]], owner


def voicemail_twiml() -> str:
    return str(_voicemail(VoiceResponse()))


def _voicemail(response: VoiceResponse) -> VoiceResponse:
    response.say(VOICEMAIL_PROMPT)
    response.record(action=_status_url(), method="POST", max_length=120, play_beep=True)
    return response


def call_answer(params: dict) -> str:
    """Capture the caller and answer TwiML that rings the rep (or the team) for TWILIO_DIAL_TIMEOUT seconds."""
    result = lead_capture(
        event=CaptureEvent(
            channel=Channel.CALL,
            source=SOURCE,
            external_id=params["CallSid"],
            phone=params["From"],
            message="Inbound call",
            payload=params,
        )
    )
    numbers, _ = _numbers_to_ring(result.lead)
    response = VoiceResponse()
    if not numbers:
        logger.warning("voice.nobody_to_ring", extra={"lead_id": result.lead.pk})
        return str(_voicemail(response))
    dial = response.dial(timeout=settings.TWILIO_DIAL_TIMEOUT, action=_status_url(), method="POST")
    for number in numbers:
        dial.number(number)
    return str(response)


def _text_back(lead: Lead, event: InboundEvent) -> Action | None:
    if channel_for(lead) is None or not lead.phone or lead.opted_out:
        decision_record(
            step=Decision.Step.CALL,
            lead=lead,
            workflow=Workflow.MISSED_CALL,
            reasoning="No text-back: the caller cannot be texted (opted out or no number).",
            outcome=Decision.Outcome.SKIPPED,
        )
        return None
    rep_name = owner_first_name(lead.owner_id) or "our team"
    content = draft_compose(lead=lead, workflow=Workflow.MISSED_CALL, rep_name=rep_name)
    if content is None or content.kind != Action.Kind.SEND_SMS:
        body = render_text(
            TEXT_BACK,
            {"first_name": lead.first_name or "there", "rep_name": rep_name, "business_name": settings.BUSINESS_NAME},
        )
        content = DraftContent(kind=Action.Kind.SEND_SMS, to=lead.phone, body=body)
    return action_propose(
        lead=lead,
        workflow=Workflow.MISSED_CALL,
        content=content,
        confidence=None,
        reasoning="The caller rang and nobody answered: text them back at once.",
        event=event,
    )


def call_dial_result(params: dict) -> str:
    """Record how the call ended (answered, missed, voicemail) and answer the TwiML that follows.

    Twilio may post the same outcome twice: the call's Message is found by CallSid and the
    text-back is proposed once per call (Action is unique per event and workflow).
    """
    call_sid = params["CallSid"]
    status = params.get("DialCallStatus", "").lower()
    recording = params.get("RecordingUrl", "")
    with transaction.atomic():
        event = InboundEvent.objects.filter(source=SOURCE, external_id=call_sid).select_related("lead").first()
        if event is None:
            logger.warning("voice.unknown_call", extra={"call_sid": call_sid})
            return _hangup()
        # The owner is read after the lock, not joined into it (see routing.pipeline.event_apply).
        lead = lead_lock(event.lead_id)
        call, _ = Message.objects.get_or_create(
            lead=lead,
            channel=Channel.CALL,
            direction=Message.Direction.INBOUND,
            provider_id=call_sid,
            defaults={"to": params.get("To", ""), "body": "Inbound call", "status": Message.Status.RECEIVED},
        )
        if recording:
            # A voicemail (Record) or a recorded call (Dial record=…): kept with the call.
            call.media = [*call.media, recording] if recording not in call.media else call.media
            call.save(update_fields=["media"])
        # A voicemail without a dial outcome comes from a call nobody could be rung for: missed too.
        if status in MISSED or (not status and recording):
            if call.status != Message.Status.MISSED:
                call.status, call.body = Message.Status.MISSED, f"Missed call ({status or 'nobody to ring'})"
                call.save(update_fields=["status", "body"])
            _text_back(lead, event)
        elif status in ("completed", "answered"):
            minutes = int(params.get("DialCallDuration") or 0) / 60
            call.status, call.body, call.sent_at = (
                Message.Status.RECEIVED,
                f"Answered call, {minutes:.1f} min",
                timezone.now(),
            )
            call.save(update_fields=["status", "body", "sent_at"])
            _, owner = _numbers_to_ring(lead)
            lead_touch(lead=lead, how="answered the call", actor=owner.user if owner else None)
    if status in MISSED:
        return str(_voicemail(VoiceResponse()))
    return _hangup()


def _hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
