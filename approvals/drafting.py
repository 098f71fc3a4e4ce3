"""Composing the text of a proposed message: the manager's template, optionally rewritten by the model. No writes.

A model rewrite must keep to the template's intent: if it names a price, a discount, a refund
or a contract term the template did not, the action goes to a person whatever the policy says.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from approvals.models import Action, MessageTemplate, Workflow
from approvals.sms import sms_segment_limit, sms_text, sms_too_long
from approvals.templating import render_text
from config.versions import SETTINGS_KEY, Snapshot
from integrations.llm import DraftRequest
from integrations.sms_segments import gsm7_capacity

# Built-in questions, used when no active template asks for the fact on that channel.
_THANKS = 'Hi {{ first_name|default:"there" }}, thanks for reaching out to {{ business_name|default:"us" }}! '
QUESTIONS = {
    "budget": _THANKS + "Do you have a budget range in mind for this?",
    "postal_code": _THANKS + "What's the ZIP code where the work would be?",
    "timeline": _THANKS + "When would you like this done?",
}
COMMITMENT = re.compile(
    r"(?:[$€£]\s?\d[\d,.]*|\b\d[\d,.]*\s?(?:dollars|usd|eur)\b|\b\d+\s?%\s?off\b|\b(refund|reimburse|discount|"
    r"contract|warranty|guarantee[ds]?|free of charge|no charge|price match)\w*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DraftContent:
    kind: str
    to: str
    body: str
    subject: str = ""
    template_id: int | None = None
    rewritten_by: str = ""
    asks_for: str = ""
    # The language the text was drafted in: the template's (or the business's default), a rewrite's when one stands.
    language: str = ""
    # Set when the text must be seen by a person whatever the policy: why.
    gate: str = ""


def commitment_new(draft: str, template_text: str) -> str:
    """The first price, refund or contract term in ``draft`` that ``template_text`` does not already contain."""
    allowed = {m.group(0).lower() for m in COMMITMENT.finditer(template_text)}
    return next((m.group(0) for m in COMMITMENT.finditer(draft) if m.group(0).lower() not in allowed), "")


def chat_open_for(lead):
    """The lead's chat session if the visitor was there within CHAT_SESSION_MINUTES, else None."""
    from integrations.models import ChatSession

    if lead.pk is None:  # the what-if's unsaved lead has no conversation
        return None
    recent = timezone.now() - timedelta(minutes=settings.CHAT_SESSION_MINUTES)
    return ChatSession.objects.filter(lead=lead, last_seen_at__gte=recent).order_by("-last_seen_at").first()


def channel_for(lead) -> tuple[str, str, str] | None:
    """How to reach ``lead`` in writing: (channel, action kind, address).

    The chat box while the visitor is there; else SMS when the lead can be texted; else email, unless the address
    bounces (Lead.email_undeliverable).
    """
    if chat := chat_open_for(lead):
        # The visitor is on the site now: answer in the chat box (with the SMS template's short text).
        return MessageTemplate.Channel.SMS, Action.Kind.SEND_CHAT, f"chat:{chat.pk}"
    if lead.phone and not lead.opted_out:
        return MessageTemplate.Channel.SMS, Action.Kind.SEND_SMS, lead.phone
    if lead.email and not lead.email_undeliverable:
        return MessageTemplate.Channel.EMAIL, Action.Kind.SEND_EMAIL, lead.email
    return None


def template_pick(templates, language: str):
    """The template to draft from among ``templates`` (those fitting a workflow and channel, most recently edited
    first): the one written in ``language`` (the lead's), else one in the business's default language, else the
    first. None when there is none."""
    for wanted in (language, settings.BUSINESS_LANGUAGE):
        found = next((t for t in templates if wanted and t.written_in == wanted), None)
        if found is not None:
            return found
    return next(iter(templates), None)


# Active templates, the most recently edited first (it wins when two fit).
_templates = Snapshot(
    SETTINGS_KEY, lambda: tuple(MessageTemplate.objects.filter(active=True).order_by("-updated_at")), (MessageTemplate,)
)


