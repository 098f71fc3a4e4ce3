"""Provider webhooks and the public chat endpoint. Thin: check the signature and the input, store, answer fast."""

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework import serializers
from twilio.twiml.messaging_response import MessagingResponse

from config.ratelimit import client_address, rate_limited
from integrations.adsources import Refused, facebook_challenge, source_receive
from integrations.chat import ChatPost, ChatSessionUnknown, chat_post, chat_replies, chat_session_get
from integrations.delivery import message_delivery_update
from integrations.inbound import webhook_receive
from integrations.mail import parse_form_message, raw_store
from integrations.models import ChatWidget, InboundWebhook, LeadSource
from integrations.signatures import secret_equal, twilio_signed
from leads.consent_words import consent_reading
from leads.services import ConsentGiven, sms_words_consent

logger = logging.getLogger(__name__)


def twiml(response=None) -> HttpResponse:
    return HttpResponse(str(response or MessagingResponse()), content_type="text/xml")


def missing(request: HttpRequest, *fields: str) -> HttpResponse | None:
    """A 400 naming the required form fields the callback lacks, or None when all are there."""
    absent = [f for f in fields if not request.POST.get(f, "").strip()]
    if not absent:
        return None
    logger.warning("webhook.malformed", extra={"path": request.path, "missing": absent})
    return HttpResponse(f"Missing field(s): {', '.join(absent)}.", status=400, content_type="text/plain")


@csrf_exempt  # Called by Twilio, which signs the request instead.
@require_POST
@twilio_signed
def twilio_sms(request: HttpRequest) -> HttpResponse:
    """An inbound text: stored once per MessageSid and captured in a task; opt-out, opt-in and HELP handled at once."""
    if refused := missing(request, "MessageSid", "From"):
        return refused
    params = request.POST.dict()
    row, created = webhook_receive(
        kind=InboundWebhook.Kind.TWILIO_SMS, source="twilio-sms", external_id=params["MessageSid"], payload=params
    )
    # Consent takes effect before Twilio hears back, not when a worker gets to it; a retried delivery is stored
    # once and acted on once.
    body = params.get("Body", "")
    if created:
        said = sms_words_consent(phone=params["From"], body=body, reference=params["MessageSid"])
    else:
        said = consent_reading(body).kind
    reply = MessagingResponse()
    if said == "help":
        reply.message(settings.SMS_HELP_TEXT)
    return twiml(reply)


@csrf_exempt
@require_POST
@twilio_signed
def twilio_status(request: HttpRequest) -> HttpResponse:
    """A delivery report for a message we sent (queued, sent, delivered, undelivered, failed + ErrorCode)."""
    if refused := missing(request, "MessageSid", "MessageStatus"):
        return refused
    message_delivery_update(
        provider_id=request.POST["MessageSid"],
        status=request.POST["MessageStatus"].strip().lower(),
        error_code=request.POST.get("ErrorCode", "").strip(),
        to=request.POST.get("To", "").strip(),
    )
    return HttpResponse(status=204)


@csrf_exempt  # Posted by ad platforms and marketplaces, which authenticate with the source's secret.
@require_http_methods(["GET", "POST"])
def source_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    """Leads from an ad platform or marketplace: checked against the source's secret, one stored row per lead.

    GET answers Facebook's subscription handshake (hub.challenge) when hub.verify_token matches.
    """
    source = LeadSource.objects.filter(slug=slug, active=True).first()
    if source is None:
        logger.warning("source.unknown", extra={"slug": slug})
        return JsonResponse({"detail": f"No active lead source '{slug}'."}, status=404)
    if request.method == "GET":
        if challenge := facebook_challenge(source, request.GET):
            return HttpResponse(challenge, content_type="text/plain")
        logger.warning("source.handshake_refused", extra={"slug": slug})
        return JsonResponse({"detail": "Verification failed."}, status=403)
    try:
        stored, seen = source_receive(source=source, body=request.body, headers=request.headers)
    except Refused as exc:
        logger.warning("source.refused", extra={"slug": slug, "reason": str(exc)})
        return JsonResponse({"detail": f"Refused: {exc}."}, status=exc.status)
    return JsonResponse({"stored": stored, "duplicates": seen})


@csrf_exempt  # Posted by the mail provider's inbound-parse service, which gives the shared secret instead.
@require_POST
def email_inbound(request: HttpRequest) -> HttpResponse:
    """An inbound-parse POST (raw MIME in ``email`` or ``body-mime``, or from/subject/text/html/headers fields):
    stored once per Message-ID.

    The secret (EMAIL_INBOUND_SECRET) comes as X-Nightshift-Secret or ``?secret=``, since some providers
    cannot add headers.
    """
    given = request.headers.get("X-Nightshift-Secret") or request.GET.get("secret", "")
    if not secret_equal(settings.EMAIL_INBOUND_SECRET, given):
        logger.warning("email.refused", extra={"reason": "bad or missing secret"})
        return JsonResponse({"detail": "Refused: bad or missing secret."}, status=403)
    if not any(request.POST.get(field) for field in ("email", "body-mime", "from", "sender")):
        return JsonResponse({"email": ["Send the raw message as 'email', or at least 'from' and 'text'."]}, status=400)
    row, created = raw_store(parse_form_message(request.POST))
    return JsonResponse({"stored": created, "id": row.pk})


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _chat_json(data: dict, origin: str, status: int = 200) -> HttpResponse:
    return _cors(JsonResponse(data, status=status), origin)


