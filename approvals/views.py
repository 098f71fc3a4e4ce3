"""The rep's queue: approve, edit, reject, retry. HTMX posts answer with the row re-rendered."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from approvals import services
from approvals.exceptions import ActionNotFound, ActionStateError
from approvals.selectors import action_list, action_queue
from leads.permissions import REP_GROUP, is_manager

QUEUE_TEMPLATE = "approvals/queue.html"


@login_required
@require_GET
def queue(request) -> HttpResponse:
    manager = is_manager(request.user)
    rep_filter = request.GET.get("rep", "")
    rep_user_id = int(rep_filter) if manager and rep_filter.isdigit() else None
    actions = action_queue(user=request.user, rep_user_id=rep_user_id)
    page = Paginator(actions, 50).get_page(request.GET.get("page"))
    context = {"page": page, "is_manager": manager, "rep_filter": rep_user_id}
    if manager:
        context["reps"] = get_user_model().objects.filter(groups__name=REP_GROUP).order_by("username")
    template = QUEUE_TEMPLATE + ("#queue-rows" if request.htmx and request.htmx.target == "queue-rows" else "")
    return render(request, template, context)


def _row(request, action_id: int, *, error: str = "", editing: bool = False, status: int = 200) -> HttpResponse:
    action = action_list(user=request.user).filter(pk=action_id).select_related("lead__owner", "event").first()
    if action is None:
        raise Http404("Action not found.")
    if not request.htmx:
        return redirect("portal:queue")
    context = {"action": action, "error": error, "editing": editing}
    return render(request, QUEUE_TEMPLATE + "#action-row", context, status=status)


def _decide(request, action_id: int, operation, **kwargs) -> HttpResponse:
    """Run one queue operation and answer with the row as it now stands, errors shown in place."""
    try:
        action = operation(action_id=action_id, user=request.user, **kwargs)
    except ActionNotFound as exc:
        raise Http404(exc.message) from exc
    except ActionStateError as exc:
        # Someone else decided first (or a double click): show the current state, never overwrite it.
        return _row(request, action_id, error=exc.message, status=409)
    except ValidationError as exc:
        message = " ".join(m for messages in exc.message_dict.values() for m in messages)
        return _row(request, action_id, error=message, editing="body" in exc.message_dict, status=422)
    response = _row(request, action_id)
    trigger_client_event(response, "action-decided", {"id": action.pk, "status": action.status})
    return response


@login_required
@require_POST
def action_approve(request, action_id: int) -> HttpResponse:
    body = request.POST.get("body")
    return _decide(request, action_id, services.action_approve, body=body)


@login_required
@require_POST
def action_edit(request, action_id: int) -> HttpResponse:
    return _decide(request, action_id, services.action_edit, body=request.POST.get("body", ""))


@login_required
@require_POST
def action_reject(request, action_id: int) -> HttpResponse:
    return _decide(request, action_id, services.action_reject, reason=request.POST.get("reason", ""))


@login_required
@require_POST
def action_retry(request, action_id: int) -> HttpResponse:
    return _decide(request, action_id, services.action_retry)


@login_required
@require_GET
def action_row(request, action_id: int) -> HttpResponse:
    """The row in view or edit mode (the Edit and Cancel buttons swap between them)."""
    return _row(request, action_id, editing=request.GET.get("mode") == "edit")
