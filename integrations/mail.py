"""Inbound email: from an inbound-parse webhook or an IMAP mailbox to a capture, threaded to its lead.

Both doors store the raw RFC 822 message (one InboundWebhook per Message-ID) and leave the
parsing to the task. A reply is matched to its lead by In-Reply-To/References against the
Message-IDs of what we sent, so it reaches the right conversation even from another address.
"""

import email
import email.policy
import hashlib
import imaplib
import logging
import re
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from integrations.inbound import Ignored, parser_register, webhook_receive
from integrations.models import InboundWebhook
from leads.choices import Channel
from leads.models import Message
from leads.services import CaptureEvent

logger = logging.getLogger(__name__)

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Where a reply's quoted history starts: "On Mon, … wrote:" or a line of ">" quotes.
QUOTE_START = re.compile(r"^(On .+wrote:|-----Original Message-----|>)", re.MULTILINE)


def raw_store(raw: bytes) -> tuple[InboundWebhook, bool]:
    """Store one raw message, keyed by its Message-ID (else by its hash); a second copy is not stored again."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    key = (parsed.get("Message-ID") or "").strip() or "sha256:" + hashlib.sha256(raw).hexdigest()
    return webhook_receive(
        kind=InboundWebhook.Kind.EMAIL,
        source="email",
        external_id=key[:200],
        payload={"raw": raw.decode(errors="replace")},
    )


def parse_form_message(form) -> bytes:
    """An inbound-parse POST as raw MIME: the ``email`` field when the provider sends the raw message
    (SendGrid "POST the raw, full MIME message"), else rebuilt from from/to/subject/text/headers fields."""
    if form.get("email"):
        return form["email"].encode()
    message = EmailMessage()
    headers = email.message_from_string(form.get("headers", "") + "\n\n", policy=email.policy.default)
    for name in ("Message-ID", "In-Reply-To", "References", "Date"):
        if headers.get(name):
            message[name] = headers[name]
    message["From"] = form.get("from") or form.get("sender", "")
    message["To"] = form.get("to") or form.get("recipient", "")
    message["Subject"] = form.get("subject", "")
    message.set_content(form.get("text") or form.get("body-plain", ""))
    return message.as_bytes()


def _plain_text(parsed) -> str:
    part = parsed.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    match = QUOTE_START.search(text)
    return (text[: match.start()] if match else text).strip()


def _thread_lead(parsed):
    refs = MESSAGE_ID.findall(f"{parsed.get('In-Reply-To', '')} {parsed.get('References', '')}")
    if not refs:
        return None
    sent = Message.objects.filter(direction=Message.Direction.OUTBOUND, message_id__in=refs).select_related("lead")
    found = sent.order_by("-created_at").first()
    return found.lead if found else None


@parser_register(InboundWebhook.Kind.EMAIL)
def email_event(row: InboundWebhook) -> CaptureEvent:
    """The stored message as a capture: the sender, the subject and the new text (quoted history cut)."""
    parsed = email.message_from_string(row.payload["raw"], policy=email.policy.default)
    name, address = parseaddr(str(parsed.get("From", "")))
    if not address:
        raise ValueError("the message has no From address")
    if (parsed.get("Auto-Submitted", "no").lower() != "no") or parsed.get("X-Autoreply"):
        raise Ignored(f"An automatic reply from {address}: not a lead message.")
    lead = _thread_lead(parsed)
    subject = str(parsed.get("Subject", "")).strip()
    body = _plain_text(parsed)
    contact = {"email": address}
    if lead is not None and lead.email.lower() != address.lower():
        # A reply to our thread from another address (a colleague, a work account) belongs to that lead.
        contact = {"email": lead.email, "phone": lead.phone} if lead.email else {"phone": lead.phone}
    return CaptureEvent(
        channel=Channel.EMAIL,
        source="email",
        external_id=row.external_id,
        name=name,
        message="\n\n".join(p for p in (subject, body) if p),
        payload={
            "from": address,
            "to": [a for _, a in getaddresses(parsed.get_all("To", []))],
            "subject": subject,
            "message_id": row.external_id,
            "in_reply_to": str(parsed.get("In-Reply-To", "")),
            "threaded_to_lead": lead.pk if lead else None,
        },
        **contact,
    )


def mailbox_poll(url: str | None = None, *, limit: int = 200) -> tuple[int, int]:
    """Store every unseen message in the IMAP mailbox at ``url`` (imap[s]://user:password@host[:port]/folder)
    and mark it seen once stored; returns (stored, already stored). Messages are marked only after the
    commit, so a crash leaves them unseen and the next poll stores them (the Message-ID key stops doubles)."""
    url = url or settings.IMAP_URL
    if not url:
        raise ImproperlyConfigured("Set IMAP_URL (imaps://user:password@host/INBOX) to poll a mailbox.")
    parts = urlsplit(url)
    client_class = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    default_port = 993 if parts.scheme == "imaps" else 143
    stored = seen = 0
    with client_class(parts.hostname, parts.port or default_port, timeout=settings.WEBHOOK_TIMEOUT * 6) as imap:
        imap.login(unquote(parts.username or ""), unquote(parts.password or ""))
        imap.select(unquote(parts.path.lstrip("/")) or "INBOX")
        _, data = imap.uid("SEARCH", None, "UNSEEN")
        for uid in data[0].split()[:limit]:
            _, fetched = imap.uid("FETCH", uid, "(RFC822)")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if raw is None:
                continue
            _, created = raw_store(raw)
            stored, seen = stored + created, seen + (not created)
            imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    logger.info("mailbox.polled", extra={"stored": stored, "already": seen})
    return stored, seen
