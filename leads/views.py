"""The public form endpoint: a website's form post becomes a capture. Thin: validation here, work in services.

Browsers get pages (the thank-you page, or what to correct); JSON clients get JSON, errors included.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from config.exceptions import ConflictError
from config.middleware import body_limit
from config.ratelimit import client_address, rate_count, retry_after
from config.views import error_answer, wants_json
from leads.api import CaptureInputSerializer, capture_answer
from leads.choices import SUSPECTED_SPAM, Channel
from leads.form_fields import FormLead, field_key, form_lead
from leads.form_post import FormPostError, form_post_read
from leads.models import ConsentRecord, Lead, WebForm
from leads.services import Evidence, consent_opt_out, lead_capture
from leads.unsubscribe import unsubscribe_read

logger = logging.getLogger(__name__)

CHECKED = frozenset({"on", "yes", "true", "1", "checked", "agree", "agreed"})
FIX_IT = "Go back with your browser, correct it and send the form again."


def _thank_you(request: HttpRequest, webform: WebForm, answer: dict) -> HttpResponse:
    """JSON for a JSON client; a browser goes to the thank-you URL, else gets a thank-you page; a client that named
    neither (a server relaying its site's form) is redirected too, or answered in JSON."""
    if wants_json(request):
        return JsonResponse(answer, status=202)
    if webform.thank_you_url:
        return HttpResponseRedirect(webform.thank_you_url, status=303)
    if "text/html" in request.headers.get("Accept", ""):
        return render(request, "leads/form_thanks.html", {"business_name": settings.BUSINESS_NAME}, status=202)
    return JsonResponse(answer, status=202)


def _refused(request: HttpRequest, errors: dict, status: int = 400) -> HttpResponse:
    return error_answer(request, status, errors, title="Please check the form", back=FIX_IT)


def _too_many(request: HttpRequest, *, kept: bool) -> HttpResponse:
    """429 with Retry-After; a browser's post kept anyway is told so, since its person will not send it again."""
    if kept:
        detail = (
            "Thank you: we have your request. Many forms came from your network in the last minute, so a person "
            "will look at it before anyone replies."
        )
        response = render(request, "error.html", {"title": "Thank you", "detail": detail}, status=429)
    else:
        detail = "Too many submissions from this address; try again in a minute."
        response = error_answer(request, 429, {"detail": detail}, title="Please wait a minute", back=detail)
    response["Retry-After"] = retry_after()
    return response


def _consent_given(request: HttpRequest, hidden: dict) -> dict | None:
    """The consent checkbox a site's form posted (``consent``), with the disclosure it showed (``consent_text``,
    ``consent_version``) and the page (``page_url``, else the Referer); None when the box was not checked."""
    if str(hidden.get("consent", "")).strip().lower() not in CHECKED:
        return None
    page = str(hidden.get("page_url") or request.headers.get("Referer", ""))
    return {
        "channel": str(hidden.get("consent_channel") or "sms"),
        "text": str(hidden.get("consent_text", "")).strip() or "(the form sent no disclosure text)",
        "version": str(hidden.get("consent_version", ""))[:100],
        "page_url": page if page.startswith(("http://", "https://")) else "",
    }


def _suspicion(webform: WebForm, lead: FormLead, over_limit: int) -> dict | None:
    """Why a post is suspected spam: its honeypot was filled (people never see the field), or it came past the
    visitor's per-minute limit. Either way it is kept and never answered; a person can take it out of Noise."""
    trap = field_key(webform.honeypot_field) if webform.honeypot_field else ""
    if trap and str(lead.hidden.get(trap, "")).strip():
        return {"reason": "honeypot", "field": webform.honeypot_field}
    if over_limit > 0:
        return {"reason": "rate_limit", "limit_per_minute": settings.FORM_RATE_LIMIT_PER_MINUTE}
    return None


@csrf_exempt  # Posted cross-site by customers' websites, which hold no CSRF token; nothing here acts as a user.
@body_limit("FORM_MAX_BODY_BYTES")  # a photo attached to the form must not cost the lead; files are only named
def capture_form(request: HttpRequest, slug: str) -> HttpResponse:
    """Accept a website form post (urlencoded, multipart, text/plain or JSON, any charset) as a lead.

    Answers 202 (JSON, or the thank-you page), 303 to the form's thank-you URL for a browser, 400 naming each
    field to correct, 404, 405, 413, 415 and 429 (with Retry-After). Past the per-visitor limit a browser's post
    is still kept, as suspected spam (never answered), up to FORM_RATE_LIMIT_KEEP_PER_MINUTE more a minute.
    """
    if request.method != "POST":
        response = error_answer(request, 405, {"detail": "This address takes form posts only."}, title="Not here")
        response["Allow"] = "POST"
        return response
    webform = WebForm.objects.filter(slug=slug, active=True).first()
    if webform is None:
        return error_answer(request, 404, {"detail": f"No active form '{slug}'."}, title="No such form")
    over_limit = rate_count(request, f"capture-form:{slug}") - settings.FORM_RATE_LIMIT_PER_MINUTE
    if over_limit > 0 and (wants_json(request) or over_limit > settings.FORM_RATE_LIMIT_KEEP_PER_MINUTE):
        return _too_many(request, kept=False)
    try:
        lead = form_lead(form_post_read(request), field_map=webform.field_map, honeypot=webform.honeypot_field)
    except FormPostError as exc:
        return _refused(request, exc.errors, exc.status)
    suspicion = _suspicion(webform, lead, over_limit)
    if suspicion:
        lead.payload[SUSPECTED_SPAM] = suspicion
        logger.info("capture.suspected_spam", extra={"form": slug, "reason": suspicion["reason"]})
    serializer = CaptureInputSerializer(
        data={
            "channel": Channel.FORM,
            "source": webform.source,
            "external_id": lead.hidden.get("submission_id") or None,
            "payload": lead.payload,
            # A box a bot ticked is nobody's consent: it stays in the payload, unrecorded.
            "consent": None if suspicion else _consent_given(request, lead.hidden),
            **lead.fields,
        }
    )
    if not serializer.is_valid():
        return _refused(request, serializer.errors)
    event = serializer.to_capture_event(
        how="form", ip=client_address(request) or None, user_agent=request.headers.get("User-Agent", "")
    )
    try:
        result = lead_capture(event=event)
    except ValidationError as exc:
        return _refused(request, exc.message_dict)
    except ConflictError as exc:
        return error_answer(request, 409, {"detail": exc.message}, title="Already received")
    if over_limit > 0:
        return _too_many(request, kept=True)
    # A honeypot's catch is thanked like anyone: a bot learns nothing from the answer.
    return _thank_you(request, webform, capture_answer(result))


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
