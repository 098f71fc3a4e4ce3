import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from config.views import error_answer

logger = logging.getLogger(__name__)


def body_limit(max_bytes_setting: str):
    """Let a view take bodies up to the named setting's size instead of MAX_BODY_BYTES (a form post with files)."""

    def decorate(view):
        view.max_body_setting = max_bytes_setting
        return view

    return decorate


class BodySizeLimitMiddleware:
    """Refuse oversized request bodies before anything reads or stores them.

    Django's own limit raises deep inside body parsing (and DRF turns it into a vague error); checking the
    declared length up front gives a 413 that names the body: JSON for a JSON client, a page for a browser.
    It runs before the view (process_view) so a view may declare a larger limit with ``body_limit``; nothing
    reads a body earlier (CsrfViewMiddleware's check comes after this one).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = getattr(settings, getattr(view_func, "max_body_setting", "MAX_BODY_BYTES"))
        if length <= limit:
            return None
        return error_answer(
            request,
            413,
            {"body": [f"Request body is {length} bytes; the limit is {limit} bytes."]},
            title="Too much was sent",
            back="Go back, shorten the message or leave out attachments, and send it again.",
        )


class DatabaseUnavailableMiddleware:
    """While the database cannot be reached, answer 503 with a plain reason and Retry-After, never a stack trace.

    Nothing was stored, so a client (a form, a provider's webhook) that retries loses nothing:
    capture is idempotent on its key or the provider's id.
    """

    RETRY_SECONDS = 10

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database.unavailable", extra={"path": request.path, "error": exception.__class__.__name__})
        detail = "The database is unavailable for a moment; nothing was stored. Try again shortly."
        if request.path.startswith(("/api/", "/integrations/", "/capture/", "/healthz", "/metrics")):
            response = JsonResponse({"detail": detail}, status=503)
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(self.RETRY_SECONDS)
        return response
