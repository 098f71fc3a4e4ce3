import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


class BodySizeLimitMiddleware:
    """Refuse oversized request bodies before anything reads or stores them.

    Django's own limit raises deep inside body parsing (and DRF turns it into a vague error);
    checking the declared length up front gives integrations a 400 that names the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_BODY_BYTES:
            return JsonResponse(
                {"body": [f"Request body is {length} bytes; the limit is {settings.MAX_BODY_BYTES} bytes."]},
                status=400,
            )
        return self.get_response(request)


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
