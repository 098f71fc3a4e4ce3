"""The rep's queue and the managers' autonomy page. HTMX posts answer with the row re-rendered, errors in place."""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from approvals import services
from approvals.exceptions import ActionForbidden, ActionNotFound, ActionStateError
from approvals.filters import ActionFilter
from approvals.models import Policy, Reviewer, Workflow
from approvals.selectors import ESCALATIONS, QUEUE_SORTS, action_list, action_queue, autonomy_overview
from approvals.sms import sms_segment_limit
from config.exceptions import validation_text
from integrations.sms_segments import segment
from leads.permissions import REP_GROUP, is_manager

QUEUE_TEMPLATE = "approvals/queue.html"
AUTONOMY_TEMPLATE = "approvals/autonomy.html"
SMS_COUNT_TEMPLATE = "approvals/sms_count.html"
QUEUE_PAGE_SIZE = 50
# Names an SMS editor on the page (ids sms-count-<key>, sms-body-<key>): echoed into the answer.
SMS_KEY = re.compile(r"[\w-]{1,40}", re.ASCII)


def version_posted(request) -> int | None:
    """The action's version the page showed (a stale page answers 409), or None when the form sent none."""
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


def _queue_filters(request, manager: bool) -> dict:
    rep = request.GET.get("rep", "")
    workflow = request.GET.get("workflow", "")
    escalation = request.GET.get("escalation", "")
    sort = request.GET.get("sort", "oldest")
    return {
        "rep_user_id": int(rep) if manager and rep.isdigit() else None,
        "workflow": workflow if workflow in Workflow.values else "",
        "escalation": escalation if escalation in ESCALATIONS else "",
        "sort": sort if sort in QUEUE_SORTS else "oldest",
    }


@login_required
@require_GET
def queue(request) -> HttpResponse:
    """Pending drafts and failed sends, oldest or hottest first; managers see and filter every rep's."""
    manager = is_manager(request.user)
    filters = _queue_filters(request, manager)
    data = request.GET.copy()
    if not manager:
        data.pop("rep", None)  # a rep's queue is their own
    actions = ActionFilter(data, queryset=action_queue(user=request.user, sort=filters["sort"])).qs
    page = Paginator(actions, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "is_manager": manager,
        "filters": filters,
        "query": query.urlencode(),
        "workflows": Workflow.choices,
        "escalations": [(value, label) for value, (label, _) in ESCALATIONS.items()],
        "snooze_choices": services.SNOOZE_CHOICES.items(),
        "sms_limit": sms_segment_limit(),
    }
    if manager:
        context["reps"] = get_user_model().objects.filter(groups__name=REP_GROUP).order_by("username")
    template = QUEUE_TEMPLATE + ("#queue-rows" if request.htmx and request.htmx.target == "queue-rows" else "")
    return render(request, template, context)


def _row(request, action_id: int, *, error: str = "", notice: str = "", editing: bool = False, status: int = 200):
    action = action_list(user=request.user).filter(pk=action_id).select_related("lead__owner", "event").first()
    if action is None:
        raise Http404("Action not found.")
    if not request.htmx:
        return redirect("portal:queue")
    context = {
        "action": action,
        "error": error,
        "notice": notice,
        "editing": editing,
        "is_manager": is_manager(request.user),
        "snooze_choices": services.SNOOZE_CHOICES.items(),
        "sms_limit": sms_segment_limit(),
    }
    return render(request, QUEUE_TEMPLATE + "#action-row", context, status=status)


def decision_response(request, action_id: int, operation, **kwargs) -> HttpResponse:
    """Run one queue operation and answer with the row as it now stands, errors shown in place."""
    try:
        action = operation(action_id=action_id, user=request.user, **kwargs)
    except ActionNotFound as exc:
        raise Http404(exc.message) from exc
    except ActionStateError as exc:
        # Someone else decided first, or the page was stale: show the current state, never overwrite it.
        return _row(request, action_id, error=exc.message, status=409)
    except ActionForbidden as exc:
        return _row(request, action_id, error=exc.message, status=403)
    except ValidationError as exc:
        editing = "body" in exc.message_dict
        return _row(request, action_id, error=validation_text(exc), editing=editing, status=422)
    response = _row(request, action_id)
    trigger_client_event(response, "action-decided", {"id": action.pk, "status": action.status})
    return response


@login_required
@require_POST
def action_approve(request, action_id: int) -> HttpResponse:
    body = request.POST.get("body")
    return decision_response(request, action_id, services.action_approve, body=body, version=version_posted(request))


@login_required
@require_POST
def action_edit(request, action_id: int) -> HttpResponse:
    body = request.POST.get("body", "")
    return decision_response(request, action_id, services.action_edit, body=body, version=version_posted(request))