@csrf_exempt  # Called from customers' sites by the chat script; a conversation token, not a cookie, identifies it.
@require_http_methods(["GET", "POST", "OPTIONS"])
def chat_messages(request: HttpRequest, slug: str) -> HttpResponse:
    """The chat box's endpoint. POST a visitor message; GET ``?conversation=…&after=<id>`` for our replies."""
    origin = request.headers.get("Origin", "")
    widget = ChatWidget.objects.filter(slug=slug, active=True).first()
    if widget is None:
        return _chat_json({"detail": f"No active chat '{slug}'."}, origin, status=404)
    if origin and not widget.origin_allowed(origin):
        logger.warning("chat.origin_refused", extra={"slug": slug, "origin": origin})
        return JsonResponse({"detail": "This site may not embed this chat."}, status=403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    try:
        if request.method == "GET":
            session = chat_session_get(widget=widget, token=request.GET.get("conversation", ""))
            after = request.GET.get("after", "0")
            replies = chat_replies(session=session, after=int(after) if after.isdigit() else 0)
            return _chat_json({"messages": replies}, origin)
        if rate_limited(request, f"chat:{slug}", settings.CHAT_RATE_LIMIT_PER_MINUTE):
            return _chat_json({"detail": "Too many messages; wait a minute."}, origin, status=429)
        serializer = ChatPostSerializer(data=_json_body(request))
        if not serializer.is_valid():
            return _chat_json(serializer.errors, origin, status=400)
        values = dict(serializer.validated_data)
        consent = (
            ConsentGiven(
                text=values["consent_text"] or "(the chat box sent no disclosure text)",
                version=values["consent_version"],
                how="form",
                ip=client_address(request) or None,
                user_agent=request.headers.get("User-Agent", "")[:500],
                page_url=origin,
            )
            if values.pop("consent")
            else None
        )
        values.pop("consent_text"), values.pop("consent_version")
        session = chat_post(widget=widget, post=ChatPost(**values, consent=consent))
    except ChatSessionUnknown as exc:
        return _chat_json({"conversation": [str(exc)]}, origin, status=404)
    except ValidationError as exc:
        return _chat_json(exc.message_dict, origin, status=400)
    return _chat_json({"conversation": session.token, "greeting": widget.greeting}, origin, status=202)


def _json_body(request: HttpRequest):
    try:
        return json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": "Send a JSON object."}) from None


# The chat box's consent checkbox (unticked until the visitor ticks it): the words the visitor agrees to, versioned.
CHAT_CONSENT = {
    "consent_text": "I agree that {business} may text me about my request. Msg & data rates may apply. "
    "Reply STOP to opt out.",
    "consent_version": "chat-1",
}


class ChatPostSerializer(serializers.Serializer):
    client_id = serializers.RegexField(r"^[A-Za-z0-9_-]{8,64}$", help_text="A new random id per message.")
    text = serializers.CharField(max_length=2000)
    conversation = serializers.CharField(max_length=64, required=False, default="")
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, default="", allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    consent = serializers.BooleanField(required=False, default=False, help_text="The visitor ticked the consent box.")
    consent_text = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    consent_version = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


@require_http_methods(["GET", "OPTIONS"])
def chat_config(request: HttpRequest, slug: str) -> HttpResponse:
    """What the chat box shows before the first message: its name, greeting and the consent box's disclosure."""
    origin = request.headers.get("Origin", "")
    widget = ChatWidget.objects.filter(slug=slug, active=True).first()
    if widget is None or (origin and not widget.origin_allowed(origin)):
        return JsonResponse({"detail": f"No chat '{slug}' for this site."}, status=404)
    config = {"name": widget.name, "greeting": widget.greeting, **CHAT_CONSENT}
    config["consent_text"] = config["consent_text"].format(business=settings.BUSINESS_NAME)
    return _chat_json(config, origin)


@require_http_methods(["GET"])
def chat_demo(request: HttpRequest, slug: str) -> HttpResponse:
    """A bare page embedding the chat, to try a widget (make demo prints its address)."""
    widget = ChatWidget.objects.filter(slug=slug, active=True).first()
    if widget is None:
        return JsonResponse({"detail": f"No active chat '{slug}'."}, status=404)
    return render(request, "integrations/chat_demo.html", {"widget": widget})
