from config.exceptions import ConflictError, NotPermitted


class ActionNotFound(NotPermitted):
    """The action does not exist or belongs to another rep's lead."""


class ActionStateError(ConflictError):
    """The action was already decided or sent; the caller sees its current state."""
