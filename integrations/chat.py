"""Web chat: a visitor's messages become captures; our replies wait for the visitor's chat box to poll them.

The first message must say how to reach the person (phone or email), like any capture; it opens
a ChatSession whose token the browser keeps. Later messages with that token attach to the
session's lead. While the visitor was seen within CHAT_SESSION_MINUTES, drafted answers go to
the chat (approvals.drafting.channel_for) through the normal Action path.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from integrations.models import ChatSession, ChatWidget
from leads.choices import Channel
from leads.models import Message
from leads.services import CaptureEvent, ConsentGiven, lead_capture


class ChatSessionUnknown(Exception):
    """The browser's conversation token matches no conversation of this widget."""


@dataclass(frozen=True)
class ChatPost:
    client_id: str
    text: str
    conversation: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""
    consent: ConsentGiven | None = None  # the chat box's consent checkbox, with the disclosure it showed


def chat_session_get(*, widget: ChatWidget, token: str) -> ChatSession:
    session = ChatSession.objects.select_related("lead").filter(widget=widget, token=token).first()
    if session is None:
        raise ChatSessionUnknown("This conversation is not known; start a new one.")
    return session


def chat_post(*, widget: ChatWidget, post: ChatPost) -> ChatSession:
    """Capture one visitor message (idempotent on the browser's ``client_id``); returns the conversation.

    Raises ValidationError naming the contact fields when a first message gives no way to reach
    the person, ChatSessionUnknown for a token that is not this widget's.
    """
    session = chat_session_get(widget=widget, token=post.conversation) if post.conversation else None
    contact = (
        {"email": session.lead.email, "phone": session.lead.phone}
        if session is not None
        else {"email": post.email, "phone": post.phone, "name": post.name}
    )
    with transaction.atomic():
        result = lead_capture(
            event=CaptureEvent(
                channel=Channel.CHAT,
                source=widget.source,
                external_id=f"{widget.slug}:{post.client_id}",
                message=post.text,
                payload={"widget": widget.slug, "client_id": post.client_id},
                consent=post.consent,
                **contact,
            )
        )
        if session is None:
            session = (
                ChatSession.objects.filter(widget=widget, lead=result.lead).order_by("-created_at").first()
                if result.duplicate
                else None
            ) or ChatSession.objects.create(widget=widget, lead=result.lead)
        session.last_seen_at = timezone.now()
        session.save(update_fields=["last_seen_at"])
    return session


def chat_replies(*, session: ChatSession, after: int = 0, limit: int = 50) -> list[dict]:
    """Our sent chat replies to the session's lead after message ``after``, oldest first; marks the visitor seen."""
    ChatSession.objects.filter(pk=session.pk).update(last_seen_at=timezone.now())
    sent = Message.objects.filter(
        lead_id=session.lead_id,
        channel=Channel.CHAT,
        direction=Message.Direction.OUTBOUND,
        status__in=(Message.Status.SENT, Message.Status.DELIVERED),
        pk__gt=after,
    ).order_by("pk")[:limit]
    return [{"id": m.pk, "body": m.body, "at": (m.sent_at or m.created_at).isoformat()} for m in sent]
