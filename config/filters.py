"""Query-string filters shared by the API's lists."""

from datetime import UTC

import django_filters
from django import forms

# PostgreSQL's bigint and SQLite's INTEGER both stop here: a larger id can match nothing.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number from 1 to what the database holds, else a 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time compared in UTC: PostgreSQL refuses the ±16 h-plus offsets Python accepts."""

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(UTC) if value else value)
