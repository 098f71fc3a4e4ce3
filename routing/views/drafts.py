"""The queue's Regenerate button: a new draft of a pending message (the drafting is routing's)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from approvals.views import decision_response, version_posted
from routing.regenerate import action_regenerate


@login_required
@require_POST
def action_regenerate_view(request: HttpRequest, action_id: int) -> HttpResponse:
    instruction = request.POST.get("instruction", "")
    return decision_response(
        request, action_id, action_regenerate, instruction=instruction, version=version_posted(request)
    )
