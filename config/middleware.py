from django.conf import settings
from django.http import JsonResponse


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
