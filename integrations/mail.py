"""Inbound email: from an inbound-parse webhook or an IMAP mailbox to a capture, threaded to its lead.

Both doors store the raw RFC 822 message (one InboundWebhook per Message-ID) and leave the reading to the
task. Mail no person wrote never becomes a lead and is never answered: a bounce (integrations.dsn) fails the
email it returns (integrations.delivery); an automatic reply or list mail (integrations.mailread) is noted on
the lead it answers, else dropped with its reason. A person's mail is read as they wrote it (HTML as text,
quoted history and signature cut) and matched to its lead by In-Reply-To/References against the Message-IDs
of what we sent, so it reaches the right conversation even from another address.
"""

import base64
import email
import email.policy
import hashlib
import imaplib
import json
import logging
import re
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from functools import partial
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.models import Decision
from audit.services import decision_record
from integrations.delivery import email_bounce_record
from integrations.dsn import delivery_report
from integrations.inbound import Ignored, NotALead, parser_register, webhook_receive
from integrations.mailread import Automatic, automatic, body_text
from integrations.models import InboundWebhook
from leads.choices import Channel
from leads.models import Lead, Message
from leads.selectors import lead_get_by_contact
from leads.services import CaptureEvent

logger = logging.getLogger(__name__)

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Inbound-parse fields, the first one present wins: SendGrid's text and html, Mailgun's body-plain and
# body-html, then Mailgun's stripped-* (its own cut of the quote), for a provider set to send only those.
TEXT_FIELDS = ("text", "body-plain", "stripped-text")
HTML_FIELDS = ("html", "body-html", "stripped-html")
# The provider's copy of the original headers is kept whole (threading, the signs of automatic mail and of
# bounces), except what describes the original body, which the rebuilt message replaces.
REBUILT_HEADERS = frozenset(
    {"from", "to", "subject", "content-type", "content-transfer-encoding", "content-disposition", "mime-version"}
)


def raw_store(raw: bytes) -> tuple[InboundWebhook, bool]:
    """Store one raw message, keyed by its Message-ID (else by its hash); a second copy is not stored again.

    The payload's ``raw`` is the message as text; a message that is not UTF-8 (an 8bit ISO-8859-1 body from an
    older server) also keeps its exact bytes in ``raw_base64``, so reading it later loses no character.
    """
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        key = (parsed.get("Message-ID") or "").strip()
    except (HeaderParseError, ValueError, IndexError):  # a header the email package cannot parse ("<")
        key = ""
    key = key or "sha256:" + hashlib.sha256(raw).hexdigest()
    try:
        payload = {"raw": raw.decode("utf-8")}
    except UnicodeDecodeError:
        payload = {"raw": raw.decode("utf-8", errors="replace"), "raw_base64": base64.b64encode(raw).decode()}
    return webhook_receive(kind=InboundWebhook.Kind.EMAIL, source="email", external_id=key[:200], payload=payload)


def stored_message(row: InboundWebhook) -> EmailMessage:
    """The stored message, parsed from its bytes (a str parse garbles 8bit bodies: the email package expects bytes)."""
    raw = base64.b64decode(row.payload["raw_base64"]) if "raw_base64" in row.payload else row.payload["raw"].encode()
    return email.message_from_bytes(raw, policy=email.policy.default)


def _form_headers(form) -> list[tuple[str, str]]:
    """The original headers an inbound-parse POST carries: SendGrid's ``headers`` (the header block as text),
    or Mailgun's ``message-headers`` (a JSON list of [name, value] pairs, in order)."""
    if form.get("headers"):
        # Raw values: a header the policy cannot parse (`Cc: "`) is skipped when set, not a 500 here.
        block = HeaderParser(policy=email.policy.compat32).parsestr(form["headers"])
        return [(name, str(value)) for name, value in block.items()]
    try:
        pairs = json.loads(form.get("message-headers") or "[]")
    except ValueError:
        return []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list | tuple) and len(p) == 2]


