"""The portal's cadence screens: a lead's enrollments (enroll, pause, resume, skip, stop) and the managers' report."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from config.exceptions import ApplicationError, validation_text
from leads.permissions import is_manager
from leads.selectors import lead_list
from routing import cadences
from routing.models import Enrollment
from routing.selectors import cadence_report, cadences_enrollable, lead_enrollments

ENROLLMENTS_TEMPLATE = "routing/enrollments.html"
REPORT_PERIODS = {7: "7 days", 30: "30 days", 90: "90 days", 365: "a year"}
CHANGES = {
    "pause": cadences.enrollment_pause,
    "resume": cadences.enrollment_resume,
    "skip": cadences.enrollment_skip,
    "stop": cadences.enrollment_stop,
}


def enrollments_context(lead, *, error: str = "") -> dict:
    """What the lead page's cadence panel shows (also rendered alone for HTMX)."""
    return {"lead": lead, "enrollments": lead_enrollments(lead=lead), "cadences": cadences_enrollable(), "error": error}


def _panel(request: HttpRequest, lead_id: int, *, error: str = "", status: int = 200) -> HttpResponse:
    lead = lead_list(user=request.user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("Lead not found.")
    if not request.htmx:
        # Without JavaScript the form posted a whole page: show the lead again (errors are on the timeline).
        return HttpResponseRedirect(reverse("portal:lead-detail", args=[lead_id]))
    return render(request, ENROLLMENTS_TEMPLATE, enrollments_context(lead, error=error), status=status)


@login_required
@require_POST
def enrollment_add(request: HttpRequest, lead_id: int) -> HttpResponse:
    cadence_id = request.POST.get("cadence", "")
    try:
        if not cadence_id.isdigit():
            raise ValidationError({"cadence": "Choose a cadence."})
        cadences.enrollment_start(lead_id=lead_id, cadence_id=int(cadence_id), user=request.user)
    except ValidationError as exc:
        return _panel(request, lead_id, error=validation_text(exc), status=422)
    except ApplicationError as exc:
        return _panel(request, lead_id, error=exc.message, status=exc.status_code)
    return _panel(request, lead_id)


@login_required
@require_POST
def enrollment_change(request: HttpRequest, enrollment_id: int, change: str) -> HttpResponse:
    operation = CHANGES.get(change)
    lead_id = Enrollment.objects.filter(pk=enrollment_id).values_list("lead_id", flat=True).first()
    if operation is None or lead_id is None:
        raise Http404("No such enrollment.")
    extra = {"reason": request.POST.get("reason", "")} if change == "stop" else {}
    try:
        operation(enrollment_id=enrollment_id, user=request.user, **extra)
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise Http404(exc.message) from None
        return _panel(request, lead_id, error=exc.message, status=exc.status_code)
    return _panel(request, lead_id)


@login_required
@require_GET
def cadences_report(request: HttpRequest) -> HttpResponse:
    """Managers: per cadence, who went in, how they came out (a reply is the point), and each step's reply rate."""
    if not is_manager(request.user):
        raise PermissionDenied("Managers only.")
    days = request.GET.get("days", "90")
    days = int(days) if days.isdigit() and int(days) in REPORT_PERIODS else 90
    until = timezone.now()
    context = {
        "report": cadence_report(since=until - timedelta(days=days), until=until),
        "days": days,
        "periods": REPORT_PERIODS.items(),
    }
    return render(request, "routing/cadences.html", context)
