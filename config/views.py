"""Error pages: the API and every JSON client answered in JSON, browsers and the portal in HTML."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.defaults import page_not_found

JSON = "application/json"
HTML = "text/html"


def wants_json(request: HttpRequest) -> bool:
    """A JSON client: it sent a JSON body, or it asks for JSON by name (Accept) at least as much as for HTML.

    A browser's form post lists text/html first and JSON only under ``*/*;q=0.8``; ``*/*`` alone or no Accept
    names no preference, and such a post is answered as a browser's: its form came from a page.
    """
    if request.content_type == JSON or request.content_type.endswith("+json"):
        return True
    return "json" in request.headers.get("Accept", "") and request.get_preferred_type([JSON, HTML]) == JSON


def error_answer(
    request: HttpRequest, status: int, errors: dict, *, title: str, detail: str = "", back: str = ""
) -> HttpResponse:
    """``errors`` (field -> messages, or {"detail": text}) as JSON for a JSON client or the API, else as a small
    HTML page."""
    if wants_json(request) or request.path.startswith("/api/"):
        return JsonResponse(errors, status=status)
    if "detail" in errors and not detail:
        detail, errors = str(errors["detail"]), {k: v for k, v in errors.items() if k != "detail"}
    context = {"title": title, "detail": detail, "errors": errors, "back": back}
    return render(request, "error.html", context, status=status)


def not_found(request, exception=None):
    """404 for a URL nothing answers: JSON under /api/ (integrations parse it), the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a JSON client is told in JSON why its post was refused; a browser gets Django's page."""
    if wants_json(request):
        return JsonResponse({"detail": f"CSRF check failed: {reason}"}, status=403)
    return django_csrf_failure(request, reason=reason)
