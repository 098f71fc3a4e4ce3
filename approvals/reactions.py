"""What happens to an action that the floors above react to, declared where it happens (see config.reactions)."""

from config.reactions import Reaction

# action: our message to the lead went out (handed to the provider). 'No reply' cadences start their clock.
ACTION_SENT = Reaction("action.sent", order=("routing",))
