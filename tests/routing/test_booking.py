"""Free times from our data and the reps' calendars, and a booking's commit: re-checked, fair, and complete."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from integrations.models import CalendarConnection
from leads.choices import Stage
from leads.models import Appointment, Lead
from leads.services import appointment_book
from routing.booking.commit import SlotTaken, booking_commit, booking_move
from routing.booking.free import availability
from routing.models import Enrollment
from tests.fakes.http_server import LocalJsonServer
from tests.routing.booking_setup import booking_team, reps_of

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2030, 1, 7)
NOW = datetime.combine(MONDAY, time(8), tzinfo=CHICAGO)

pytestmark = pytest.mark.django_db


def at(day: date, hour: int, minute: int = 0, tz=CHICAGO) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


@pytest.fixture
def estimate(demo):
    return booking_team(2, buffer_after_minutes=30)


@pytest.fixture
def lead(demo):
    return Lead.objects.create(
        name="Dana Diaz", phone="+15128670101", email="dana@example.com", timezone="America/Chicago"
    )


def test_times_name_every_rep_free_then_and_skip_their_meetings(estimate, lead):
    first, second = reps_of(estimate)
    appointment_book(lead_id=lead.pk, user=None, starts_at=at(MONDAY, 10), host=first.user, duration_minutes=60)
    found = availability(estimate, lead, now=NOW, limit=6)
    by_time = {s.start.astimezone(CHICAGO).time(): s.rep_ids for s in found.slots}
    assert by_time[time(10)] == (second.pk,) and by_time[time(10, 30)] == (second.pk,)
    assert by_time[time(11)] == (
        first.pk,
        second.pk,
    )  # the 10:00 meeting ends at 11:00; the new one has no before-buffer
    assert found.notes == []


def test_a_calendar_that_is_down_leaves_times_from_our_data_and_says_so(estimate, lead, settings, monkeypatch):
    settings.CALENDAR_TIMEOUT_SECONDS = 0.3
    monkeypatch.setenv("CAL", "tok")
    first = reps_of(estimate)[0]
    connection = CalendarConnection.objects.create(
        user=first.user, kind="google", url="http://127.0.0.1:9", credential_ref="env:CAL", calendar_id="x"
    )
    found = availability(estimate, lead, now=NOW, limit=3, fresh=True)
    assert len(found.slots) == 3 and first.pk in found.slots[0].rep_ids
    assert "could not be read (unreachable)" in found.notes[0]
    assert CalendarConnection.objects.get(pk=connection.pk).last_error


def test_a_booking_goes_to_the_rep_with_fewest_meetings_and_does_what_a_booking_does(estimate, lead):
    first, second = reps_of(estimate)
    other = Lead.objects.create(name="Other", timezone="UTC")
    appointment_book(lead_id=other.pk, user=None, starts_at=at(MONDAY + timedelta(days=1), 9), host=first.user)
    with time_machine.travel(NOW, tick=False):
        booked = booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=at(MONDAY, 13), source="reply")
    appointment = booked.appointment
    assert appointment.host == second.user and booked.rep_name == "Est1"
    assert (appointment.duration_minutes, appointment.buffer_after_minutes) == (60, 30)
    lead.refresh_from_db()
    assert lead.stage == Stage.APPOINTMENT
    assert Enrollment.objects.filter(lead=lead, cadence__trigger="appointment").exists()  # the reminders started


def test_a_taken_time_is_refused_with_new_options_and_nothing_is_written(estimate, lead):
    for rep in reps_of(estimate):
        someone = Lead.objects.create(name=f"Booked {rep.pk}", timezone="UTC")
        appointment_book(lead_id=someone.pk, user=None, starts_at=at(MONDAY, 13), host=rep.user)
    before = Appointment.objects.count()
    with time_machine.travel(NOW, tick=False), pytest.raises(SlotTaken) as taken:
        booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=at(MONDAY, 13, 30), source="reply")
    assert taken.value.why == "that time is taken"
    assert len(taken.value.options) == 3 and all(o.start != at(MONDAY, 13, 30) for o in taken.value.options)
    assert Appointment.objects.count() == before


@pytest.mark.parametrize(
    ("start", "why"),
    [
        (at(MONDAY, 7), "that time has passed"),
        (at(MONDAY, 9), "less than 2 hours away (the minimum notice)"),
        (at(MONDAY, 18), "it is outside working hours"),
        (at(MONDAY + timedelta(days=1), 10, tz=ZoneInfo("Asia/Tokyo")), "outside working hours"),  # Mon 19:00 Chicago
        (at(MONDAY + timedelta(days=30), 10), "more than 14 days ahead"),
    ],
)
def test_times_in_the_past_off_hours_in_another_zone_or_too_far_are_refused(estimate, lead, start, why):
    with time_machine.travel(NOW, tick=False), pytest.raises(SlotTaken) as taken:
        booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=start, source="link")
    assert why in taken.value.why


def test_a_time_given_in_the_leads_own_zone_books_the_same_instant(estimate, lead):
    madrid = at(MONDAY, 20, tz=ZoneInfo("Europe/Madrid"))  # 13:00 in Chicago
    with time_machine.travel(NOW, tick=False):
        booked = booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=madrid, source="reply")
    assert booked.appointment.starts_at == at(MONDAY, 13)


def test_an_external_busy_block_read_at_commit_sends_the_meeting_to_another_rep(estimate, lead, monkeypatch):
    monkeypatch.setenv("CAL", "tok")
    first, second = reps_of(estimate)
    busy = [{"start": at(MONDAY, 13).astimezone(UTC).isoformat(), "end": at(MONDAY, 15).astimezone(UTC).isoformat()}]
    with LocalJsonServer(lambda *a: (200, {"calendars": {"x": {"busy": busy}}})) as google:
        CalendarConnection.objects.create(
            user=first.user, kind="google", url=google.url, credential_ref="env:CAL", calendar_id="x"
        )
        with time_machine.travel(NOW, tick=False):
            booked = booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=at(MONDAY, 14), source="reply")
        assert google.calls, "the commit asked the calendar afresh"
    assert booked.appointment.host == second.user


def test_moving_a_booking_checks_the_new_time_like_a_booking(estimate, lead):
    with time_machine.travel(NOW, tick=False):
        booked = booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=at(MONDAY, 13), source="reply")
        moved = booking_move(
            appointment_id=booked.appointment.pk, booking_type_id=estimate.pk, start=at(MONDAY, 13, 30), source="reply"
        )
        assert moved.appointment.starts_at == at(MONDAY, 13, 30) and moved.appointment.sequence == 1
        with pytest.raises(SlotTaken):
            booking_move(
                appointment_id=booked.appointment.pk, booking_type_id=estimate.pk, start=at(MONDAY, 19), source="reply"
            )


def test_a_second_booking_for_a_lead_moves_its_meeting_instead_of_booking_another(estimate, lead):
    with time_machine.travel(NOW, tick=False):
        first = booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=at(MONDAY, 13), source="link")
        again = booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=at(MONDAY, 13), source="link")
        other = booking_commit(lead_id=lead.pk, booking_type_id=estimate.pk, start=at(MONDAY, 15), source="reply")
    assert again.appointment.pk == first.appointment.pk and not again.moved
    assert other.moved and other.appointment.pk == first.appointment.pk
    booked = Appointment.objects.filter(lead=lead, status=Appointment.Status.BOOKED)
    assert [a.starts_at for a in booked] == [at(MONDAY, 15)]
