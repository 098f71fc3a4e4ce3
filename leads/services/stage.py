"""A lead's own progress: its stage, a first touch, a logged call. What follows goes through leads.reactions."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Decision
from audit.services import decision_record
from leads.choices import Channel, Stage
from leads.lock_objects import lead_lock
from leads.models import Lead, Message
from leads.reactions import LEAD_CLOSED, LEAD_FIRST_TOUCH, LEAD_STAGE_CHANGED

# Entering one of these ends the conversation: whatever still waits to be sent is cancelled.
CLOSED_STAGES = (Stage.WON, Stage.LOST, Stage.UNQUALIFIED, Stage.SPAM)


def lead_stage_changed(lead: Lead, *, before: str, by: str) -> None:
    """Set off what a stage change sets off (subscribed CRMs hear of it; cadences stop or start); no-op if unchanged.

    Every writer of a lead's stage calls this after saving it (a new lead is announced as created instead).
    """
    if before != lead.stage:
        LEAD_STAGE_CHANGED.send(lead=lead, before=before, by=by)


@transaction.atomic
def lead_stage_set(*, lead_id: int, stage: str, user) -> Lead:
    """A person (or, through the API, the CRM) moves the lead to another stage; kept in history and logged.

    A closing stage cancels the lead's waiting actions; the change is announced to subscribed CRMs
    with who made it, so a CRM can recognise its own change coming back. Raises ValidationError (``stage``).
    """
    if stage not in Stage.values:
        raise ValidationError({"stage": f"Choose one of: {', '.join(Stage.values)}."})
    lead = lead_lock(lead_id)
    before = lead.stage
    if before == stage:
        return lead
    person = None if getattr(user, "is_api_key", False) else user
    lead.stage = stage
    lead._history_user = person
    lead._change_reason = f"stage {before} → {stage} by {user}"[:100]
    lead.save(update_fields=["stage", "updated_at"])
    cancelled = 0
    if stage in CLOSED_STAGES:
        cancelled = sum(LEAD_CLOSED.send(lead=lead, reason=f"The lead moved to {Stage(stage).label}."))
    decision_record(
        step=Decision.Step.STAGE,
        lead=lead,
        actor=person,
        output={"before": before, "stage": stage, "cancelled": cancelled},
        reasoning=f"{user} moved the lead from {Stage(before).label} to {Stage(stage).label}"
        + (f"; {cancelled} waiting action(s) cancelled." if cancelled else "."),
    )
    lead_stage_changed(lead, before=before, by=str(user))
    return lead


def lead_touch(*, lead: Lead, how: str, actor=None) -> bool:
    """Record a person's first touch of ``lead`` (message sent, call logged, accepted, booked); stops the SLA clock.

    Returns False when the lead had been touched before (only the first touch is recorded).
    """
    with transaction.atomic():
        now = timezone.now()
        touched = Lead.objects.filter(pk=lead.pk, first_touch_at__isnull=True).update(first_touch_at=now)
        if not touched:
            return False
        lead.first_touch_at = now
        LEAD_FIRST_TOUCH.send(lead=lead, how=how, actor=actor, at=now)
    return True


@transaction.atomic
def lead_call_log(*, lead: Lead, user, note: str) -> Message:
    """Record a call a person made to the lead (a note is required); it counts as the first touch."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say what happened on the call."})
    if len(note) > 2000:
        raise ValidationError({"note": f"At most 2000 characters; this note has {len(note)}."})
    now = timezone.now()
    message = Message.objects.create(
        lead=lead,
        direction=Message.Direction.OUTBOUND,
        channel=Channel.CALL,
        to=lead.phone,
        body=note,
        status=Message.Status.SENT,
        sent_at=now,
    )
    Lead.objects.filter(pk=lead.pk).update(last_outbound_at=now)
    lead_touch(lead=lead, how="call logged", actor=user)
    return message
