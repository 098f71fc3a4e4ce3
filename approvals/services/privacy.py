"""What approvals holds about a person, for export and erasure (PERSON_EXPORT, PERSON_FORGET in leads.reactions).

An action carries the person in its payload ("to", "body", "subject"), the draft before a person's edit
(``original_body``) and texts that may quote them (reasoning, escalation and rejection reasons, errors).
"""

from django.db.models import F

from approvals.models import Action
from approvals.services.proposing import actions_cancel_waiting
from leads.privacy import Person, history_export, redacted, rows_export, rows_forget, words_forgotten

NOT_SENT = "Not sent: the person was forgotten."


def _payload_forgotten(payload, person: Person) -> dict:
    # Categories and ids stay (the template, what a clarifying question asked for, the opt-out it confirms).
    payload = person.scrub(payload or {})
    return {**payload, **{key: "" for key in ("to", "subject") if key in payload}}


ACTION_CHANGES = {
    "payload": _payload_forgotten,
    "original_body": words_forgotten,
    "reasoning": words_forgotten,
    "escalation_reason": words_forgotten,  # a held action quotes the words read as an opt-out
    "rejection_reason": words_forgotten,
    "error": redacted,
}


def actions_forget(*, person: Person, leads, user=None) -> dict[str, int]:
    """Cancel what still waits to go to the person (a retryable failure too), then blank every action's
    personal fields and history rows. Kept: each action's workflow, kind, status, amounts, who decided and
    when, and its edit distance (the autonomy screens' graduation counts them)."""
    cancelled = sum(actions_cancel_waiting(lead=lead, reason=NOT_SENT) for lead in leads)
    # A failed action can be retried from the queue; nothing may go to a forgotten person.
    cancelled += Action.objects.filter(lead__in=leads, status=Action.Status.FAILED).update(
        status=Action.Status.CANCELLED, error=NOT_SENT, version=F("version") + 1
    )
    actions, history = rows_forget(Action.objects.filter(lead_id__in=person.lead_ids), ACTION_CHANGES, person)
    return {"actions_cancelled": cancelled, "actions": actions, "actions_history": history}


def actions_export(*, person: Person, leads) -> dict[str, list[dict]]:
    """The person's actions and every saved version of them."""
    actions = Action.objects.filter(lead_id__in=person.lead_ids).order_by("created_at", "id")
    return {"actions": rows_export(actions), "action_history": history_export(actions)}
