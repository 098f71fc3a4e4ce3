"""Configuration snapshots: rebuilt when a watched record is saved, their tokens read once per task."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.versions import Snapshot, versions_pinned
from routing.models import Holiday

pytestmark = pytest.mark.django_db

builds = []


def _build():
    builds.append(1)
    return sorted(Holiday.objects.values_list("name", flat=True))


holidays = Snapshot("test:holidays-version", _build, (Holiday,))


def cache_reads(queries) -> int:
    return sum("_cache" in q["sql"] and q["sql"].startswith("SELECT") for q in queries)


def test_a_snapshot_is_built_once_and_again_after_a_save_or_delete():
    first = holidays.get()
    count = len(builds)
    assert holidays.get() == first and len(builds) == count, "no change, no rebuild"
    day = Holiday.objects.create(date=datetime.date(2026, 12, 25), name="Christmas")
    assert holidays.get() == sorted([*first, "Christmas"])
    day.delete()
    assert holidays.get() == first and len(builds) == count + 2


def test_inside_a_task_each_token_is_read_once_and_a_change_is_seen_at_once():
    holidays.get()
    with versions_pinned(), CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            holidays.get()
        assert cache_reads(queries.captured_queries) == 1
        Holiday.objects.create(date=datetime.date(2026, 1, 1), name="New Year")
        assert "New Year" in holidays.get(), "this task's own change"
    with CaptureQueriesContext(connection) as queries:
        holidays.get()
        holidays.get()
    assert cache_reads(queries.captured_queries) == 2, "outside a task every read asks the cache"
