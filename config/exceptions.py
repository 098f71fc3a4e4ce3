"""One place that turns domain errors into API answers."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """Base of every domain error; each app subclasses it in its exceptions.py."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotPermitted(ApplicationError):
    """The actor may not see or change this object; answered as 404 so ids don't leak."""

    status_code = status.HTTP_404_NOT_FOUND


class Forbidden(ApplicationError):
    """The actor may see the object but not do this to it (a rep deciding what managers must)."""

    status_code = status.HTTP_403_FORBIDDEN


class ConflictError(ApplicationError):
    """The object is not in a state that allows the operation (already decided, already sent)."""

    status_code = status.HTTP_409_CONFLICT


def validation_text(exc: DjangoValidationError) -> str:
    """A ValidationError's messages as one sentence, for a page that shows errors in one place."""
    return " ".join(m for messages in exc.message_dict.values() for m in messages)


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    if isinstance(exc, exceptions.ParseError):
        # A body that does not parse has no fields to name; name the body itself.
        return Response({"body": [str(exc.detail)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, **exc.extra}, status=exc.status_code)
    return exception_handler(exc, context)
