"""Concurrent captures on PostgreSQL: the loser of a unique-constraint race takes the retry pass."""

import pytest
from django.db import connection

from leads.models import InboundEvent, Lead
from leads.services import CaptureEvent, lead_capture
from tests.concurrency import run_in_threads

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def capture_at_once(events: list[CaptureEvent]) -> list:
    return run_in_threads(lambda event: lead_capture(event=event), events)


def test_same_event_from_many_threads_is_stored_once(demo):
    event = CaptureEvent(channel="api", source="crm", external_id="ext-1", phone="+15128670500", message="Quote")
    for _ in range(5):
        results = capture_at_once([event] * 6)
        assert InboundEvent.objects.filter(external_id="ext-1").count() == 1
        assert len({r.event.pk for r in results}) == 1
        assert sum(not r.duplicate for r in results) <= 1


def test_same_new_person_from_many_threads_gets_one_lead(demo):
    for n in range(5):
        phone = f"+151286706{n:02d}"
        events = [CaptureEvent(channel="sms", source="twilio", phone=phone, message=f"msg {i}") for i in range(6)]
        results = capture_at_once(events)
        assert Lead.objects.filter(phone=phone).count() == 1
        assert len({r.lead.pk for r in results}) == 1
        assert InboundEvent.objects.filter(lead__phone=phone).count() == 6, "every distinct event is kept"