@login_required
@require_POST
def action_reject(request, action_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return decision_response(request, action_id, services.action_reject, reason=reason, version=version_posted(request))


@login_required
@require_POST
def action_retry(request, action_id: int) -> HttpResponse:
    return decision_response(request, action_id, services.action_retry)


@login_required
@require_POST
def action_snooze(request, action_id: int) -> HttpResponse:
    minutes = request.POST.get("minutes", "")
    minutes = int(minutes) if minutes.isdigit() else 0
    return decision_response(
        request, action_id, services.action_snooze, minutes=minutes, version=version_posted(request)
    )


@login_required
@require_GET
def action_row(request, action_id: int) -> HttpResponse:
    """The row in view or edit mode (the Edit and Cancel buttons swap between them)."""
    return _row(request, action_id, editing=request.GET.get("mode") == "edit")


@login_required
@require_POST
def actions_bulk_approve(request) -> HttpResponse:
    """Approve the selected rows unchanged; answers each row as it now stands, refusals shown on their row."""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    try:
        results = services.action_approve_many(action_ids=ids, user=request.user)
    except ValidationError as exc:
        return render(request, QUEUE_TEMPLATE + "#bulk-result", {"error": validation_text(exc)}, status=422)
    visible = action_list(user=request.user).filter(pk__in=[r.action_id for r in results])
    rows = {a.pk: a for a in visible.select_related("lead__owner", "event")}
    context = {
        "results": [(rows.get(r.action_id), r.error) for r in results if r.action_id in rows],
        "approved": sum(1 for r in results if r.action is not None),
        "refused": sum(1 for r in results if r.action is None),
        "is_manager": is_manager(request.user),
        "snooze_choices": services.SNOOZE_CHOICES.items(),
        "sms_limit": sms_segment_limit(),
    }
    response = render(request, QUEUE_TEMPLATE + "#bulk-result", context)
    trigger_client_event(response, "action-decided", {"bulk": context["approved"]})
    return response


@login_required
@require_POST
def sms_segments(request) -> HttpResponse:
    """The live count under an SMS editor, as the rep types: segments, encoding, what forces UCS-2, look-alikes.

    Posts ``body`` and ``key``: the count answers as ``#sms-count-<key>`` and its look-alike buttons edit
    ``#sms-body-<key>``.
    """
    key = request.POST.get("key", "")
    if not SMS_KEY.fullmatch(key):
        return HttpResponse(
            "key: give the editor's key (letters, digits, - or _).", status=400, content_type="text/plain"
        )
    context = {
        "seg": segment(request.POST.get("body", "").strip()),
        "sms_limit": sms_segment_limit(),
        "key": key,
        "editing": True,
    }
    return render(request, SMS_COUNT_TEMPLATE, context)


def _manager_only(request) -> None:
    if not is_manager(request.user):
        raise PermissionDenied("Only managers can change autonomy.")


def _autonomy(request, *, errors: dict | None = None, status: int = 200) -> HttpResponse:
    context = {
        "rows": autonomy_overview(),
        "modes": Policy.Mode.choices,
        "reviewers": Reviewer.choices,
        "errors": errors or {},
    }
    return render(request, AUTONOMY_TEMPLATE, context, status=status)


@login_required
@require_GET
def autonomy(request) -> HttpResponse:
    """Every workflow's mode, thresholds, gates and graduation evidence (managers)."""
    _manager_only(request)
    return _autonomy(request)


def _autonomy_change(request, workflow: str, change) -> HttpResponse:
    _manager_only(request)
    try:
        change()
    except ValidationError as exc:
        return _autonomy(request, errors={workflow: validation_text(exc)}, status=422)
    return redirect(reverse("portal:autonomy") + f"#workflow-{workflow}")


@login_required
@require_POST
def policy_change(request, workflow: str) -> HttpResponse:
    fields = ("mode", "min_confidence", "graduation_bar", "graduation_window")
    changes = {name: request.POST[name] for name in fields if name in request.POST}
    return _autonomy_change(
        request, workflow, lambda: services.policy_update(workflow=workflow, user=request.user, **changes)
    )


@login_required
@require_POST
def policy_graduate(request, workflow: str) -> HttpResponse:
    return _autonomy_change(request, workflow, lambda: services.policy_graduate(workflow=workflow, user=request.user))


@login_required
@require_POST
def gate_add(request, workflow: str) -> HttpResponse:
    return _autonomy_change(
        request,
        workflow,
        lambda: services.gate_add(
            workflow=workflow,
            user=request.user,
            name=request.POST.get("name", ""),
            conditions_text=request.POST.get("conditions", ""),
            reviewer=request.POST.get("reviewer", Reviewer.MANAGER),
        ),
    )


@login_required
@require_POST
def gate_remove(request, workflow: str, gate_id: int) -> HttpResponse:
    return _autonomy_change(request, workflow, lambda: services.gate_remove(gate_id=gate_id, user=request.user))
