"""Channel backends, chosen by settings like Django's email backends: console, locmem (tests), real provider."""

import logging
import smtplib
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from leads.selectors import contact_suppressed, email_undeliverable, opt_out_confirmable, sms_opted_out

logger = logging.getLogger(__name__)


class ChannelError(Exception):
    """A provider refused or failed a send; the message says what the provider said.

    ``transient`` marks failures where the message surely did not go and a retry may succeed
    (connection refused, 429, 503); anything else fails the action for a person to look at.
    """

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class OptedOut(ChannelError):
    """The number texted STOP: the last guard, whatever path the send came by."""


class Undeliverable(ChannelError):
    """The address bounced for good (Lead.email_undeliverable): the last guard, whatever path the send came by."""


@dataclass(frozen=True)
class SendResult:
    provider_id: str


@dataclass(frozen=True)
class Sent:
    """A message the provider has on record."""

    provider_id: str
    body: str


class BaseSmsBackend:
    def send(self, *, to: str, body: str) -> SendResult:
        raise NotImplementedError

    def sent_since(self, *, to: str, since: datetime) -> list[Sent]:
        """What this sender sent to ``to`` at or after ``since``, newest first: settles a send a dead worker left.

        Raises ChannelError when the provider cannot tell (this default): a person decides then.
        """
        raise ChannelError(f"{type(self).__name__} keeps no record to ask whether a text went out.")


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
            self.outbox.append({"to": to, "body": body, "provider_id": provider_id, "at": timezone.now()})
        return SendResult(provider_id=provider_id)

    def sent_since(self, *, to: str, since: datetime) -> list[Sent]:
        with self._lock:
            found = [m for m in self.outbox if m["to"] == to and m["at"] >= since]
        return [Sent(m["provider_id"], m["body"]) for m in reversed(found)]


class TwilioSmsBackend(BaseSmsBackend):
    """Sends through Twilio's Messages API (Messaging Service when set, else the From number).

    Each message asks for delivery reports at /integrations/twilio/status/ on PUBLIC_BASE_URL.
    """

    def send(self, *, to: str, body: str) -> SendResult:
        from requests.exceptions import ConnectionError as RequestsConnectionError
        from requests.exceptions import ConnectTimeout, ReadTimeout
        from twilio.base.exceptions import TwilioRestException

        from integrations.twilio_client import twilio_client

        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        callback = settings.PUBLIC_BASE_URL + reverse("twilio-status")
        try:
            message = twilio_client().messages.create(to=to, body=body, status_callback=callback, **sender)
        except TwilioRestException as exc:
            raise ChannelError(
                f"Twilio {exc.status} error {exc.code}: {exc.msg}", transient=exc.status in (429, 503)
            ) from exc
        except ReadTimeout as exc:
            # Twilio may have queued it: resending could text twice, so a person decides.
            raise ChannelError(f"Twilio did not answer in time; check before retrying: {exc}") from exc
        except (ConnectTimeout, RequestsConnectionError) as exc:
            raise ChannelError(f"Could not reach Twilio: {exc}", transient=True) from exc
        return SendResult(provider_id=message.sid)

    def sent_since(self, *, to: str, since: datetime) -> list[Sent]:
        from requests.exceptions import RequestException
        from twilio.base.exceptions import TwilioRestException

        from integrations.twilio_client import twilio_client

        # Not filtered by DateSent on Twilio's side: a message still queued there has none yet.
        try:
            found = twilio_client().messages.list(to=to, limit=100)
        except TwilioRestException as exc:
            # Not str(exc): it quotes the request URL, and with it the lead's full number.
            raise ChannelError(f"Could not ask Twilio what it sent: {exc.status} error {exc.code}") from exc
        except RequestException as exc:
            raise ChannelError(f"Could not reach Twilio to ask what it sent: {exc.__class__.__name__}") from exc
        earliest = since - TWILIO_CLOCK_SKEW
        return [Sent(m.sid, m.body) for m in found if m.date_created is None or m.date_created >= earliest]


# Twilio stamps date_created with its own clock; ours may differ by this much.
TWILIO_CLOCK_SKEW = timedelta(minutes=5)


@cache
def _sms_backend_class(path: str) -> type[BaseSmsBackend]:
    return import_string(path)


def get_sms_backend() -> BaseSmsBackend:
    return _sms_backend_class(settings.SMS_BACKEND)()


def send_sms(*, to: str, body: str, confirming: int | None = None) -> SendResult:
    """Send one SMS through the configured backend; a number that opted out is refused here whatever the caller.

    ``confirming`` names the opt-out this text confirms: the one text the FCC allows after a revocation (47 CFR
    64.1200(a)(10)), which goes only while leads.selectors.opt_out_confirmable says so.
    """
    if sms_opted_out(to) and not (confirming and opt_out_confirmable(confirming, to)):
        raise OptedOut(f"{to} opted out of SMS; no text may be sent to it.")
    return get_sms_backend().send(to=to, body=body)


def send_chat(*, message_id: int) -> SendResult:
    """A chat reply needs no provider: the stored message is what the visitor's chat box polls for."""
    return SendResult(provider_id=f"chat-{message_id}")


def send_email(*, to: str, subject: str, body: str, headers: dict | None = None) -> SendResult:
    """Send one email through Django's configured email backend; the Message-ID is the provider id.

    An address that unsubscribed, or that bounced for good, is refused here whatever the caller. ``headers`` adds
    headers (List-Unsubscribe).
    """
    if contact_suppressed("email", to.strip().lower()):
        raise OptedOut(f"{to} unsubscribed; no email may be sent to it.")
    if bounced := email_undeliverable(to):
        raise Undeliverable(f"mail to {to} bounces ({bounced}); no email may be sent to it.")
    message_id = make_msgid(domain="nightshift")
    email = EmailMessage(
        subject=subject or settings.BUSINESS_NAME,
        body=body,
        to=[to],
        headers={**(headers or {}), "Message-ID": message_id},
    )
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPResponseException as exc:
        # 4xx is the server's "try again later"; 5xx is a refusal that will not change.
        raise ChannelError(
            f"email to {to} refused: {exc.smtp_code} {exc.smtp_error!r}", transient=exc.smtp_code < 500
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise ChannelError(f"email to {to} refused: {exc.recipients}") from exc
    except (ConnectionError, smtplib.SMTPConnectError, TimeoutError) as exc:
        raise ChannelError(f"email to {to} failed: could not reach the mail server ({exc})", transient=True) from exc
    except OSError as exc:  # the other smtplib errors are OSError subclasses
        raise ChannelError(f"email to {to} failed: {exc}") from exc
    return SendResult(provider_id=message_id)
