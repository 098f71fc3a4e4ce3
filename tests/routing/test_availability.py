"""Working time, the first-touch clock counted in it, and who can take a lead now: pure, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from routing.assign import Directory, RepInfo, TeamInfo
from routing.availability import FALLBACK, NOBODY, OWNER, TEAM, sla_clock, takers, working_minutes

CHI = ZoneInfo("America/Chicago")
# Tuesday 2026-12-01 on the Chicago clock.
TUE = date(2026, 12, 1)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=CHI)


def rep(id=1, name="Ana", team=1, **kw):
    kw.setdefault("timezone", "America/Chicago")
    return RepInfo(id=id, name=name, team_id=team, user_id=100 + id, **kw)


def shifts(*days, start=time(9), end=time(17)):
    return tuple((weekday, start, end) for weekday in days)


def test_a_lead_captured_before_the_shift_starts_its_clock_at_the_shift():
    ana = rep(hours=shifts(1, start=time(2), end=time(10)))  # Tuesdays 02:00-10:00
    clock = sla_clock(ana, at(1, 0, 35), 15)
    assert (clock.starts_at, clock.due_at) == (at(1, 2), at(1, 2, 15))
    assert clock.note == (
        "SLA 15 min counted in Ana's working time: Ana is off shift, the clock starts Tue 02:00 (shift starts); "
        "first touch due Tue 02:15"
    )


def test_on_shift_the_clock_is_plain_minutes_and_says_nothing():
    ana = rep(hours=shifts(1))
    clock = sla_clock(ana, at(1, 10, 0), 15)
    assert (clock.starts_at, clock.due_at, clock.note) == (at(1, 10), at(1, 10, 15), "")
    always = rep(2, "Ben")
    assert sla_clock(always, at(1, 3), 15).due_at == at(1, 3, 15)


def test_an_absence_holds_the_clock_until_the_rep_is_back():
    back = at(1, 11)
    ana = rep(hours=shifts(1), absences=((at(1, 8), back),))
    clock = sla_clock(ana, at(1, 9, 30), 15)
    assert (clock.starts_at, clock.due_at) == (back, at(1, 11, 15))
    assert "Ana is away until Tue 11:00, the clock starts Tue 11:00 (absence ends)" in clock.note
    # A rep without working hours is always on shift, but not while away.
    ben = rep(2, "Ben", absences=((at(1, 0), at(1, 6)),))
    assert sla_clock(ben, at(1, 0, 35), 15).due_at == at(1, 6, 15)


def test_an_absence_starting_mid_clock_pauses_it():
    ana = rep(hours=shifts(1), absences=((at(1, 10, 5), at(1, 12)),))
    clock = sla_clock(ana, at(1, 10), 15)
    assert clock.due_at == at(1, 12, 10)
    assert clock.note.endswith(
        "the clock stops while they are off (end of shift, absence, holiday); first touch due Tue 12:10"
    )


def test_a_holiday_moves_the_clock_to_the_next_working_day():
    ana = rep(hours=shifts(1, 2), holidays=frozenset({TUE}))
    clock = sla_clock(ana, at(1, 10), 15)
    assert (clock.starts_at, clock.due_at) == (at(2, 9), at(2, 9, 15))
    assert "Ana is off for the holiday, the clock starts Wed 09:00 (shift starts)" in clock.note


def test_a_clock_running_past_the_end_of_a_shift_goes_on_at_the_next_shift():
    ana = rep(hours=shifts(1, 2))
    clock = sla_clock(ana, at(1, 16, 50), 15)  # 10 min on Tuesday, 5 on Wednesday morning
    assert (clock.starts_at, clock.due_at) == (at(1, 16, 50), at(2, 9, 5))
    assert working_minutes(ana, at(1, 16, 50), at(2, 9, 5)) == 15
    # A night shift is two windows either side of midnight: the clock runs straight through.
    owl = rep(hours=((1, time(22), time(23, 59)), (2, time(0), time(6))))
    assert sla_clock(owl, at(1, 23, 50), 15).due_at == at(2, 0, 6)


def test_a_shift_across_a_daylight_saving_change_counts_real_minutes():
    # Sunday 2026-11-01 01:00-03:00 on the Chicago clock is three real hours (01:00-02:00 happens twice).
    ana = rep(hours=((6, time(1), time(3)),))
    start = datetime(2026, 11, 1, 1, 0, tzinfo=CHI)
    assert working_minutes(ana, start, start + timedelta(hours=5)) == 180


def test_a_rep_who_never_works_gets_a_wall_clock_with_the_reason():
    ana = rep(hours=shifts(1), holidays=frozenset(TUE + timedelta(days=7 * n) for n in range(60)))
    clock = sla_clock(ana, at(1, 10), 15)
    assert clock.due_at == at(1, 10, 15) and clock.note == "Ana has no working time ahead: wall clock"


SALES_AWAY = (at(1, 0), at(1, 18))


def team(*reps, fallback=2):
    teams = {1: TeamInfo(1, "Sales"), 2: TeamInfo(2, "Front desk", is_fallback=fallback == 2)}
    return Directory(teams=teams, reps={r.id: r for r in reps})


def test_the_owner_takes_it_when_working():
    d = team(rep(1, "Ana", phone="+1"), rep(2, "Ben", phone="+2"))
    found = takers(d, 1, at(1, 10), need_phone=True)
    assert (found.who, found.names, found.team_id) == (OWNER, "Ana", 1)


def test_an_away_owner_passes_to_the_team_then_the_fallback_then_nobody():
    ana = rep(1, "Ana", phone="+1", absences=(SALES_AWAY,))
    ben = rep(2, "Ben", phone="+2", hours=shifts(1, start=time(8)))
    cleo = rep(3, "Cleo", phone="", hours=shifts(1))
    desk = rep(9, "Desk", team=2, phone="+9")
    found = takers(team(ana, ben, cleo, desk), 1, at(1, 10), need_phone=True)
    assert (found.who, found.names, found.team_id) == (TEAM, "Ben", 1)
    assert found.reason == "owner Ana is away until Tue 18:00; working in Sales: Ben"
    assert takers(team(ana, ben, cleo, desk), 1, at(1, 10)).names == "Ben, Cleo", "Cleo has no phone to ring"

    found = takers(team(ana, ben, cleo, desk), 1, at(1, 7), need_phone=True)  # before Ben's shift
    assert (found.who, found.names, found.team_id) == (FALLBACK, "Desk", 2)
    assert found.reason == (
        "owner Ana is away until Tue 18:00; nobody else in Sales is working; fallback team 'Front desk': Desk"
    )

    gone = rep(9, "Desk", team=2, phone="+9", can_log_in=False)
    found = takers(team(ana, ben, cleo, gone), 1, at(1, 7), need_phone=True)
    assert (found.who, found.reps, found.team_id) == (NOBODY, (), 1)
    assert found.reason.endswith("nobody in the fallback team 'Front desk' is working")


def test_an_owner_who_cannot_log_in_or_is_off_is_not_asked():
    ana = rep(1, "Ana", can_log_in=False)
    assert takers(team(ana, rep(2, "Ben")), 1, at(1, 10)).reason == "owner Ana cannot log in; working in Sales: Ben"
    holiday = rep(1, "Ana", hours=shifts(1), holidays=frozenset({TUE}))
    assert takers(team(holiday, rep(2, "Ben")), 1, at(1, 10)).reason.startswith("owner Ana is off for the holiday")


def test_without_an_owner_the_fallback_team_then_anyone_working():
    d = team(rep(1, "Ana"), rep(9, "Desk", team=2))
    assert takers(d, None, at(1, 10)).names == "Desk"
    nobody_falls_back = team(rep(1, "Ana"), rep(9, "Desk", team=2), fallback=None)
    found = takers(nobody_falls_back, None, at(1, 10))
    assert (found.who, found.names) == (FALLBACK, "Ana, Desk")


def test_a_fallback_team_that_is_the_owners_own_is_not_asked_twice():
    d = team(rep(1, "Ana", absences=(SALES_AWAY,)), rep(2, "Ben", absences=(SALES_AWAY,)), fallback=1)
    found = takers(d, 1, at(1, 10))
    assert found.who == NOBODY and found.reason == "owner Ana is away until Tue 18:00; nobody else in Sales is working"


def test_instants_in_any_zone_are_the_same_moment():
    ana = rep(hours=shifts(1, start=time(2), end=time(10)))
    assert sla_clock(ana, at(1, 0, 35).astimezone(UTC), 15).due_at == at(1, 2, 15)
