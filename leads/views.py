"""The public form endpoint and the portal's lead screens. Thin: validation here, work in services."""

import json
import logging
import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from config.exceptions import ConflictError
from integrations.llm.base import INTENTS, NOISE_INTENTS
from leads.api import CaptureInputSerializer, capture_answer
from leads.choices import Channel, Stage
from leads.models import WebForm
from leads.permissions import is_manager
from leads.selectors import lead_list, lead_timeline
from leads.services import lead_call_log, lead_capture
from routing.services import lead_relabel
from routing.sla import lead_touch

logger = logging.getLogger(__name__)

HONEYPOT_FIELD = "website"
FORM_FIELDS = ("name", "email", "phone", "company", "message", "postal_code", "country")


def _rate_limited(request: HttpRequest, slug: str) -> bool:
    # Fixed one-minute windows per client address, counted in the cache every web process shares.
    window = int(time.time() // 60)
    key = f"capture-form:{slug}:{request.META.get('REMOTE_ADDR', '')}:{window}"
    cache.add(key, 0, timeout=70)
    return cache.incr(key) > settings.FORM_RATE_LIMIT_PER_MINUTE


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
    if _rate_limited(request, slug):
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


@login_required
@require_GET
def lead_index(request: HttpRequest) -> HttpResponse:
    queryset = lead_list(user=request.user)
    stage = request.GET.get("stage", "")
    if stage in Stage.values:
        queryset = queryset.filter(stage=stage)
    elif stage == "noise":
        # Spam, job seekers, vendors and opt-outs never reach a queue; this is where they can be seen.
        queryset = queryset.filter(qualification__intent__in=sorted(NOISE_INTENTS))
    search = request.GET.get("q", "").strip()
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(email__icontains=search) | Q(phone__icontains=search))
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "leads/index.html",
        {
            "page": page,
            "stages": [*Stage.choices, ("noise", "Noise: spam, job seekers, vendors, opt-outs")],
            "stage": stage,
            "q": search,
            "is_manager": is_manager(request.user),
        },
    )


def _lead_for(request: HttpRequest, lead_id: int):
    lead = lead_list(user=request.user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("Lead not found.")
    return lead


def _lead_page(request: HttpRequest, lead, *, errors=None, status=200) -> HttpResponse:
    context = {
        "lead": lead,
        "timeline": lead_timeline(lead=lead),
        "can_accept": lead.owner_id == request.user.pk and lead.first_touch_at is None,
        "intents": INTENTS,
        "errors": errors or {},
    }
    return render(request, "leads/detail.html", context, status=status)


@login_required
@require_GET
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _lead_page(request, _lead_for(request, lead_id))


@login_required
@require_POST
def lead_accept(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The owner takes the lead on: their first touch, which stops the SLA clock."""
    lead = _lead_for(request, lead_id)
    if lead.owner_id != request.user.pk:
        return _lead_page(request, lead, errors={"accept": ["Only the lead's owner can accept it."]}, status=403)
    lead_touch(lead=lead, how="accepted in the portal", actor=request.user)
    return HttpResponseRedirect(reverse("portal:lead-detail", args=[lead.pk]))


@login_required
@require_POST
def lead_call(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead_for(request, lead_id)
    try:
        lead_call_log(lead=lead, user=request.user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        return _lead_page(request, lead, errors=exc.message_dict, status=422)
    return HttpResponseRedirect(reverse("portal:lead-detail", args=[lead.pk]))


@login_required
@require_POST
def lead_relabel_view(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Correct the lead's intent; the correction teaches the embedding classifier."""
    # Reps see only their own leads, managers all: whoever can see the lead may correct it.
    lead = _lead_for(request, lead_id)
    try:
        lead_relabel(lead_id=lead.pk, intent=request.POST.get("intent", ""), user=request.user)
    except ValidationError as exc:
        return _lead_page(request, lead, errors=exc.message_dict, status=422)
    return HttpResponseRedirect(reverse("portal:lead-detail", args=[lead.pk]))
