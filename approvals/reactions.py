"""What happens to an action that the floors above react to, declared where it happens (see config.reactions)."""

from config.reactions import Reaction

# action: our message to the lead went out (handed to the provider). 'No reply' cadences start their clock.
ACTION_SENT = Reaction("action.sent", order=("routing",))
# action, now: the executor claims a text to the lead; may it go now? Receivers return a verdict with ``allowed``,
# ``until`` (the next allowed instant, UTC) and ``why`` (words for a person). Routing answers: the law's quiet-hours
# rules, the holidays and the lead's clock live there (routing.quiet). Required: no text goes out unchecked.
ACTION_QUIET_HOURS = Reaction("action.quiet_hours", order=("routing",), required=True)
