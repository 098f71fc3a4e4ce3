from config.exceptions import ConflictError, Forbidden, NotPermitted


class ActionNotFound(NotPermitted):
    """The action does not exist or belongs to another rep's lead."""


class ActionStateError(ConflictError):
    """The action was already decided or sent; the caller sees its current state."""


class ActionForbidden(Forbidden):
    """The person may see the action but not decide it (a gate sent it to managers)."""
