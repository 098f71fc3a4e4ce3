"""Checking and making webhook signatures: Twilio's, Facebook's X-Hub-Signature-256, shared secrets, ours.

Every comparison is constant-time; a request that fails is refused before anything is stored.
"""

import hashlib
import hmac
import logging
import time
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

# A signed outbound delivery older than this is a replay; receivers should refuse it.
SIGNATURE_TOLERANCE_SECONDS = 300


def public_url(request: HttpRequest) -> str:
    """The URL the provider called, as it saw it: behind a proxy the host and scheme come from PUBLIC_BASE_URL."""
    return settings.PUBLIC_BASE_URL + request.get_full_path()


def twilio_valid(request: HttpRequest) -> bool:
    """Whether ``X-Twilio-Signature`` matches the form body, signed with the account's auth token."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(public_url(request), request.POST, signature)


def twilio_signed(view):
    """Refuse (403, nothing stored) a Twilio callback whose signature does not check out."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs):
        if not twilio_valid(request):
            reason = "no auth token configured" if not settings.TWILIO_AUTH_TOKEN else "bad or missing signature"
            logger.warning("twilio.refused", extra={"path": request.path, "reason": reason})
            return HttpResponse(f"Refused: {reason}.", status=403, content_type="text/plain")
        return view(request, *args, **kwargs)

    return checked


def hmac_sha256(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def hub_signature_valid(secret: str, body: bytes, header: str) -> bool:
    """Facebook's ``X-Hub-Signature-256: sha256=<hex HMAC of the raw body with the app secret>``."""
    if not secret or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header.removeprefix("sha256="), hmac_sha256(secret, body))


def secret_equal(expected: str, given: str) -> bool:
    """A shared secret (Google's google_key, an inbound-parse token) given back to us, compared in constant time."""
    return bool(expected) and hmac.compare_digest(expected.encode(), (given or "").encode())


def outbound_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Our own webhooks' signature: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``."""
    return f"t={timestamp},v1={hmac_sha256(secret, f'{timestamp}.'.encode() + body)}"


def outbound_signature_valid(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """How a receiver checks our signature (used by the tests' receiving server, and documented in the README)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(outbound_signature(secret, timestamp, body), header)
