"""Row history (django-simple-history) with the person who made the change."""

from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from simple_history.models import HistoricalRecords


def history_person(request=None, **kwargs):
    """The request's user when it is a person; API-key callers and anonymous visitors record no user."""
    user = getattr(request, "user", None)
    return user if isinstance(user, AbstractBaseUser) else None


# Every audited model uses this in place of HistoricalRecords.
History = partial(HistoricalRecords, get_user=history_person)
