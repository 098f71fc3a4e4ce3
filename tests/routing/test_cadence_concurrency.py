"""Several scheduler workers at once on PostgreSQL: every due step is proposed exactly once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from approvals.models import Action
from leads.models import Lead
from routing.cadences import cadence_pass, enrollment_create
from routing.models import Cadence, Enrollment, StepRun
from tests.concurrency import run_in_threads

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_three_workers_share_a_pass_without_proposing_a_step_twice(demo, settings):
    settings.CADENCE_BATCH = 5  # small batches, so the workers interleave
    cadence = Cadence.objects.get(name="Gone quiet")
    started = timezone.now() - timedelta(hours=49)
    for i in range(60):
        lead = Lead.objects.create(name=f"Lead {i}", phone=f"+1512867{i:04d}", timezone="UTC")
        enrollment_create(cadence=cadence, lead=lead, trigger="test", started_at=started)
    moment = max(Enrollment.objects.values_list("next_run_at", flat=True))
    results = run_in_threads(lambda _: cadence_pass(now=moment), range(3))
    action_ids = [pk for result in results for pk in result.action_ids]
    assert len(action_ids) == len(set(action_ids)) == 60
    assert StepRun.objects.count() == 60
    assert Action.objects.filter(workflow="follow_up").count() == 60
    assert set(Enrollment.objects.values_list("position", flat=True)) == {1}
    assert sum(r.batches for r in results) >= 12
