"""Writing the audit trail: a task's steps in one INSERT, never one a rolled-back savepoint undid."""

import pytest
from django.db import IntegrityError, transaction

from audit.models import Decision
from audit.services import decision_record, decisions_batched
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead():
    return Lead.objects.create(phone="+15128670950", name="Audit")


def test_steps_recorded_in_a_batch_are_written_in_one_insert_in_order(lead, django_assert_num_queries):
    with transaction.atomic(), decisions_batched():
        with django_assert_num_queries(0):
            recorded = [decision_record(step=s, lead=lead, reasoning=s) for s in ("qualify", "route", "propose")]
        assert Decision.objects.count() == 0 and all(d.pk is None for d in recorded)
    rows = list(Decision.objects.filter(lead=lead).order_by("created_at", "id"))
    assert [d.reasoning for d in rows] == ["qualify", "route", "propose"]
    assert [d.created_at for d in rows] == [d.created_at for d in recorded], "stamped when recorded, not when written"


def test_a_step_inside_a_savepoint_that_rolls_back_is_not_written(lead):
    with transaction.atomic(), decisions_batched():
        decision_record(step="qualify", lead=lead, reasoning="kept")
        try:
            with transaction.atomic():
                decision_record(step="cadence", lead=lead, reasoning="undone")
                Lead.objects.create(phone=lead.phone)  # the unique phone: the savepoint rolls back
        except IntegrityError:
            pass
        with transaction.atomic(savepoint=False):  # rolls back with its transaction: may wait in the batch
            decision_record(step="route", lead=lead, reasoning="also kept")
    assert list(Decision.objects.filter(lead=lead).values_list("reasoning", flat=True).order_by("id")) == [
        "kept",
        "also kept",
    ]


def test_a_block_that_raises_writes_nothing(lead):
    # pytest.raises inside the transaction handles the error, so the transaction commits: only the batch can keep
    # the step out.
    with transaction.atomic(), pytest.raises(RuntimeError), decisions_batched():
        decision_record(step="qualify", lead=lead)
        raise RuntimeError("the task failed")
    assert not Decision.objects.filter(lead=lead).exists()
