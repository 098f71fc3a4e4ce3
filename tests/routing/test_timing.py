"""Step times on the lead's clock: business days, quiet hours and daylight-saving changes. Pure, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing import timing

NY = ZoneInfo("America/New_York")
WINDOW = timing.Window(time(8), time(21))


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_business_days_skip_weekends_and_holidays_keeping_the_wall_time():
    friday = ny(2026, 12, 18, 16, 30)
    holidays = {date(2026, 12, 21)}  # the Monday after
    assert timing.add_business_days(friday, 1, NY, ()) == ny(2026, 12, 21, 16, 30)
    assert timing.add_business_days(friday, 1, NY, holidays) == ny(2026, 12, 22, 16, 30)
    assert timing.add_business_days(friday, 3, NY, holidays) == ny(2026, 12, 24, 16, 30)


def test_hours_are_elapsed_time_across_a_dst_change():
    # Clocks go back on Sun Nov 1, 2026 at 02:00 in New York: 24 elapsed hours after Saturday noon is 11:00 Sunday.
    saturday_noon = ny(2026, 10, 31, 12, 0)
    later = timing.offset(saturday_noon, delay=24, unit=timing.HOURS, tz=NY, holidays=())
    assert later - saturday_noon.astimezone(UTC) == timedelta(hours=24)
    assert later.astimezone(NY).strftime("%a %H:%M") == "Sun 11:00"


def test_business_days_keep_the_wall_clock_across_a_dst_change():
    friday = ny(2026, 10, 30, 10, 0)  # EDT
    monday = timing.add_business_days(friday, 1, NY, ())
    assert monday.astimezone(NY).strftime("%a %H:%M %Z") == "Mon 10:00 EST"


def test_a_wall_time_skipped_by_spring_forward_becomes_one_instant_after_the_gap():
    # Sun Mar 8, 2026: 02:00 jumps to 03:00 in New York.
    moment = timing.local_at(date(2026, 3, 8), time(2, 30), NY)
    assert moment.strftime("%H:%M %Z") == "03:30 EDT"
    # The ambiguous 01:30 of Nov 1 is its first occurrence only: one instant, never two.
    first = timing.local_at(date(2026, 11, 1), time(1, 30), NY)
    assert first.utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (ny(2026, 12, 1, 12, 0), ny(2026, 12, 1, 12, 0)),  # inside: unchanged
        (ny(2026, 12, 1, 6, 15), ny(2026, 12, 1, 8, 0)),  # early: the same morning
        (ny(2026, 12, 1, 21, 0), ny(2026, 12, 2, 8, 0)),  # the end is exclusive: the next morning
        (ny(2026, 12, 1, 23, 59), ny(2026, 12, 2, 8, 0)),
    ],
)
def test_quiet_hours_move_a_step_to_the_next_allowed_minute(local, expected):
    assert timing.next_allowed(local, tz=NY, window=WINDOW) == expected


def test_quiet_hours_on_business_days_only_skip_to_monday_morning():
    friday_night = ny(2026, 12, 18, 22, 0)
    assert timing.next_allowed(friday_night, tz=NY, window=WINDOW, business_days_only=True) == ny(2026, 12, 21, 8)
    assert timing.next_allowed(friday_night, tz=NY, window=WINDOW) == ny(2026, 12, 19, 8)


def test_the_window_opens_on_the_lead_s_clock_on_a_dst_morning():
    # 06:00 UTC on the spring-forward Sunday is 01:00 EST; the window opens at 08:00 EDT = 12:00 UTC.
    moment = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    assert timing.next_allowed(moment, tz=NY, window=WINDOW) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_no_window_allows_any_time():
    moment = ny(2026, 12, 1, 3, 0)
    assert timing.next_allowed(moment, tz=NY, window=None) == moment


@pytest.mark.parametrize("text", ["8-21", "21:00-08:00", "08:00", "noon-night"])
def test_a_bad_window_is_refused_with_a_reason(text):
    with pytest.raises(ValueError):
        timing.Window.parse(text)


def test_appointment_reminders_count_back():
    appointment = ny(2026, 12, 3, 10, 0)
    assert timing.offset(appointment, delay=24, unit=timing.HOURS, tz=NY, holidays=(), before=True) == ny(
        2026, 12, 2, 10, 0
    )


RHODE_ISLAND = timing.Week(
    timing.Window(time(9), time(18)), timing.Window(time(10), time(17)), None, holidays_closed=True
)


def test_a_week_gives_each_kind_of_day_its_window_and_closes_holidays():
    assert RHODE_ISLAND.window_on(date(2026, 12, 4)) == timing.Window(time(9), time(18))  # Friday
    assert RHODE_ISLAND.window_on(date(2026, 12, 5)) == timing.Window(time(10), time(17))  # Saturday
    assert RHODE_ISLAND.window_on(date(2026, 12, 6)) is None  # Sunday: closed
    assert RHODE_ISLAND.window_on(date(2026, 12, 7), {date(2026, 12, 7)}) is None  # a holiday Monday


def test_the_stricter_of_two_weeks_is_each_day_s_overlap():
    federal = timing.Week.every_day(WINDOW)
    nine, noon = timing.Window(time(9), time(21)), timing.Window(time(12), time(21))
    texas = timing.Week(nine, nine, noon)
    both = federal.stricter(texas).stricter(RHODE_ISLAND)
    assert both == timing.Week(timing.Window(time(9), time(18)), timing.Window(time(10), time(17)), None, True)
    assert timing.narrower(timing.Window(time(8), time(9)), timing.Window(time(10), time(11))) is None
    assert timing.Week.every_day(None).never_open


def test_next_open_skips_closed_days_and_crosses_a_dst_change_on_the_wall_clock():
    # Saturday Oct 31, 2026 17:30 EDT in Rhode Island: Sunday is closed; Monday 09:00 is EST after the fall back.
    saturday_evening = ny(2026, 10, 31, 17, 30)
    monday = timing.next_open(saturday_evening, tz=NY, week=RHODE_ISLAND)
    assert monday == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert monday.astimezone(NY).strftime("%a %H:%M %Z") == "Mon 09:00 EST"
    inside = ny(2026, 12, 4, 10, 0)
    assert timing.next_open(inside, tz=NY, week=RHODE_ISLAND) is inside, "already allowed: the moment itself"


def test_next_open_is_none_when_nothing_ever_opens():
    weekends_only = timing.Week(None, WINDOW, WINDOW)
    assert timing.next_open(ny(2026, 12, 4, 10, 0), tz=NY, week=weekends_only, business_days_only=True) is None