def draft_compose(
    *,
    lead,
    workflow: str,
    rep_name: str,
    asks_for: str = "",
    provider=None,
    conversation: tuple[str, ...] = (),
    voice: str = "",
    instruction: str = "",
) -> DraftContent | None:
    """A message for ``lead`` from the active template of ``workflow``: SMS when it can be texted, else email.

    ``asks_for`` picks the clarifying question for that fact. The template is the variant in the lead's language
    (``Lead.language``) when a manager wrote one, else the business's default language's. ``provider`` may rewrite
    the text, in the lead's language,
    for the conversation; a rewrite that is empty or over the SMS segment limit is dropped for the
    template's text. ``instruction`` is a person's wish for the rewrite ("shorter", "mention
    Saturday"). A text's typographic characters get their GSM-7 twins, names aside
    (``approvals.sms.sms_text``). Returns None when there is no channel to reach the lead or no template.
    """
    reach = channel_for(lead)
    if reach is None:
        return None
    channel, kind, to = reach
    language = lead.language or (lead.qualification or {}).get("language", "")
    template = template_pick(
        [
            t
            for t in _templates.get()
            if t.workflow == workflow and t.channel == channel and (not asks_for or t.asks_for == asks_for)
        ],
        language,
    )
    if template is None and not (workflow == Workflow.CLARIFYING_QUESTION and asks_for in QUESTIONS):
        return None
    # Empty when unknown: the template says what stands in (approvals.templating).
    variables = {"first_name": lead.first_name, "rep_name": rep_name, "business_name": settings.BUSINESS_NAME}
    if template is not None:
        body, subject = template.render(**variables), template.render_subject(**variables)
    else:
        body = render_text(QUESTIONS[asks_for], variables)
        subject = f"A quick question from {settings.BUSINESS_NAME}"
    texted = kind == Action.Kind.SEND_SMS
    if texted:
        body = sms_text(body, lead=lead, rep_name=rep_name)
    rewritten_by = gate = ""
    drafted_in = template.written_in if template is not None else settings.BUSINESS_LANGUAGE
    if provider is not None and settings.LLM_REWRITE_DRAFTS:
        rewrite = provider.draft(
            DraftRequest(
                text=body,
                channel=channel,
                purpose=f"{workflow} asking for {asks_for}" if asks_for else workflow,
                rep_name=rep_name,
                business_name=settings.BUSINESS_NAME,
                voice=voice,
                conversation=conversation,
                instruction=instruction,
                language=language,
                max_characters=gsm7_capacity(sms_segment_limit()) if channel == MessageTemplate.Channel.SMS else None,
            )
        )
        if rewrite and texted:
            rewrite = sms_text(rewrite, lead=lead, rep_name=rep_name)
        # The chat box gets the SMS template's short text: a rewrite is held to the same number of segments.
        if rewrite and (channel != MessageTemplate.Channel.SMS or not sms_too_long(rewrite)):
            named = commitment_new(rewrite, body)
            body, rewritten_by = rewrite, provider.name
            # The provider refuses a rewrite in another language than the one asked (integrations.llm).
            drafted_in = language or drafted_in
            if named:
                gate = f"gate: the model's draft names '{named}'"
    return DraftContent(
        kind=kind,
        to=to,
        body=body,
        subject=subject,
        template_id=template.pk if template else None,
        rewritten_by=rewritten_by,
        asks_for=asks_for,
        gate=gate,
        language=drafted_in,
    )


# Used until a manager writes an "Opt-out confirmation" SMS template: who we are, that it worked, how to undo it.
OPT_OUT_CONFIRMATION = (
    "{{ business_name|default:\"Opt-out confirmed\" }}: you're unsubscribed and won't get more texts from us. "
    "Reply START to opt back in."
)


def opt_out_confirmation_content(lead, *, phone: str, record_id: int) -> DraftContent:
    """The one text that confirms an SMS opt-out: the manager's template (no marketing in it), else the default.

    The FCC allows one such text, within five minutes, confirming the revocation (47 CFR 64.1200(a)(10)).
    """
    template = next(
        (
            t
            for t in _templates.get()
            if t.workflow == Workflow.OPT_OUT_CONFIRMATION and t.channel == MessageTemplate.Channel.SMS
        ),
        None,
    )
    variables = {"first_name": lead.first_name, "business_name": settings.BUSINESS_NAME}
    body = template.render(**variables) if template is not None else render_text(OPT_OUT_CONFIRMATION, variables)
    body = sms_text(body, lead=lead)
    return DraftContent(
        kind=Action.Kind.SEND_SMS, to=phone, body=body, template_id=template.pk if template is not None else None
    )
