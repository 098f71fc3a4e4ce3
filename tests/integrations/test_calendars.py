"""Reps' connected calendars: busy times from a real Radicale server, Google's freeBusy and Microsoft Graph's
getSchedule (local servers speaking their documented JSON); a server down or slow; bookings written by CalDAV PUT."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from integrations.calendars import CalendarAccount, CalendarError, busy_read, calendar_write, secret_resolve
from integrations.calendars.caldav_calendar import event_put
from integrations.models import CalendarConnection
from leads.models import Appointment, Lead
from leads.services import appointment_book, appointment_cancel
from tests.fakes.http_server import LocalJsonServer
from tests.fakes.radicale_server import RadicaleServer

DAY = datetime(2026, 12, 8, tzinfo=UTC)

EVENT = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTAMP:20261201T000000Z\r
DTSTART{start}\r
{end}\r
SUMMARY:Dentist\r
{extra}END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    server = RadicaleServer(tmp_path_factory.mktemp("radicale"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def calendar_url(radicale):
    url = radicale.calendar("work")
    account = caldav_account(radicale, url)
    event_put(
        account,
        "busy@t",
        EVENT.format(uid="busy@t", start=":20261208T150000Z", end="DTEND:20261208T160000Z", extra="").encode(),
    )
    free = "TRANSP:TRANSPARENT\r\n"
    event_put(
        account,
        "free@t",
        EVENT.format(uid="free@t", start=":20261208T170000Z", end="DTEND:20261208T180000Z", extra=free).encode(),
    )
    all_day = EVENT.format(uid="allday@t", start=";VALUE=DATE:20261209", end="DTEND;VALUE=DATE:20261210", extra="")
    event_put(account, "allday@t", all_day.encode())
    return url


def caldav_account(radicale, url, password=None, zone="UTC") -> CalendarAccount:
    return CalendarAccount("caldav", url, radicale.user, password or radicale.password, "", 3.0, zone)


def test_radicale_busy_times_leave_out_free_events_and_hold_all_day_ones_on_the_reps_clock(radicale, calendar_url):
    blocks = busy_read(caldav_account(radicale, calendar_url, zone="America/Chicago"), DAY, DAY + timedelta(days=2))
    assert (datetime(2026, 12, 8, 15, tzinfo=UTC), datetime(2026, 12, 8, 16, tzinfo=UTC)) in blocks
    assert all(start.hour != 17 for start, _ in blocks)  # TRANSP:TRANSPARENT shows as free
    # The all-day event is the whole of 9 December in Chicago: 06:00 UTC to 06:00 UTC.
    assert (datetime(2026, 12, 9, 6, tzinfo=UTC), datetime(2026, 12, 10, 6, tzinfo=UTC)) in blocks


def test_radicale_refusing_the_password_is_a_refusal_not_a_free_day(radicale, calendar_url):
    with pytest.raises(CalendarError) as caught:
        busy_read(caldav_account(radicale, calendar_url, password="wrong"), DAY, DAY + timedelta(days=1))
    assert caught.value.reason == "refused"


@pytest.mark.django_db
def test_a_booking_is_put_into_the_hosts_radicale_calendar_and_removed_when_cancelled(
    radicale, calendar_url, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("SAM_CALDAV", radicale.password)
    sam = get_user_model().objects.create_user("sam", email="sam@example.com")
    CalendarConnection.objects.create(
        user=sam, kind="caldav", url=calendar_url, username=radicale.user, credential_ref="env:SAM_CALDAV"
    )
    lead = Lead.objects.create(name="Dana", email="dana@example.com", timezone="UTC")
    starts = datetime(2026, 12, 10, 15, tzinfo=UTC)
    with time_at(starts - timedelta(days=3)), django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(lead_id=lead.pk, user=None, starts_at=starts, duration_minutes=30, host=sam)
    appointment.refresh_from_db()
    assert (appointment.calendar_written_sequence, appointment.calendar_error) == (0, "")
    account = caldav_account(radicale, calendar_url)
    assert (starts, starts + timedelta(minutes=30)) in busy_read(
        account, starts - timedelta(hours=1), starts + timedelta(hours=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment_id=appointment.pk, user=sam)
    appointment.refresh_from_db()
    assert appointment.calendar_written_sequence == 1
    assert (starts, starts + timedelta(minutes=30)) not in busy_read(
        account, starts - timedelta(hours=1), starts + timedelta(hours=2)
    )


@pytest.mark.django_db
def test_a_write_to_a_calendar_that_is_down_is_kept_visible_and_retried(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.CALENDAR_TIMEOUT_SECONDS = 0.5
    monkeypatch.setenv("SAM_CALDAV", "x")
    sam = get_user_model().objects.create_user("sam")
    CalendarConnection.objects.create(
        user=sam, kind="caldav", url=closed_port_url() + "/sam/work/", credential_ref="env:SAM_CALDAV"
    )
    lead = Lead.objects.create(name="Dana", timezone="UTC")
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(
            lead_id=lead.pk, user=None, starts_at=datetime(2030, 1, 7, 15, tzinfo=UTC), host=sam
        )
    appointment.refresh_from_db()
    assert appointment.calendar_written_sequence == -1
    assert "unreachable" in appointment.calendar_error and appointment.calendar_attempts == 1
    assert CalendarConnection.objects.get(user=sam).last_error
    from integrations.calendars import calendar_writes_requeue

    Appointment.objects.filter(pk=appointment.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert calendar_writes_requeue() == 1  # queued again (run inline here): failed a second time
    assert Appointment.objects.get(pk=appointment.pk).calendar_attempts == 2
    assert calendar_write(appointment_id=appointment.pk) == "failed"


def google(respond):
    return LocalJsonServer(respond)


def test_google_freebusy_is_asked_in_its_documented_shape_and_read():
    def respond(method, path, headers, body):
        assert (method, path) == ("POST", "/freeBusy") and headers["Authorization"] == "Bearer tok"
        assert body["items"] == [{"id": "sam@example.com"}] and body["timeZone"] == "UTC"
        assert body["timeMin"] == "2026-12-08T00:00:00Z"
        busy = [{"start": "2026-12-08T15:00:00Z", "end": "2026-12-08T16:00:00Z"}]
        return 200, {"kind": "calendar#freeBusy", "calendars": {"sam@example.com": {"busy": busy}}}

    with google(respond) as server:
        account = CalendarAccount("google", server.url, "", "tok", "sam@example.com", 2.0)
        assert busy_read(account, DAY, DAY + timedelta(days=1)) == [
            (datetime(2026, 12, 8, 15, tzinfo=UTC), datetime(2026, 12, 8, 16, tzinfo=UTC))
        ]


def test_google_errors_for_a_calendar_are_a_failure_not_a_free_day():
    answer = {"calendars": {"sam@example.com": {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}}}
    with google(lambda *a: (200, answer)) as server:
        account = CalendarAccount("google", server.url, "", "tok", "sam@example.com", 2.0)
        with pytest.raises(CalendarError, match="notFound"):
            busy_read(account, DAY, DAY + timedelta(days=1))
    with google(lambda *a: (401, {"error": {"code": 401}})) as server:
        with pytest.raises(CalendarError) as caught:
            busy_read(
                CalendarAccount("google", server.url, "", "old", "sam@example.com", 2.0), DAY, DAY + timedelta(days=1)
            )
        assert caught.value.reason == "refused"


def test_microsoft_get_schedule_keeps_busy_tentative_and_away_and_leaves_free_out():
    def respond(method, path, headers, body):
        assert path == "/users/sam%40example.com/calendar/getSchedule" and headers["Prefer"] == 'outlook.timezone="UTC"'
        assert body["schedules"] == ["sam@example.com"]
        assert body["startTime"] == {"dateTime": "2026-12-08T00:00:00", "timeZone": "UTC"}
        items = [
            {
                "status": "Busy",
                "start": {"dateTime": "2026-12-08T15:00:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-08T16:00:00.0000000", "timeZone": "UTC"},
            },
            {
                "status": "Free",
                "start": {"dateTime": "2026-12-08T17:00:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-08T18:00:00.0000000", "timeZone": "UTC"},
            },
            {
                "status": "Tentative",
                "start": {"dateTime": "2026-12-08T19:00:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-08T19:30:00.0000000", "timeZone": "UTC"},
            },
        ]
        return 200, {"value": [{"scheduleId": "sam@example.com", "availabilityView": "0022", "scheduleItems": items}]}

    with LocalJsonServer(respond) as server:
        account = CalendarAccount("microsoft", server.url, "", "tok", "sam@example.com", 2.0)
        blocks = busy_read(account, DAY, DAY + timedelta(days=1))
    assert [start.hour for start, _ in blocks] == [15, 19]


def test_a_slow_server_times_out_and_a_down_one_is_unreachable():
    def slow(*args):
        time.sleep(1.5)
        return 200, {"calendars": {}}

    with LocalJsonServer(slow) as server:
        started = time.monotonic()
        with pytest.raises(CalendarError) as caught:
            busy_read(CalendarAccount("google", server.url, "", "tok", "x", 0.4), DAY, DAY + timedelta(days=1))
        assert caught.value.reason == "timeout" and time.monotonic() - started < 1.4
    with pytest.raises(CalendarError) as caught:
        busy_read(CalendarAccount("microsoft", closed_port_url(), "", "tok", "x", 0.4), DAY, DAY + timedelta(days=1))
    assert caught.value.reason == "unreachable"


def test_secrets_are_read_from_their_reference_and_a_missing_one_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("CAL_TOKEN", "s3cret")
    (tmp_path / "token").write_text("from-file\n")
    assert secret_resolve("env:CAL_TOKEN") == "s3cret"
    assert secret_resolve(f"file:{tmp_path / 'token'}") == "from-file"
    with pytest.raises(CalendarError, match="env:NOPE"):
        secret_resolve("env:NOPE")
    with pytest.raises(CalendarError, match="not a reference"):
        secret_resolve("s3cret")


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def time_at(moment):
    import time_machine

    return time_machine.travel(moment, tick=True)
