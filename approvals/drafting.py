"""Composing the text of a proposed message from the manager's templates. No writes."""

from dataclasses import dataclass

from django.conf import settings

from approvals.models import Action, MessageTemplate


@dataclass(frozen=True)
class DraftContent:
    kind: str
    to: str
    body: str
    subject: str = ""
    template_id: int | None = None


def draft_compose(*, lead, workflow: str, rep_name: str) -> DraftContent | None:
    """A message for ``lead`` from the active template of ``workflow``: SMS when it can be texted, else email.

    Returns None when there is no channel to reach the lead or no active template for it.
    """
    if lead.phone and not lead.opted_out:
        channel, kind, to = MessageTemplate.Channel.SMS, Action.Kind.SEND_SMS, lead.phone
    elif lead.email:
        channel, kind, to = MessageTemplate.Channel.EMAIL, Action.Kind.SEND_EMAIL, lead.email
    else:
        return None
    template = (
        MessageTemplate.objects.filter(workflow=workflow, channel=channel, active=True).order_by("-updated_at").first()
    )
    if template is None:
        return None
    variables = {
        "first_name": lead.first_name or "there",
        "rep_name": rep_name,
        "business_name": settings.BUSINESS_NAME,
    }
    return DraftContent(
        kind=kind,
        to=to,
        body=template.render(**variables),
        subject=template.render_subject(**variables),
        template_id=template.pk,
    )
