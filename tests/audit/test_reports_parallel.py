"""On PostgreSQL outside a transaction, speed to lead's six groupings run at once in threads: same figures."""

import pytest
from django.db import connection

from audit import reports
from tests.audit.conftest import WEEK

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel report queries are PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]


def test_groupings_run_at_once_give_the_hand_worked_figures(week, settings):
    settings.REPORT_PARALLEL = 3
    assert not connection.in_atomic_block, "committed data: the threads' own connections see it"
    report = reports.speed_to_lead(WEEK)
    assert (report.overall.leads, report.overall.answered) == (4, 3)
    assert (report.overall.p50, report.overall.p90, report.overall.p99) == pytest.approx((120, 504, 590.4))
    assert [(day, s.leads) for day, s in report.by_weekday] == [("Thu", 2), ("Fri", 1), ("Sat", 1)]
    assert {name: s.leads for name, s in report.by_rep} == {"Ana Rep": 2, "Ben Rep": 2}
