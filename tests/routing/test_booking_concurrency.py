"""Many leads picking the same few times at once, on PostgreSQL: each time is booked once per rep, never twice."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from leads.models import Appointment, Lead
from routing.booking.commit import SlotTaken, booking_commit
from tests.concurrency import run_in_threads
from tests.routing.booking_setup import booking_team

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2030, 1, 7)


def test_thirty_concurrent_picks_of_five_times_never_double_book(demo):
    estimate = booking_team(2)
    leads = [
        Lead.objects.create(name=f"Lead {i}", phone=f"+1512867{i:04d}", timezone="America/Chicago") for i in range(30)
    ]
    times = [datetime.combine(MONDAY, time(10 + i), tzinfo=CHICAGO) for i in range(5)]

    def pick(i):
        try:
            booking_commit(lead_id=leads[i].pk, booking_type_id=estimate.pk, start=times[i % 5], source="reply")
            return "booked"
        except SlotTaken as taken:
            assert taken.why == "that time is taken" and taken.options
            return "taken"

    with time_machine.travel(datetime.combine(MONDAY, time(7), tzinfo=CHICAGO), tick=True):
        results = run_in_threads(pick, range(30))
    assert results.count("booked") == 10  # 5 times × 2 reps
    meetings = list(Appointment.objects.filter(status="booked").values_list("host_id", "starts_at", "duration_minutes"))
    for host in {m[0] for m in meetings}:
        spans = sorted((s, s + timedelta(minutes=d)) for h, s, d in meetings if h == host)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), "a rep was booked twice"


def test_one_lead_picking_two_times_at_once_ends_with_one_meeting(demo):
    estimate = booking_team(2)
    lead = Lead.objects.create(name="Dana", phone="+15128670101", timezone="America/Chicago")
    times = [datetime.combine(MONDAY, time(10), tzinfo=CHICAGO), datetime.combine(MONDAY, time(14), tzinfo=CHICAGO)]

    def pick(i):
        return booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=times[i % 2], source="link")

    with time_machine.travel(datetime.combine(MONDAY, time(7), tzinfo=CHICAGO), tick=True):
        run_in_threads(pick, range(4))
    assert Appointment.objects.filter(lead=lead, status="booked").count() == 1
