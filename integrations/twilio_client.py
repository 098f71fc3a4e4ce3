"""The Twilio REST client, built once from settings.

``TWILIO_API_URL`` sends every request to another host (a local fake Twilio, or a recording
proxy) while auth, form encoding and response parsing stay the SDK's own.
"""

from functools import cache
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


class RedirectingHttpClient(TwilioHttpClient):
    """Swaps only the scheme and host of each request for ``base_url``'s."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self._target = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self._target.scheme, self._target.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


@cache
def _client(sid: str, token: str, api_url: str, timeout: float) -> Client:
    http_client = RedirectingHttpClient(api_url, timeout=timeout) if api_url else TwilioHttpClient(timeout=timeout)
    return Client(sid, token, http_client=http_client)


def twilio_client() -> Client:
    """A Client for the configured account; raises ImproperlyConfigured without credentials."""
    from django.core.exceptions import ImproperlyConfigured

    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        raise ImproperlyConfigured("Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to use Twilio.")
    return _client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_URL, 10.0)
