"""The week every report test reads (the table is in test_reports.py's docstring)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from audit import reports
from leads.models import Lead
from tests.conftest import user

WEEK = reports.Period.dates(date(2026, 10, 1), date(2026, 10, 7))


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def make_lead(name, arrived, *, channel, source, owner=None, answered_after=None, stages=("new",), written=None):
    lead = Lead(name=name, channel=channel, source=source, owner=owner, created_at=arrived)
    for stage in stages:  # through save(), as the services move it: the funnel remembers the furthest stage
        lead.stage = stage
        lead.save()
    first_response = arrived + timedelta(seconds=answered_after) if answered_after is not None else None
    Lead.objects.filter(pk=lead.pk).update(first_response_at=first_response, last_outbound_at=written)
    lead.refresh_from_db()
    return lead


@pytest.fixture
def week(demo):
    return week_leads()


def week_leads() -> dict:
    """The table's six leads (the demo's reps must exist)."""
    rep1, rep2 = user("rep1"), user("rep2")
    return {
        "L1": make_lead(
            "L1",
            at(1, 3),
            channel="sms",
            source="twilio",
            owner=rep1,
            answered_after=30,
            stages=("new", "contacted"),
            written=at(1, 3, 0, 30),
        ),  # fmt: skip
        "L2": make_lead(
            "L2",
            at(1, 10),
            channel="sms",
            source="twilio",
            owner=rep1,
            answered_after=120,
            stages=("new", "quoted"),
            written=at(1, 10, 2),
        ),  # fmt: skip
        "L3": make_lead(
            "L3",
            at(3, 22),
            channel="form",
            source="web",
            owner=rep2,
            answered_after=600,
            stages=("new", "qualified", "appointment", "won"),
            written=at(3, 22, 10),
        ),  # fmt: skip
        "L4": make_lead("L4", at(2, 12), channel="form", source="web", owner=rep2, stages=("new", "quoted", "lost")),
        "L5": make_lead("L5", at(2, 13), channel="email", source="spam", stages=("new", "spam")),
        "L0": make_lead("L0", at(30, 12, month=9), channel="sms", source="twilio", owner=rep1, answered_after=10),
    }
