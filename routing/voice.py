"""Inbound calls: ring the lead's rep (or the team), and turn a missed call into an instant text-back.

The call is captured while Twilio waits (it must know whom to ring, so the lead must exist);
the pipeline then qualifies and routes it like any event, without drafting an answer of its
own. The dial's outcome arrives at the status callback: a missed call records itself on the
timeline, proposes the missed-call text-back through the normal Action path (its Policy
decides whether it goes at once), and offers voicemail; an answered call is the lead's first
touch.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from approvals.drafting import DraftContent, draft_compose
from approvals.models import Action, Policy, Workflow
from approvals.services import action_propose, policy_for
from approvals.sms import sms_text
from approvals.templating import render_text
from audit.models import Decision
from audit.services import decision_record
from integrations.caller_id import caller_id_read
from integrations.outbound import slack_alert
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
# Used when a manager has not written a missed-call template yet (the demo seeds this text too).
TEXT_BACK = (
    'Sorry we missed your call, {{ first_name }}! This is {{ rep_name|default:"the team" }} at {{ business_name }}. '
    "How can we help? Reply here and we'll get right back to you."
)
# The greeting promises only what will happen: a text when the text-back can go, else a call back, and
# a caller we have no number for is asked for one.
SORRY = "Sorry, nobody could take your call. "
PROMPT_TEXT_BACK = SORRY + "Please leave a message after the tone, and we will text you back."
PROMPT_CALL_BACK = SORRY + "Please leave a message after the tone, and we will call you back."
PROMPT_NO_NUMBER = SORRY + "Please leave your name and number after the tone, and we will call you back."
MAX_NUMBERS = 10  # Twilio rings at most ten <Number>s at once


def _status_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("twilio-voice-status")


def _transcription_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("twilio-voice-transcription")


def _numbers_to_ring(lead: Lead) -> tuple[list[str], Rep | None]:
    """The phones of whoever can take the call now (routing.directory.lead_takers, as routing and Slack ask): the
    owner if working, else their team's reps who are, else the fallback team's; none (voicemail) if nobody is.
    The Rep is the owner when they alone are rung."""
    found = lead_takers(lead, need_phone=True)
    owner = Rep.objects.select_related("user").get(pk=found.reps[0].id) if found.who == OWNER else None
    logger.info("voice.ring", extra={"lead_id": lead.pk, "who": found.who, "reason": found.reason})
    return [rep.phone for rep in found.reps[:MAX_NUMBERS]], owner


def voicemail_twiml(lead: Lead | None = None) -> str:
    """A greeting and a <Record> whose recording (and transcription) come back to this call's lead."""
    response = VoiceResponse()
    response.say(_greeting(lead))
    transcribe = {"transcribe": True, "transcribe_callback": _transcription_url()}
    response.record(
        action=_status_url(),
        method="POST",
        max_length=120,  # Twilio transcribes recordings of at most two minutes
        play_beep=True,
        **(transcribe if settings.TWILIO_TRANSCRIBE_VOICEMAIL else {}),
    )
    return str(response)


def _greeting(lead: Lead | None) -> str:
    if lead is None or not lead.phone:
        return PROMPT_NO_NUMBER
    return PROMPT_TEXT_BACK if _texts_back(lead) else PROMPT_CALL_BACK


def _texts_back(lead: Lead) -> bool:
    """A missed call from ``lead`` is answered in writing: it can be reached and the policy does more than watch."""
    return not _no_text_reason(lead) and policy_for(Workflow.MISSED_CALL).mode != Policy.Mode.OBSERVE


def _no_text_reason(lead: Lead) -> str:
    if not lead.phone:
        return "we have no number for the caller"
    return "the caller opted out of texts" if lead.opted_out else ""


def call_answer(params: dict) -> str:
    """Capture the caller and answer TwiML that rings the rep (or the team) for TWILIO_DIAL_TIMEOUT seconds.

    A withheld or unusable caller ID (integrations.caller_id) is captured as a lead of its own, keyed by
    the CallSid, with no phone.
    """
    caller = caller_id_read(params.get("From"), region=settings.DEFAULT_PHONE_REGION)
    result = lead_capture(
        event=CaptureEvent(
            channel=Channel.CALL,
            source=SOURCE,
            external_id=params["CallSid"],
            phone=caller.number,
            name="" if caller.number else caller.label,
            message="Inbound call",
            payload=params,
            withheld=not caller.number,
        )
    )
    numbers, _ = _numbers_to_ring(result.lead)
    response = VoiceResponse()
    if not numbers:
        logger.warning("voice.nobody_to_ring", extra={"lead_id": result.lead.pk})
        return voicemail_twiml(result.lead)
    dial = response.dial(timeout=settings.TWILIO_DIAL_TIMEOUT, action=_status_url(), method="POST")
    for number in numbers:
        dial.number(number)
    return str(response)


def _text_back(lead: Lead, event: InboundEvent) -> Action | None:
    if why := _no_text_reason(lead):
        decision_record(
            step=Decision.Step.CALL,
            lead=lead,
            workflow=Workflow.MISSED_CALL,
            reasoning=f"No text-back: {why}.",
            outcome=Decision.Outcome.SKIPPED,
        )
        return None
    rep_name = owner_first_name(lead.owner_id)
    content = draft_compose(lead=lead, workflow=Workflow.MISSED_CALL, rep_name=rep_name)
    if content is None or content.kind != Action.Kind.SEND_SMS:
        variables = {"first_name": lead.first_name, "rep_name": rep_name, "business_name": settings.BUSINESS_NAME}
        body = sms_text(render_text(TEXT_BACK, variables), lead=lead, rep_name=rep_name)
        content = DraftContent(kind=Action.Kind.SEND_SMS, to=lead.phone, body=body)
    return action_propose(
        lead=lead,
        workflow=Workflow.MISSED_CALL,
        content=content,
        confidence=None,
        reasoning="The caller rang and nobody answered: text them back at once.",
        event=event,
    )


