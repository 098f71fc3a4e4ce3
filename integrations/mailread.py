"""Reading inbound mail: the words a person wrote, and whether a person wrote it at all. Reads no database.

A person's words are the text/plain part, else the HTML part as text (inscriptis keeps the block layout, drops
<style>, <script> and <head>, decodes entities), with the quoted history and the signature cut (mail-parser-reply,
in English, Spanish, French and German). Mail no person wrote (an out-of-office, a vacation responder, a list or
a newsletter) is told by its headers, else by the subjects responders use in those four languages.
"""

import re
from dataclasses import dataclass
from email.message import EmailMessage

from inscriptis.html_engine import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml.etree import ParserError
from lxml.html import document_fromstring
from mailparser_reply import EmailMessage as ReplyMessage

# The languages whose reply headers ("On … wrote:", "El … escribió:", "Le … a écrit :", "Am … schrieb …:", and
# Outlook's "From: / Sent:" block in each) and sign-offs the quote cutter knows.
REPLY_LANGUAGES = ("en", "es", "fr", "de")

# Containers mail clients put the quoted message in, whatever the language of the line above it: Gmail's
# gmail_quote (the "On … wrote:" line and the quote), Apple Mail's and Thunderbird's cite blockquote and
# Thunderbird's attribution line, Yahoo's yahoo_quoted. Outlook's "From: / Sent:" block is plain text, cut later.
HTML_QUOTES = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]",
    "//blockquote[@type='cite']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]",
)
HTML_CONFIG = ParserConfig(display_links=False, display_images=False)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

# A line of ">" quotes, and the paragraph just above it when it ends with ":" (the "<date>, <name> wrote:" line
# of a language or client the quote cutter does not know, or that it misses: Gmail's Spanish "(<…>) escribió:").
QUOTED_LINE = re.compile(r"^[ \t]*>", re.MULTILINE)


def html_text(html: str) -> str:
    """The readable text of an HTML body, quoted history containers removed; "" for empty or unparsable HTML."""
    html = XML_DECLARATION.sub("", html, count=1).strip()
    if not html:
        return ""
    try:
        tree = document_fromstring(html)
    except (ParserError, ValueError):
        return ""
    for path in HTML_QUOTES:
        for node in tree.xpath(path):
            node.drop_tree()
    return Inscriptis(tree, HTML_CONFIG).get_text()


def _cut_quote_block(text: str) -> str:
    match = QUOTED_LINE.search(text)
    if match is None:
        return text
    head = text[: match.start()].rstrip()
    paragraph_start = max(head.rfind("\n\n"), -1) + 1
    paragraph = head[paragraph_start:]
    if paragraph.endswith(":") and paragraph.count("\n") < 3:
        return head[:paragraph_start]
    return head


def new_words(text: str) -> str:
    """``text`` without the quoted history it answers and without its signature (the sender's new words).

    mail-parser-reply finds the reply headers and sign-offs; a hyphen list stays (it is no signature). A quote
    block the library leaves (an unknown language's "wrote:" line) is cut at its first ">" line.
    """
    reply = ReplyMessage(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read()
    words = reply.replies[0].body if reply.replies else text
    return _cut_quote_block(words).strip()


def _part_text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset: keep what can be read
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def body_text(parsed: EmailMessage) -> str:
    """What the sender wrote in ``parsed``: its text/plain body, else its HTML body as text, quote and signature cut.

    A text/plain part with nothing in it (some clients send one beside the HTML) counts as absent.
    """
    for kind in ("plain", "html"):
        part = parsed.get_body(preferencelist=(kind,))
        if part is None:
            continue
        text = _part_text(part)
        if kind == "html":
            text = html_text(text)
        if text.strip():
            return new_words(text)
    return ""


# Headers that mark mail no person wrote, and the values that do (None: any value but "no"/"none" does).
# RFC 3834 Auto-Submitted; X-Autoreply and X-Autorespond (Postfix and Courier vacation programs, cPanel);
# X-Auto-Response-Suppress (Exchange and Outlook set it on their own automatic replies); Precedence (RFC 2076,
# used by list servers and by responders that predate RFC 3834); List-Id (RFC 2919) and List-Unsubscribe
# (RFC 2369, RFC 8058) on list and bulk mail.
AUTOMATIC_HEADERS: dict[str, tuple[str, frozenset[str] | None]] = {
    "Auto-Submitted": ("automatic reply", None),
    "X-Autoreply": ("automatic reply", None),
    "X-Autorespond": ("automatic reply", None),
    "X-Auto-Response-Suppress": ("automatic reply", None),
    "Precedence": ("bulk mail", frozenset({"auto_reply", "bulk", "junk", "list"})),
    "List-Id": ("list mail", None),
    "List-Unsubscribe": ("list mail", None),
}
NOT_AUTOMATIC = frozenset({"", "no", "none"})

# Subjects of automatic replies in English, Spanish, French and German: Outlook's and Exchange's prefixes, the
# out-of-office phrases people and responders use. Anchored at the start (after a "Re:"), and followed by ":",
# a dash, a bracket, "until"/"hasta"/"jusqu'"/"bis" or the end, so "Out of office hours repair?" stays a person's.
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:(?:re|aw|rv|tr|sv)\s*:\s*)?"
    r"(?:automatic\s+reply|auto[- ]?reply|auto[- ]?response|autoresponder|out\s+of\s+(?:the\s+)?office"
    r"(?:\s+auto[- ]?reply)?|away\s+from\s+(?:the\s+)?office|on\s+vacation|vacation\s+reply"
    r"|respuesta\s+autom[aá]tica|fuera\s+de\s+(?:la\s+)?oficina|ausente\s+de\s+la\s+oficina|de\s+vacaciones"
    r"|r[ée]ponse\s+automatique|absen(?:t|ce)\s+du\s+bureau|message\s+d['’]absence|en\s+cong[ée]s?"
    r"|automatische\s+antwort|abwesenheitsnotiz|abwesenheitsnachricht|abwesend|nicht\s+im\s+b[üu]ro"
    r"|au[ßs]er\s+haus|im\s+urlaub)"
    r"\s*(?:[:\-–(\[]|$|until\b|hasta\b|jusqu|bis\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Automatic:
    """Why a message is not a person writing: its kind ("automatic reply", "bulk mail", "list mail") and the sign."""

    kind: str
    sign: str

    def __str__(self) -> str:
        return f"{self.kind[0].upper()}{self.kind[1:]} ({self.sign})"


def automatic(parsed: EmailMessage) -> Automatic | None:
    """Whether ``parsed`` was sent by a program rather than a person (None: a person), and the sign that says so."""
    for name, (kind, values) in AUTOMATIC_HEADERS.items():
        value = str(parsed.get(name, "") or "").strip()
        if value.lower() in NOT_AUTOMATIC:
            continue
        if values is None or value.lower() in values:
            return Automatic(kind, f"{name}: {value[:80]}")
    subject = str(parsed.get("Subject", "") or "")
    if AUTO_REPLY_SUBJECT.match(subject):
        return Automatic("automatic reply", f"subject {subject[:80]!r}")
    if str(parsed.get("Return-Path", "")).strip() == "<>":
        # The null reverse-path is for notifications only (RFC 5321 4.5.5; RFC 3834 3.3 for responders).
        return Automatic("automatic message", "Return-Path: <>")
    return None
