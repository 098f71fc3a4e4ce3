"""Row history (django-simple-history) with the person who made the change."""

from functools import cached_property

from django.contrib.auth.models import AbstractBaseUser
from simple_history.models import HistoricalRecords, HistoryDescriptor


def history_person(request=None, **kwargs):
    """The request's user when it is a person; API-key callers and anonymous visitors record no user."""
    user = getattr(request, "user", None)
    return user if isinstance(user, AbstractBaseUser) else None


class _HistoryManagerOnce(HistoryDescriptor):
    """``Model.history`` built from one manager class per model.

    simple-history's own descriptor builds a new class (``Manager.from_queryset``, an
    ``inspect.getmembers`` walk) on every access, and every save with history reads it once:
    ~0.35 ms of CPU per history row, several rows per lead.
    """

    @cached_property
    def _manager_class(self):
        return self.manager_class.from_queryset(self.queryset_class)

    def __get__(self, instance, owner):
        return self._manager_class(self.model, instance)


class History(HistoricalRecords):
    """Every audited model uses this in place of HistoricalRecords."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, get_user=history_person, **kwargs)

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is HistoryDescriptor:
            setattr(
                sender,
                self.manager_name,
                _HistoryManagerOnce(
                    descriptor.model, manager=descriptor.manager_class, queryset=descriptor.queryset_class
                ),
            )
