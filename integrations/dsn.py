"""Reading bounces: which of our messages could not be delivered, to whom, and how badly. Reads no database.

Delivery status notifications in RFC 3464's format (multipart/report; report-type=delivery-status, as Postfix,
Exim, Sendmail, Gmail and Microsoft 365 send them) are read with the standard library's email package, which
parses message/delivery-status into its per-message and per-recipient field groups: each recipient's Action,
Status (RFC 3463) and Diagnostic-Code, and, from the returned message/rfc822 or text/rfc822-headers part, the
Message-ID of what bounced. flufl.bounce (GNU Mailman's detectors) reads the same DSNs but gives only addresses;
it is used for the bounces written as free text (qmail, Exim without DSN, older Yahoo, Microsoft and Google
formats), where it finds the failed addresses and whether the failure is permanent.
"""

import email.message
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import HeaderParser
from email.utils import parseaddr

from flufl.bounce import all_failures

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# An RFC 3463 enhanced status code: class.subject.detail, each of up to three digits (Microsoft 365 sends 5.1.10).
STATUS_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# Message-ID header lines of the copy a free-text bounce returns below its explanation.
RETURNED_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
# Who sends bounces: the null reverse-path (RFC 5321 4.5.5) and the mail system's own mailboxes.
MAIL_SYSTEM_SENDERS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
# Subjects of bounces whose sender is a relay's own address (Microsoft 365's "MicrosoftExchange…@…").
BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered mail returned to sender|delivery status notification \(failure\)"
    r"|mail delivery failed|failure notice|returned mail|delivery failure|non remis|unzustellbar"
    r"|no se puede entregar|non-delivery report)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient's line of a report: the address (lower-cased), RFC 3464's Action (failed, delayed, delivered,
    relayed, expanded), the RFC 3463 status ("5.1.1"), and the receiving server's words."""

    address: str
    action: str
    status: str
    diagnostic: str

    @property
    def failed(self) -> bool:
        return self.action == "failed"

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5.")

    @property
    def address_dead(self) -> bool:
        """A permanent failure that says the address takes no mail (RFC 3463): X.1.x addressing (no such mailbox
        or domain), X.2.x mailbox (disabled), X.4.4 (no route to the domain), or X.0.0 (unspecified; Exim and qmail
        say it of unknown users). Not X.2.2 mailbox full ("a persistent transient failure", RFC 3463 3.3) or X.2.3
        message too large, and not a refusal of our message or server (X.3 system, X.5 protocol, X.6 content,
        X.7 policy: a spam block, failed authentication): there the address is fine and a person should look.
        """
        match = STATUS_CODE.fullmatch(self.status)
        if not self.failed or match is None or match[1] != "5":
            return False
        subject, detail = int(match[2]), int(match[3])
        return subject == 1 or (subject == 2 and detail not in (2, 3)) or (subject, detail) in ((0, 0), (4, 4))

    @property
    def summary(self) -> str:
        return f"{self.status or self.action}: {self.diagnostic}" if self.diagnostic else self.status or self.action


@dataclass(frozen=True)
class DeliveryReport:
    """A bounce: each recipient's status, the Message-IDs of the message that bounced (best first), who reported it,
    and whether it was an RFC 3464 report (else read from free text)."""

    recipients: tuple[RecipientStatus, ...]
    original_ids: tuple[str, ...]
    reporter: str
    standard: bool


def _ids(*values: str) -> list[str]:
    return [found for value in values for found in MESSAGE_ID.findall(value or "")]


def _address(field: str) -> str:
    # "rfc822; Uma@Example.com" (RFC 3464 2.3.2: address-type; address), sometimes with angle brackets.
    value = field.partition(";")[2] if ";" in field else field
    return value.strip().strip("<>").strip().lower()


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(str(text or "").split())[:limit]


def _status(status: str, diagnostic: str) -> str:
    """The report's Status, made specific from the diagnostic when the report gives only a class (Exim's 5.0.0
    quoting the remote server's "550 5.1.1"), or found in the diagnostic when the report has none."""
    given = STATUS_CODE.search(status or "")
    quoted = STATUS_CODE.search(diagnostic or "")
    if given is None:
        return quoted.group(0) if quoted else ""
    if quoted and given.group(2, 3) == ("0", "0") and quoted[1] == given[1]:
        return quoted.group(0)
    return given.group(0)


def _human_text(report: EmailMessage) -> str:
    first = next(iter(report.iter_parts()), None) if report.is_multipart() else report
    if first is None:
        return ""
    body = first.get_body(preferencelist=("plain", "html")) if first.is_multipart() else first
    try:
        return body.get_content() if body is not None and body.get_content_maintype() == "text" else ""
    except (LookupError, UnicodeError):
        return ""


