"""A Booking action carried out: the meeting first (routing commits it through ``action.book``), then its message.

The executor calls :func:`action_book` while it claims the action, in the claim's transaction: the booking and the
claim commit together, so a confirmation never goes without its meeting, and a second claim (quiet hours held the
text, a retried task) finds the outcome already in the payload and books nothing twice.
"""

from approvals.models import Action
from approvals.reactions import ACTION_BOOK
from audit.models import Decision
from audit.services import decision_record


def action_book(action: Action) -> bool:
    """Commit the booking ``action`` carries, once; False when its message must not go (the meeting it was about was
    cancelled or moved by someone meanwhile: the action is cancelled). Its body becomes what routing says to send:
    a confirmation, or new times when the time was taken. True for an action without a booking."""
    booking = action.payload.get("booking")
    if not booking or booking.get("outcome"):
        return True
    verdict = ACTION_BOOK.send(action=action)[0]
    action.payload = {
        **action.payload,
        "body": verdict.body or action.body,
        "booking": {**booking, "outcome": verdict.outcome, "appointment": verdict.appointment_id},
    }
    if verdict.outcome == "gone":
        action.status, action.error = Action.Status.CANCELLED, "Not sent: the appointment changed meanwhile."
        action.save(update_fields=["payload", "status", "error", "updated_at"])
        decision_record(
            step=Decision.Step.EXECUTE,
            lead=action.lead,
            action=action,
            reasoning="Not sent: the appointment it was about was cancelled or moved meanwhile.",
            outcome=Decision.Outcome.SKIPPED,
        )
        return False
    action.save(update_fields=["payload", "updated_at"])
    return True
