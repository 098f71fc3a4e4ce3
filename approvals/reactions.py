"""What happens to an action that the floors above react to, declared where it happens (see config.reactions)."""

from config.reactions import Reaction

# action: our message to the lead went out (handed to the provider). 'No reply' cadences start their clock.
ACTION_SENT = Reaction("action.sent", order=("routing",))
# action, now: the executor claims a text to the lead; may it go now? Receivers return a verdict with ``allowed``,
# ``until`` (the next allowed instant, UTC) and ``why`` (words for a person). Routing answers: the law's quiet-hours
# rules, the holidays and the lead's clock live there (routing.quiet). Required: no text goes out unchecked.
ACTION_QUIET_HOURS = Reaction("action.quiet_hours", order=("routing",), required=True)
# action: the executor claims a Booking action (payload "booking": book, move or cancel a meeting). Routing commits it
# under its hosts' locks, in the claim's transaction, and returns a verdict: ``outcome`` (booked, moved, cancelled,
# taken), ``body`` (the message to send instead: a confirmation, or new times when it was taken), ``appointment``.
# Required: a Booking action must never send its confirmation without the booking.
ACTION_BOOK = Reaction("action.book", order=("routing",), required=True)
