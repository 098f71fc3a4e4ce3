"""A person asks for a new draft of a pending message: the current template, rewritten by the model when configured.

The draft is made outside any transaction (a model may take seconds) with the pipeline's drafting, then
applied by approvals under the action's row lock only if nobody changed the action meanwhile.
"""

from django.core.exceptions import ValidationError

from approvals.models import Action
from approvals.services import action_for_decision, action_redraft
from audit.services import Stopwatch
from routing.pipeline import NextStep, draft_for
from routing.reasoning import conversation_for, criteria_active

MAX_INSTRUCTION = 500


def action_regenerate(*, action_id: int, user, instruction: str = "", version: int | None = None) -> Action:
    """Draft a pending message again; ``instruction`` is the person's wish for the model ("shorter").

    Raises ValidationError (``instruction``), and what deciding an action raises (not found, not pending,
    stale ``version``, a manager's to decide).
    """
    instruction = (instruction or "").strip()
    if len(instruction) > MAX_INSTRUCTION:
        raise ValidationError(
            {"instruction": f"At most {MAX_INSTRUCTION} characters; this one has {len(instruction)}."}
        )
    action = action_for_decision(action_id=action_id, user=user, version=version)
    lead = action.lead
    message = action.event.message if action.event_id else ""
    with Stopwatch() as timer:
        content = draft_for(
            lead,
            NextStep(workflow=action.workflow, asks_for=action.payload.get("asks_for", "")),
            conversation_for(lead, message=message, channel=action.channel, event=action.event),
            criteria_active(),
            lead.owner.get_full_name() if lead.owner_id else "",
            instruction=instruction,
        )
    if content is None:
        raise ValidationError(
            {"instruction": "There is no active template for this workflow and channel to draft from."}
        )
    return action_redraft(
        action_id=action_id,
        user=user,
        content=content,
        version=action.version,
        instruction=instruction,
        duration_ms=timer.ms,
    )