def _standard(parsed: EmailMessage) -> DeliveryReport | None:
    status_part = returned = headers_text = None
    # RFC 3464's parts are the report's own: a bounce a person forwards as an attachment is their mail, not a report.
    for part in parsed.iter_parts() if parsed.is_multipart() else ():
        kind = part.get_content_type()
        if kind == "message/delivery-status" and status_part is None:
            status_part = part
        elif kind == "message/rfc822" and returned is None:
            payload = part.get_payload()
            returned = payload[0] if isinstance(payload, list) and payload else None
        elif kind == "text/rfc822-headers" and headers_text is None:
            headers_text = part.get_content()
    if status_part is None:
        return None
    blocks = [block for block in status_part.get_payload() if isinstance(block, email.message.Message)]
    per_message, per_recipient = (blocks[0], blocks[1:]) if blocks else (None, [])
    human = _one_line(_human_text(parsed), 300)
    recipients = []
    for block in per_recipient:
        address = _address(str(block.get("Final-Recipient") or block.get("Original-Recipient") or ""))
        diagnostic = _one_line(block.get("Diagnostic-Code", "")) or human
        recipients.append(
            RecipientStatus(
                address=address,
                action=str(block.get("Action", "")).strip().lower(),
                status=_status(str(block.get("Status", "")), diagnostic),
                diagnostic=diagnostic,
            )
        )
    returned_headers = HeaderParser(policy=email.policy.default).parsestr(headers_text) if headers_text else None
    original_ids = _ids(
        str(returned.get("Message-ID", "")) if returned is not None else "",
        str(returned_headers.get("Message-ID", "")) if returned_headers is not None else "",
        str(per_message.get("X-Original-Message-ID", "")) if per_message is not None else "",
        str(parsed.get("In-Reply-To", "")),
        str(parsed.get("References", "")),
    )
    reporter = str(per_message.get("Reporting-MTA", "")) if per_message is not None else ""
    return DeliveryReport(
        recipients=tuple(recipients),
        original_ids=tuple(dict.fromkeys(original_ids)),
        reporter=_address(reporter) or parseaddr(str(parsed.get("From", "")))[1],
        standard=True,
    )


def _mail_system_sign(parsed: EmailMessage) -> str:
    """What says the mail system sent ``parsed`` ("" when nothing does): its sender, or a bounce's subject."""
    sender = parseaddr(str(parsed.get("From", "")))[1].lower()
    if sender.partition("@")[0] in MAIL_SYSTEM_SENDERS:
        return f"from {sender}"
    if BOUNCE_SUBJECT.match(str(parsed.get("Subject", ""))):
        return "a bounce's subject"
    return "the null reverse-path" if str(parsed.get("Return-Path", "")).strip() == "<>" else ""


def _status_in(text: str, failed_for_good: bool) -> str:
    # The first enhanced code of the right class in the text (qmail's "(#5.1.1)", Exim's "550 5.1.1"), else the
    # class alone (RFC 3463's X.0.0, "other or undefined").
    wanted = "5" if failed_for_good else "4"
    found = next((m.group(0) for m in STATUS_CODE.finditer(text) if m[1] == wanted), "")
    return found or f"{wanted}.0.0"


def _free_text(parsed: EmailMessage, sign: str) -> DeliveryReport | None:
    temporary, permanent = all_failures(parsed)
    if not (temporary or permanent) and not sign.startswith("from "):
        # Only the mail system's own address makes an unreadable notice a bounce: a null sender is read as automatic
        # mail (integrations.mailread), and "Returned mail" may be a person's subject.
        return None
    text = "\n".join(
        _part_text(part) for part in parsed.walk() if part.get_content_type() in ("text/plain", "message/rfc822")
    )
    diagnostic = _one_line(text, 300)
    recipients = [
        RecipientStatus(
            address.decode(errors="replace").lower(),
            "failed" if failed_for_good else "delayed",
            _status_in(text, failed_for_good),
            diagnostic,
        )
        for addresses, failed_for_good in ((permanent, True), (temporary, False))
        for address in sorted(addresses)
    ]
    original_ids = _ids(
        *RETURNED_MESSAGE_ID.findall(text), str(parsed.get("In-Reply-To", "")), str(parsed.get("References", ""))
    )
    return DeliveryReport(
        recipients=tuple(recipients),
        original_ids=tuple(dict.fromkeys(original_ids)),
        reporter=parseaddr(str(parsed.get("From", "")))[1].lower(),
        standard=False,
    )


def _part_text(part) -> str:
    if part.get_content_type() == "message/rfc822":
        return str(part.get_payload(0)) if part.get_payload() else ""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def delivery_report(parsed: EmailMessage) -> DeliveryReport | None:
    """The bounce ``parsed`` is, or None when it is none.

    An RFC 3464 report wherever it sits in the message; else, for mail from the mail system (MAILER-DAEMON,
    postmaster, the null reverse-path of RFC 5321 4.5.5, or a bounce's subject), the failures flufl.bounce finds in
    its text. A report may name no recipient (a notice nobody can read): it is still no person's message.
    """
    report = _standard(parsed)
    if report is not None:
        return report
    sign = _mail_system_sign(parsed)
    return _free_text(parsed, sign) if sign else None
