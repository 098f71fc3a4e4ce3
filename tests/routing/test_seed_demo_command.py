"""The `seed_demo --history` command itself: the same rows on a second run, the debug guard, bad input named.

Each test seeds its own small history (the reports' tests read one seeded once: test_demo_history.py).
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from approvals.models import Policy, Workflow
from leads.models import Lead
from tests.routing.seeding import UNTIL, counts, seed


@pytest.mark.django_db
def test_running_it_twice_gives_the_same_rows_not_twice_as_many():
    first = seed("--until", UNTIL)
    before = counts()
    second = seed("--until", UNTIL)
    assert counts() == before
    assert "Replaced the earlier history's" in second and "Replaced" not in first
    assert Policy.objects.get(workflow=Workflow.FIRST_RESPONSE).mode == Policy.Mode.AUTO


@pytest.mark.django_db
def test_it_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="debug is off.*--force"):
        call_command("seed_demo", "--history", "14", stdout=StringIO())
    assert not Lead.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--history", "2"], "3 to"),
        (["--history", "5", "--until", "2999-01-01"], "in the past"),
        (["--history", "5", "--until", "soon"], "2026-11-30"),
    ],
)
def test_bad_days_or_end_are_refused_by_name(args, error):
    with pytest.raises(CommandError, match=error):
        call_command("seed_demo", "--force", *args, stdout=StringIO())
