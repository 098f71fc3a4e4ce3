from config.exceptions import NotPermitted


class EnrollmentNotFound(NotPermitted):
    """No such enrollment, or it belongs to another rep's lead."""