def parse_form_message(form) -> bytes:
    """An inbound-parse POST as raw MIME: the raw message when the provider sends it (SendGrid's ``email``,
    Mailgun's ``body-mime``), else rebuilt from the parsed fields: from/to/subject, the original headers, the
    text and the HTML (an HTML-only mail keeps its HTML, read as text later)."""
    raw = form.get("email") or form.get("body-mime")
    if raw:
        return raw.encode()
    message = EmailMessage()
    for name, value in _form_headers(form):
        if name.lower() in REBUILT_HEADERS:
            continue
        try:
            message[name] = value
        except (HeaderParseError, ValueError, IndexError):
            logger.info("email.header_skipped", extra={"header": name})
    for name, value in (
        ("From", form.get("from") or form.get("sender", "")),
        ("To", form.get("to") or form.get("recipient", "")),
        ("Subject", form.get("subject", "")),
    ):
        try:
            message[name] = value
        except (HeaderParseError, ValueError, IndexError):
            # Kept without it: a mail with no usable From is stored and then failed with the reason, never lost.
            logger.info("email.header_skipped", extra={"header": name})
    text = next((form[f] for f in TEXT_FIELDS if form.get(f)), "")
    html = next((form[f] for f in HTML_FIELDS if form.get(f)), "")
    if text or not html:
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
    else:
        message.set_content(html, subtype="html")
    return message.as_bytes()


def _thread_lead(parsed):
    refs = MESSAGE_ID.findall(f"{parsed.get('In-Reply-To', '')} {parsed.get('References', '')}")
    if not refs:
        return None
    sent = Message.objects.filter(direction=Message.Direction.OUTBOUND, message_id__in=refs).select_related("lead")
    found = sent.order_by("-created_at").first()
    return found.lead if found else None


def automatic_mail_note(
    *, lead_id: int, machine: Automatic, sender: str, subject: str, words: str, message_id: str, threaded: bool
) -> str:
    """Note automatic mail on the lead it answers: one Decision on the lead's timeline with what it said.

    Nothing else: no capture, so no qualification, no draft and no reply, and no ``lead.replied`` (an
    out-of-office is no answer: a cadence waiting for one goes on). Returns the reason the stored mail keeps.
    """
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        return f"{machine} from {sender}: the lead it answered ({lead_id}) is gone; dropped, not answered."
    how = "on our thread" if threaded else "from the lead's address"
    decision_record(
        step=Decision.Step.AUTOMATIC_MAIL,
        lead=lead,
        input_summary="\n\n".join(p for p in (subject, words) if p),
        output={"from": sender, "message_id": message_id, "kind": machine.kind, "sign": machine.sign},
        reasoning=f"{machine} from {sender} ({how}): noted, not answered and not qualified.",
        outcome=Decision.Outcome.SKIPPED,
    )
    logger.info("email.automatic_noted", extra={"lead_id": lead.pk, "kind": machine.kind, "sign": machine.sign})
    return f"{machine} from {sender}: noted on lead {lead.pk} ({how}), not answered."


def _automatic(parsed, machine: Automatic, address: str, threaded, message_id: str) -> Ignored:
    lead = threaded or lead_get_by_contact(phone="", email=address.lower())
    if lead is None:
        return Ignored(f"{machine} from {address}: it answers no lead, so it is dropped, not answered.")
    note = partial(
        automatic_mail_note,
        lead_id=lead.pk,
        machine=machine,
        sender=address,
        subject=str(parsed.get("Subject", "")).strip(),
        words=body_text(parsed),
        message_id=message_id,
        threaded=threaded is not None,
    )
    return NotALead(f"{machine} from {address}", settle=note)


@parser_register(InboundWebhook.Kind.EMAIL)
def email_event(row: InboundWebhook) -> CaptureEvent:
    """The stored message as a capture: the sender, the subject and their new words (HTML read as text, the
    quoted history and the signature cut).

    Mail no person wrote raises instead: NotALead for a bounce (it fails the email it returns) and for automatic
    mail on a lead's thread or from a lead's address (noted on that lead); Ignored for other automatic mail.
    ValueError for a message with no From address.
    """
    parsed = stored_message(row)
    name, address = parseaddr(str(parsed.get("From", "")))
    report = delivery_report(parsed)
    if report is not None:
        settle = partial(email_bounce_record, report=report)
        raise NotALead(f"A delivery report from {report.reporter or address}: not a lead message.", settle=settle)
    if not address:
        raise ValueError("the message has no From address")
    lead = _thread_lead(parsed)
    machine = automatic(parsed)
    if machine is not None:
        raise _automatic(parsed, machine, address, lead, row.external_id)
    subject = str(parsed.get("Subject", "")).strip()
    body = body_text(parsed)
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
