"""The public form endpoint: a website's form post becomes a capture. Thin: validation here, work in services."""

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from config.exceptions import ConflictError
from config.ratelimit import client_address, rate_limited
from leads.api import CaptureInputSerializer, capture_answer
from leads.choices import Channel
from leads.models import ConsentRecord, Lead, WebForm
from leads.services import Evidence, consent_opt_out, lead_capture
from leads.unsubscribe import unsubscribe_read

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


CHECKED = frozenset({"on", "yes", "true", "1", "checked", "agree", "agreed"})


def _consent_given(request: HttpRequest, data: dict) -> dict | None:
    """The consent checkbox a site's form posted (``consent``), with the disclosure it showed (``consent_text``,
    ``consent_version``) and the page (``page_url``, else the Referer); None when the box was not checked."""
    if str(data.get("consent", "")).strip().lower() not in CHECKED:
        return None
    page = str(data.get("page_url") or request.headers.get("Referer", ""))
    return {
        "channel": str(data.get("consent_channel") or "sms"),
        "text": str(data.get("consent_text", "")).strip() or "(the form sent no disclosure text)",
        "version": str(data.get("consent_version", ""))[:100],
        "page_url": page if page.startswith(("http://", "https://")) else "",
    }


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
            "consent": _consent_given(request, data),
            **{f: str(data.get(f, "")) for f in FORM_FIELDS},
        }
    )
    if not serializer.is_valid():
        return _refused(request, webform, wants_json, serializer.errors)
    event = serializer.to_capture_event(
        how="form", ip=client_address(request) or None, user_agent=request.headers.get("User-Agent", "")
    )
    try:
        result = lead_capture(event=event)
    except ValidationError as exc:
        return _refused(request, webform, wants_json, exc.message_dict)
    except ConflictError as exc:
        return JsonResponse({"detail": exc.message}, status=409)
    return _thank_you(webform, wants_json, capture_answer(result))


@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" with no cookie; the signed link is the check.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """An email's unsubscribe link: a POST (one-click, or the page's button) opts the address out of email;
    a GET only shows the page, since link scanners follow links and must not unsubscribe anyone."""
    found = unsubscribe_read(token)
    context = {"business_name": settings.BUSINESS_NAME, "email": found[1] if found else ""}
    if found is None:
        return render(request, "leads/unsubscribe.html", {**context, "invalid": True}, status=404)
    if request.method == "GET":
        return render(request, "leads/unsubscribe.html", context)
    lead_id, email = found
    consent_opt_out(
        channel=ConsentRecord.Channel.EMAIL,
        how=ConsentRecord.How.UNSUBSCRIBE_LINK,
        email=email,
        lead=Lead.objects.filter(pk=lead_id).first(),
        evidence=Evidence(
            words=request.POST.get("List-Unsubscribe", "") or "unsubscribe page",
            ip=client_address(request),
            user_agent=request.headers.get("User-Agent", ""),
            page_url=request.build_absolute_uri(),
            actor_label="unsubscribe link",
        ),
    )
    return render(request, "leads/unsubscribe.html", {**context, "done": True})
