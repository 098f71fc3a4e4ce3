"""Bad input for booking: a DST change between now and the meeting, a reply on the lead's clock across it, and a
calendar server that is down or slow at the commit (the booking stands on our own data, and says so)."""

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from audit.models import Decision
from integrations.models import CalendarConnection
from leads.models import Appointment, Lead
from routing.booking.commit import SlotTaken, booking_commit
from tests.conftest import policy_set
from tests.fakes.http_server import LocalJsonServer
from tests.routing.booking_setup import booking_team, reps_of

NEW_YORK = ZoneInfo("America/New_York")
FRIDAY = datetime(2026, 10, 30, 10, tzinfo=NEW_YORK)  # US clocks fall back on Sunday 1 November
MONDAY_AFTER = date(2026, 11, 2)

pytestmark = pytest.mark.django_db


@pytest.fixture
def estimate(demo):
    return booking_team(1, tz="America/New_York")


@pytest.fixture
def lead(demo):
    return Lead.objects.create(name="Dana", phone="+12125550101", timezone="America/New_York")


def test_a_booking_after_the_clocks_fall_back_lands_on_the_wall_clock_hour(estimate, lead):
    with time_machine.travel(FRIDAY, tick=False):
        booked = booking_commit(
            lead_id=lead.pk,
            booking_type_id=estimate.pk,
            start=datetime.combine(MONDAY_AFTER, datetime.min.time(), tzinfo=NEW_YORK).replace(hour=9),
            source="reply",
        )
        assert booked.appointment.starts_at == datetime(2026, 11, 2, 14, tzinfo=UTC)  # EST: UTC-5
        # 13:30 UTC was 9:30 before the change; after it, it is 8:30, before the shift opens.
        with pytest.raises(SlotTaken, match="outside working hours"):
            booking_commit(
                lead_id=lead.pk,
                booking_type_id=estimate.pk,
                start=datetime(2026, 11, 2, 13, 30, tzinfo=UTC),
                source="reply",
            )


def test_a_reply_naming_monday_at_9_after_the_change_books_nine_on_the_leads_clock(estimate, capture, demo):
    policy_set("first_response", mode="auto", min_confidence=0)
    policy_set("booking", mode="auto")
    with time_machine.travel(FRIDAY, tick=True):
        capture(name="Dana", phone="212 555 0101", postal_code="10001", message="Roof quote please, it leaks")
        lead = Lead.objects.get(phone="+12125550101")
        capture(channel="sms", source="twilio", phone=lead.phone, message="Monday at 9am works")
    assert Appointment.objects.get(lead=lead).starts_at == datetime(2026, 11, 2, 14, tzinfo=UTC)


def test_a_calendar_down_at_the_commit_leaves_the_booking_to_our_data_and_says_so(
    estimate, lead, settings, monkeypatch
):
    settings.CALENDAR_TIMEOUT_SECONDS = 0.5
    monkeypatch.setenv("CAL", "tok")
    rep = reps_of(estimate)[0]
    CalendarConnection.objects.create(
        user=rep.user, kind="microsoft", url="http://127.0.0.1:9", credential_ref="env:CAL", calendar_id="x@y.z"
    )
    with time_machine.travel(FRIDAY, tick=False):
        booked = booking_commit(
            lead_id=lead.pk,
            booking_type_id=estimate.pk,
            start=datetime(2026, 10, 30, 14, tzinfo=NEW_YORK),
            source="link",
        )
    assert booked.appointment.host == rep.user and "could not be read (unreachable)" in booked.notes[0]
    note = Decision.objects.filter(lead=lead, outcome=Decision.Outcome.ESCALATED).latest("pk")
    assert note.reasoning.startswith("Booked from Nightshift's own data")


def test_a_slow_calendar_at_the_commit_is_given_up_on_at_the_timeout(estimate, lead, settings, monkeypatch):
    settings.CALENDAR_TIMEOUT_SECONDS = 0.4
    monkeypatch.setenv("CAL", "tok")
    rep = reps_of(estimate)[0]

    def slow(*args):
        time.sleep(1.5)
        return 200, {"calendars": {}}

    with LocalJsonServer(slow) as google:
        CalendarConnection.objects.create(
            user=rep.user, kind="google", url=google.url, credential_ref="env:CAL", calendar_id="x"
        )
        started = time.monotonic()
        with time_machine.travel(FRIDAY, tick=True):
            booked = booking_commit(
                lead_id=lead.pk,
                booking_type_id=estimate.pk,
                start=datetime(2026, 10, 30, 15, tzinfo=NEW_YORK),
                source="reply",
            )
        assert time.monotonic() - started < 1.4
    assert "could not be read (timeout)" in booked.notes[0]
    assert CalendarConnection.objects.get(user=rep.user).last_error