def _call_lock(params: dict) -> tuple[Lead, InboundEvent, Message] | None:
    """The call's lead (locked), its captured event and its call Message (made on first sight), by CallSid."""
    call_sid = params["CallSid"]
    event = InboundEvent.objects.filter(source=SOURCE, external_id=call_sid).first()
    if event is None:
        logger.warning("voice.unknown_call", extra={"call_sid": call_sid})
        return None
    # The owner is read after the lock, not joined into it (see routing.pipeline.event_apply).
    lead = lead_lock(event.lead_id)
    call, _ = Message.objects.get_or_create(
        lead=lead,
        channel=Channel.CALL,
        direction=Message.Direction.INBOUND,
        provider_id=call_sid,
        defaults={"to": params.get("To", ""), "body": "Inbound call", "status": Message.Status.RECEIVED},
    )
    return lead, event, call


def _recording_keep(call: Message, params: dict) -> bool:
    """Keep a recording's URL with the call; False when Twilio already told us (a retry)."""
    recording = params.get("RecordingUrl", "")
    if not recording or recording in call.media:
        return False
    call.media = [*call.media, recording]
    call.save(update_fields=["media"])
    return True


def call_dial_result(params: dict) -> str:
    """Record how the call ended (answered, missed, voicemail) and answer the TwiML that follows.

    Twilio may post the same outcome twice: the call's Message is found by CallSid, the text-back
    is proposed once per call (Action is unique per event and workflow) and a voicemail is kept
    and announced once. A voicemail is the <Record> action's RecordingUrl, RecordingSid and
    RecordingDuration (seconds); it joins the call's Message, its transcription follows later.
    """
    status = params.get("DialCallStatus", "").lower()
    recording = params.get("RecordingUrl", "")
    with transaction.atomic():
        found = _call_lock(params)
        if found is None:
            return _hangup()
        lead, event, call = found
        # A voicemail (Record) or a recorded call (Dial record=…): kept with the call.
        new_recording = _recording_keep(call, params)
        # A voicemail without a dial outcome comes from a call nobody could be rung for: missed too.
        if status in MISSED or (not status and recording):
            if call.status != Message.Status.MISSED:
                call.status, call.body = (
                    Message.Status.MISSED,
                    _headline(call, f"Missed call ({status or 'nobody to ring'})"),
                )
                call.save(update_fields=["status", "body"])
                _text_back(lead, event)
            if new_recording:
                _voicemail_keep(lead, call, params)
        elif status in ("completed", "answered"):
            minutes = int(params.get("DialCallDuration") or 0) / 60
            call.status, call.body, call.sent_at = (
                Message.Status.RECEIVED,
                _headline(call, f"Answered call, {minutes:.1f} min"),
                timezone.now(),
            )
            call.save(update_fields=["status", "body", "sent_at"])
            if lead.first_response_at is None:
                # A rep picking up is the fastest first response there is; Twilio reports the dial's outcome
                # when the call ends, so it began DialCallDuration seconds ago (never before the call came in).
                answered = max(event.received_at, call.sent_at - timedelta(minutes=minutes))
                lead.first_response_at = answered
                lead._change_reason = "Call answered"
                lead.save(update_fields=["first_response_at", "updated_at"])
            _, owner = _numbers_to_ring(lead)
            lead_touch(lead=lead, how="answered the call", actor=owner.user if owner else None)
    if status in MISSED:
        return voicemail_twiml(lead)
    return _hangup()


def _headline(call: Message, text: str) -> str:
    """The call's body with ``text`` as its first line; the voicemail's lines below it stay."""
    return "\n".join([text, *call.body.split("\n")[1:]])


def _voicemail_keep(lead: Lead, call: Message, params: dict) -> None:
    """Say on the call how long the voicemail is; when no text-back answers the caller, tell the team."""
    seconds = params.get("RecordingDuration", "")
    call.body += f"\nVoicemail, {seconds} s" if seconds.isdigit() else "\nVoicemail"
    call.save(update_fields=["body"])
    if _texts_back(lead):
        return
    why = _no_text_reason(lead) or "nobody will text them back"
    ask = "listen for their name and number" if not lead.phone else "call them back"
    decision_record(
        step=Decision.Step.CALL,
        lead=lead,
        workflow=Workflow.MISSED_CALL,
        reasoning=f"Voicemail kept; {why}, so the team was asked to {ask}.",
        outcome=Decision.Outcome.ESCALATED,
    )
    slack_alert(
        lead=lead,
        event="voicemail",
        text=f":studio_microphone: Voicemail from {lead}: {why}, so {ask}. {params['RecordingUrl']}",
    )


def call_transcription(params: dict) -> None:
    """Attach Twilio's transcription of a voicemail to its call (transcribeCallback: TranscriptionStatus,
    TranscriptionText, RecordingSid, RecordingUrl, CallSid); the team hears it when nobody texts the caller.

    Idempotent: a transcription already on the call is not added again.
    """
    status = params.get("TranscriptionStatus", "").lower()
    text = " ".join(params.get("TranscriptionText", "").split())
    line = f"Transcription: “{text}”" if status == "completed" and text else f"No transcription ({status or 'empty'})"
    with transaction.atomic():
        found = _call_lock(params)
        if found is None:
            return
        lead, _, call = found
        if line in call.body:
            return
        call.body += "\n" + line
        call.save(update_fields=["body"])
        if text and not _texts_back(lead):
            slack_alert(lead=lead, event="voicemail_transcribed", text=f":memo: Voicemail from {lead}: “{text}”")


def _hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
