"""Free times as a pure judgement: working hours less absences, holidays, meetings, busy blocks and buffers."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from routing.assign import RepInfo
from routing.booking.slots import Busy, Rule, rep_free_times, slot_refusal, team_free_times

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = tuple((day, time(9), time(17)) for day in range(5))
HOUR = Rule(duration=timedelta(minutes=60), notice=timedelta(hours=2), horizon=timedelta(days=7))


def rep(rep_id=1, tz="America/Chicago", **extra) -> RepInfo:
    return RepInfo(
        id=rep_id, name=f"Rep {rep_id}", team_id=1, user_id=rep_id, timezone=tz, hours=WEEKDAYS_9_TO_5, **extra
    )


def local(day: date, hour: int, minute: int = 0, tz=CHICAGO) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


MONDAY = date(2026, 12, 7)


def test_times_start_after_the_notice_on_the_reps_clock_and_end_inside_the_shift():
    starts = rep_free_times(rep(), [], HOUR, local(MONDAY, 8, 10), limit=20)
    assert starts[0] == local(MONDAY, 10, 30)  # 8:10 + 2 h notice, on the half-hour grid
    assert all(s.astimezone(CHICAGO).time() <= time(16) for s in starts)  # a 60-min meeting ends by 17:00
    assert local(MONDAY, 16) in starts and local(MONDAY, 16, 30) not in starts


def test_a_meeting_and_its_buffers_keep_the_time_clear_both_ways():
    rule = Rule(duration=timedelta(minutes=60), before=timedelta(minutes=30), horizon=timedelta(days=2))
    meeting = Busy(local(MONDAY, 13), local(MONDAY, 14), after=timedelta(minutes=30))
    starts = rep_free_times(rep(), [meeting], rule, local(MONDAY, 7))
    monday = [s.astimezone(CHICAGO).time() for s in starts if s.astimezone(CHICAGO).date() == MONDAY]
    # Before it: the new meeting must end by 13:00; after it: its 30-min after-buffer and our before-buffer
    # (the larger, 30) keep 14:00-14:30 clear.
    assert time(12) in monday and time(12, 30) not in monday
    assert time(13, 30) not in monday and time(14) not in monday and time(14, 30) in monday


def test_absences_holidays_and_external_busy_blocks_hold_time():
    away = (local(MONDAY, 9), local(MONDAY, 12))
    someone = rep(absences=(away,), holidays=frozenset({date(2026, 12, 8)}))
    busy = [Busy(local(MONDAY, 14).astimezone(UTC), local(MONDAY, 15).astimezone(UTC))]
    starts = rep_free_times(someone, busy, Rule(duration=timedelta(minutes=30)), local(MONDAY, 7))
    days = {s.astimezone(CHICAGO).date() for s in starts}
    assert date(2026, 12, 8) not in days  # the holiday
    monday = {s.astimezone(CHICAGO).time() for s in starts if s.astimezone(CHICAGO).date() == MONDAY}
    assert min(monday) == time(12) and time(14) not in monday and time(14, 30) not in monday and time(15) in monday


def test_across_a_dst_change_times_stay_on_the_reps_wall_clock():
    # US clocks fall back on Sunday 1 Nov 2026: 9:00 in New York is 13:00 UTC on Friday, 14:00 UTC on Monday.
    friday, next_monday = date(2026, 10, 30), date(2026, 11, 2)
    starts = rep_free_times(
        rep(tz="America/New_York"), [], Rule(duration=timedelta(minutes=60)), local(friday, 7, tz=NEW_YORK)
    )
    firsts = {}
    for s in starts:
        firsts.setdefault(s.astimezone(NEW_YORK).date(), s)
    assert firsts[friday] == datetime(2026, 10, 30, 13, tzinfo=UTC)
    assert firsts[next_monday] == datetime(2026, 11, 2, 14, tzinfo=UTC)
    assert all(time(9) <= s.astimezone(NEW_YORK).time() <= time(16) for s in starts)


def test_a_team_time_names_every_rep_free_then():
    busy_two = [Busy(local(MONDAY, 10), local(MONDAY, 11))]
    slots = team_free_times([(rep(1), []), (rep(2), busy_two)], HOUR, local(MONDAY, 7), limit=4)
    assert [(s.start.astimezone(CHICAGO).time(), s.rep_ids) for s in slots] == [
        (time(9), (1, 2)),  # rep 2's meeting starts at 10:00, when this one ends
        (time(9, 30), (1,)),
        (time(10), (1,)),
        (time(10, 30), (1,)),
    ]


def test_refusals_say_why_for_past_soon_far_off_hours_and_taken():
    now = local(MONDAY, 8)
    taken = [Busy(local(MONDAY, 14), local(MONDAY, 15))]
    assert slot_refusal(rep(), [], HOUR, local(MONDAY, 7), now) == "that time has passed"
    assert "minimum notice" in slot_refusal(rep(), [], HOUR, local(MONDAY, 9), now)
    assert "ahead" in slot_refusal(rep(), [], HOUR, local(MONDAY, 10) + timedelta(days=8), now)
    assert slot_refusal(rep(), [], HOUR, local(MONDAY, 16, 30), now) == "it is outside working hours"
    assert slot_refusal(rep(), [], HOUR, local(MONDAY, 20), now) == "it is outside working hours"
    assert slot_refusal(rep(), taken, HOUR, local(MONDAY, 14, 30), now) == "that time is taken"
    assert slot_refusal(rep(), taken, HOUR, local(MONDAY, 15), now) == ""


def test_a_time_given_in_another_zone_is_judged_on_the_reps_clock():
    now = local(MONDAY, 8)
    madrid = ZoneInfo("Europe/Madrid")
    # 18:00 in Madrid is 11:00 in Chicago (working); 01:00 in Madrid is 18:00 in Chicago (off).
    assert slot_refusal(rep(), [], HOUR, datetime(2026, 12, 7, 18, tzinfo=madrid), now) == ""
    assert slot_refusal(rep(), [], HOUR, datetime(2026, 12, 8, 1, tzinfo=madrid), now) == "it is outside working hours"


def test_the_shift_split_at_noon_still_takes_a_meeting_across_it():
    split = RepInfo(
        id=1, name="R", team_id=1, user_id=1, timezone="UTC", hours=((0, time(9), time(12)), (0, time(12), time(17)))
    )
    now = datetime(2026, 12, 7, 6, tzinfo=UTC)
    assert slot_refusal(split, [], Rule(duration=timedelta(hours=2)), datetime(2026, 12, 7, 11, tzinfo=UTC), now) == ""


def test_a_start_off_the_step_grid_is_refused():
    now = local(MONDAY, 8)
    assert "grid" in slot_refusal(rep(), [], HOUR, local(MONDAY, 15, 7), now)
    assert "grid" in slot_refusal(rep(), [], HOUR, local(MONDAY, 15) + timedelta(seconds=1), now)
    assert slot_refusal(rep(), [], HOUR, local(MONDAY, 15, 30), now) == ""
