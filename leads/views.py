"""The public form endpoint: a website's form post becomes a capture. Thin: validation here, work in services."""

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.exceptions import ConflictError
from config.ratelimit import rate_limited
from leads.api import CaptureInputSerializer, capture_answer
from leads.choices import Channel
from leads.models import WebForm
from leads.services import (
    lead_capture,
)

logger = logging.getLogger(__name__)

HONEYPOT_FIELD = "website"
FORM_FIELDS = ("name", "email", "phone", "company", "message", "postal_code", "country")


def _form_data(request: HttpRequest) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError({"body": f"Malformed JSON: {exc}"}) from exc
        if not isinstance(data, dict):
            raise ValidationError({"body": "Send a JSON object."})
        return data
    return request.POST.dict()


def _thank_you(webform: WebForm, wants_json: bool, answer: dict) -> HttpResponse:
    if webform.thank_you_url and not wants_json:
        return HttpResponseRedirect(webform.thank_you_url, status=303)
    return JsonResponse(answer, status=202)


def _refused(request: HttpRequest, webform: WebForm, wants_json: bool, errors: dict) -> HttpResponse:
    if wants_json:
        return JsonResponse(errors, status=400)
    return render(request, "leads/form_error.html", {"errors": errors, "webform": webform}, status=400)


@csrf_exempt  # Posted cross-site by customers' websites, which hold no CSRF token; nothing here acts as a user.
@require_POST
def capture_form(request: HttpRequest, slug: str) -> HttpResponse:
    """Accept a website form post (form-encoded or JSON) as a lead; browsers go to the thank-you page."""
    webform = WebForm.objects.filter(slug=slug, active=True).first()
    if webform is None:
        return JsonResponse({"detail": f"No active form '{slug}'."}, status=404)
    if rate_limited(request, f"capture-form:{slug}", settings.FORM_RATE_LIMIT_PER_MINUTE):
        return JsonResponse({"detail": "Too many submissions from this address; try again in a minute."}, status=429)
    wants_json = request.content_type == "application/json"
    try:
        data = _form_data(request)
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    if str(data.get(HONEYPOT_FIELD, "")).strip():
        # Bots fill every field; answer as if it worked so they learn nothing, and store nothing.
        logger.info("capture.honeypot", extra={"form": slug})
        return _thank_you(webform, wants_json, {"detail": "Thank you."})
    serializer = CaptureInputSerializer(
        data={
            "channel": Channel.FORM,
            "source": webform.source,
            "external_id": data.get("submission_id") or None,
            "payload": data,
            **{f: str(data.get(f, "")) for f in FORM_FIELDS},
        }
    )
    if not serializer.is_valid():
        return _refused(request, webform, wants_json, serializer.errors)
    try:
        result = lead_capture(event=serializer.to_capture_event())
    except ValidationError as exc:
        return _refused(request, webform, wants_json, exc.message_dict)
    except ConflictError as exc:
        return JsonResponse({"detail": exc.message}, status=409)
    return _thank_you(webform, wants_json, capture_answer(result))
