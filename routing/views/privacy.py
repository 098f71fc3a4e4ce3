"""The lead page's privacy screens, for managers: export everything held about the person, or forget them.

On the top floor beside the lead page; thin: the work is leads.services.person_export / person_forget.
Reps get a 404 for a lead they cannot see and a 403 for their own: erasure is a manager's decision.
"""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from leads.models import Lead
from leads.permissions import is_manager
from leads.selectors import lead_list
from leads.services import person_export, person_forget

# What the manager types to confirm: erasure cannot be undone.
CONFIRM_WORD = "forget"


def _lead_for_manager(request: HttpRequest, lead_id: int) -> Lead:
    lead = lead_list(user=request.user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("Lead not found.")
    if not is_manager(request.user):
        raise PermissionDenied("Only managers can export or forget a person.")
    return lead


@login_required
@require_GET
def lead_export(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Everything held about the lead's person (every lead with its phone or email) as a JSON download; logged."""
    lead = _lead_for_manager(request, lead_id)
    export = person_export(lead_id=lead.pk, user=request.user, reason="exported from the lead page")
    response = HttpResponse(json.dumps(export, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="person-lead-{lead.pk}.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def lead_forget(request: HttpRequest, lead_id: int) -> HttpResponse:
    """GET: what forgetting removes and keeps, and a form asking for the word; POST: forget, then the tombstone."""
    lead = _lead_for_manager(request, lead_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()[:300]
        if request.POST.get("confirm", "").strip().lower() != CONFIRM_WORD:
            errors["confirm"] = [f"Type {CONFIRM_WORD!r} to confirm: this cannot be undone."]
        else:
            try:
                person_forget(lead_id=lead.pk, user=request.user, reason=reason)
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                return HttpResponseRedirect(reverse("portal:lead-detail", args=[lead.pk]))
    context = {"lead": lead, "confirm_word": CONFIRM_WORD, "errors": errors, "reason": request.POST.get("reason", "")}
    return render(request, "leads/forget.html", context, status=422 if errors else 200)
