"""Twilio Voice webhooks: an inbound call rings the lead's rep or team; its outcome records itself.

Whom to ring and the missed-call text-back are routing's (availability, drafting, the policy), so the
call's doors live here; the Twilio signature check and the form checks are integrations'.
"""

import logging

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.signatures import twilio_signed
from integrations.views import missing
from routing.voice import call_answer, call_dial_result, call_transcription, voicemail_twiml

logger = logging.getLogger(__name__)
# Twilio ignores what a transcribeCallback answers; an empty TwiML document keeps its debugger quiet.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@csrf_exempt
@require_POST
@twilio_signed
def twilio_voice(request: HttpRequest) -> HttpResponse:
    """An inbound call: captured at once (the TwiML must name whom to ring), then dialled.

    ``From`` may be empty or a withheld form ("anonymous", "+266696687"…): the caller is still a lead.
    """
    if refused := missing(request, "CallSid"):
        return refused
    try:
        return HttpResponse(call_answer(request.POST.dict()), content_type="text/xml")
    except ValidationError as exc:
        # Nothing a caller sends should get here; if it does, the caller still reaches a voicemail greeting.
        logger.error("voice.uncapturable", extra={"errors": exc.message_dict})
        return HttpResponse(voicemail_twiml(), content_type="text/xml")


@csrf_exempt
@require_POST
@twilio_signed
def twilio_voice_status(request: HttpRequest) -> HttpResponse:
    """The dial's outcome (DialCallStatus) or a voicemail's RecordingUrl for a call we answered."""
    if refused := missing(request, "CallSid"):
        return refused
    return HttpResponse(call_dial_result(request.POST.dict()), content_type="text/xml")


@csrf_exempt
@require_POST
@twilio_signed
def twilio_voice_transcription(request: HttpRequest) -> HttpResponse:
    """Twilio's transcription of a voicemail (the <Record> transcribeCallback), for the call's timeline."""
    if refused := missing(request, "CallSid", "TranscriptionStatus"):
        return refused
    call_transcription(request.POST.dict())
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
