"""Channel backends, chosen by settings like Django's email backends: console, locmem (tests), real provider."""

import logging
import sys
import threading
import uuid
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class ChannelError(Exception):
    """A provider refused or failed a send; the message says what the provider said."""


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class BaseSmsBackend:
    def send(self, *, to: str, body: str) -> SendResult:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints each SMS to standard output: the demo's backend."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str) -> SendResult:
        provider_id = f"console-{uuid.uuid4().hex[:12]}"
        self.stream.write(f"--- SMS {provider_id} to {to} ---\n{body}\n---\n")
        self.stream.flush()
        return SendResult(provider_id=provider_id)


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps sent SMS in ``LocmemSmsBackend.outbox`` for tests, like Django's locmem email backend."""

    outbox: list[dict] = []
    _lock = threading.Lock()

    def send(self, *, to: str, body: str) -> SendResult:
        with self._lock:
            provider_id = f"locmem-{len(self.outbox) + 1}"
            self.outbox.append({"to": to, "body": body, "provider_id": provider_id})
        return SendResult(provider_id=provider_id)


@cache
def _sms_backend_class(path: str) -> type[BaseSmsBackend]:
    return import_string(path)


def get_sms_backend() -> BaseSmsBackend:
    return _sms_backend_class(settings.SMS_BACKEND)()


def send_sms(*, to: str, body: str) -> SendResult:
    """Send one SMS through the configured backend."""
    return get_sms_backend().send(to=to, body=body)


def send_email(*, to: str, subject: str, body: str) -> SendResult:
    """Send one email through Django's configured email backend; the Message-ID is the provider id."""
    message_id = make_msgid(domain="nightshift")
    email = EmailMessage(
        subject=subject or settings.BUSINESS_NAME, body=body, to=[to], headers={"Message-ID": message_id}
    )
    try:
        email.send(fail_silently=False)
    except OSError as exc:  # smtplib errors are OSError subclasses
        raise ChannelError(f"email to {to} failed: {exc}") from exc
    return SendResult(provider_id=message_id)
