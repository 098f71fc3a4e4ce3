"""Assignment strategies on hand-made directories: pure, no database."""

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from leads.conditions import LeadFacts
from routing.assign import (
    FALLBACK,
    LEAST_LOADED,
    WEIGHTED,
    Directory,
    RepInfo,
    RoutingState,
    RuleTarget,
    TeamInfo,
    TerritoryInfo,
    assign,
)

# Tuesday 2026-11-24 15:00 UTC = 09:00 in Chicago, 10:00 in New York.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
WEEKDAYS_9_TO_5 = tuple((day, time(9), time(17)) for day in range(5))


def rep(id, name, team=1, **kw):
    return RepInfo(id=id, name=name, team_id=team, user_id=100 + id, **kw)


def directory(*reps, territories=(), fallback=2):
    teams = {1: TeamInfo(1, "Sales"), 2: TeamInfo(2, "Front desk", is_fallback=fallback == 2), 3: TeamInfo(3, "Ops")}
    return Directory(teams=teams, reps={r.id: r for r in reps}, territories=tuple(territories))


SALES = directory(rep(1, "Ana"), rep(2, "Ben"), rep(3, "Cleo"), rep(9, "Desk", team=2))


def run(target, n, d=SALES, state=None, facts=None, **kw):
    state = state or RoutingState()
    return [assign(facts or LeadFacts(), target, d, state, NOW, **kw) for _ in range(n)], state


def test_round_robin_rotates_from_the_cursor_without_skipping():
    picks, state = run(RuleTarget(team_id=1), 5, state=RoutingState(cursors={1: 2}))
    assert [p.rep.name for p in picks] == ["Cleo", "Ana", "Ben", "Cleo", "Ana"]
    assert picks[0].reason == "round-robin: Cleo" and state.cursors[1] == 1


def test_weighted_round_robin_gives_exact_shares_spread_out():
    d = directory(rep(1, "Ana", weight=3), rep(2, "Ben", weight=1), rep(3, "Cleo", weight=2))
    picks, _ = run(RuleTarget(team_id=1, strategy=WEIGHTED), 60, d=d)
    names = [p.rep.name for p in picks]
    assert Counter(names) == {"Ana": 30, "Ben": 10, "Cleo": 20}
    # Smooth: no rep gets more than its share in a row (Ana, weight 3 of 6, never three in a row).
    assert "Ana, Ana, Ana" not in ", ".join(names)
    assert picks[0].reason == "weighted round-robin: Ana (weight 3 of 6)"


def test_least_loaded_says_who_had_how_many():
    d = directory(rep(1, "Ana", capacity=10), rep(2, "Ben", capacity=10))
    picks, state = run(RuleTarget(team_id=1, strategy=LEAST_LOADED), 3, d=d, state=RoutingState(loads={1: 3, 2: 5}))
    assert [p.rep.name for p in picks] == ["Ana", "Ana", "Ben"]
    assert picks[0].reason == "least-loaded: Ana had 3 open of 10"
    assert state.loads == {1: 5, 2: 6}


def test_capacity_cap_is_respected_then_fallback():
    d = directory(rep(1, "Ana", capacity=1), rep(2, "Ben", capacity=2), rep(9, "Desk", team=2))
    picks, state = run(RuleTarget(team_id=1), 4, d=d)
    assert [p.rep.name for p in picks] == ["Ana", "Ben", "Ben", "Desk"]
    assert picks[3].via_fallback
    assert picks[3].reason.startswith("all 2 unavailable (2 at capacity) → fallback team 'Front desk'")


def test_territory_most_specific_wins_then_least_loaded():
    d = directory(
        rep(1, "Ana", capacity=10),
        rep(2, "Ben"),
        rep(3, "Cleo"),
        rep(4, "Dev", team=3),
        rep(9, "Desk", team=2),
        territories=[
            TerritoryInfo("region", "US-TX", rep_id=1),
            TerritoryInfo("region", "US-TX", rep_id=2),
            TerritoryInfo("postal", "787", rep_id=3),
            TerritoryInfo("country", "CA", team_id=3),
        ],
    )
    target = RuleTarget(team_id=1, by_territory=True, strategy=LEAST_LOADED)
    austin = LeadFacts(postal_code="78701", region="US-TX", country="US")
    dallas = LeadFacts(postal_code="75201", region="US-TX", country="US")
    pick = assign(austin, target, d, RoutingState(), NOW)
    assert (pick.rep.name, pick.reason) == ("Cleo", "territory postal 787* → least-loaded: Cleo had 0 open")
    pick = assign(dallas, target, d, RoutingState(loads={1: 3, 2: 4}), NOW)
    assert pick.reason == "territory US-TX → least-loaded: Ana had 3 open of 10"
    # A team-owned territory outside the rule's team does not count; without a team, every team's does.
    toronto = LeadFacts(postal_code="M5V", country="CA")
    assert assign(toronto, target, d, RoutingState(), NOW).via_fallback
    anywhere = RuleTarget(by_territory=True)
    assert assign(toronto, anywhere, d, RoutingState(), NOW).rep.name == "Dev"
    nowhere = assign(LeadFacts(country="FR"), target, d, RoutingState(), NOW)
    assert nowhere.reason.startswith("no rep owns the territory of this lead (FR) → fallback team 'Front desk'")


def test_skills_narrow_to_reps_who_fit():
    d = directory(
        rep(1, "Ana", languages=frozenset({"en", "es"}), product_lines=frozenset({"roofing"})),
        rep(2, "Ben", languages=frozenset({"en"}), product_lines=frozenset({"roofing", "solar"})),
        rep(9, "Desk", team=2),
    )
    target = RuleTarget(team_id=1, by_skills=True)
    assert assign(LeadFacts(language="ES"), target, d, RoutingState(), NOW).rep.name == "Ana"
    assert assign(LeadFacts(product_line="solar"), target, d, RoutingState(), NOW).rep.name == "Ben"
    pick = assign(LeadFacts(language="fr"), target, d, RoutingState(), NOW)
    assert pick.rep.name == "Desk" and pick.reason.startswith("no rep has the skills fr → fallback")
    # A lead that needs nothing in particular goes to anyone.
    assert assign(LeadFacts(), target, d, RoutingState(), NOW).rep.name == "Ana"


def test_account_owner_first_if_they_can_take_it():
    target = RuleTarget(team_id=1, by_account_owner=True)
    pick = assign(LeadFacts(), target, SALES, RoutingState(), NOW, account_owner_id=3)
    assert (pick.rep.name, pick.reason) == ("Cleo", "account owner: Cleo already owns this account")
    away = replace(SALES.reps[3], absences=((NOW - timedelta(days=1), NOW + timedelta(days=1)),))
    d = directory(SALES.reps[1], SALES.reps[2], away, SALES.reps[9])
    pick = assign(LeadFacts(), target, d, RoutingState(), NOW, account_owner_id=3)
    assert pick.rep.name == "Ana" and pick.reason == "account owner Cleo unavailable → round-robin: Ana"


def test_working_hours_are_read_in_each_reps_time_zone():
    chicago = rep(1, "Ana", timezone="America/Chicago", hours=WEEKDAYS_9_TO_5)
    tokyo = rep(2, "Ben", timezone="Asia/Tokyo", hours=WEEKDAYS_9_TO_5)  # 00:00 Wednesday there
    assert chicago.on_shift(NOW) and not tokyo.on_shift(NOW)
    assert not chicago.on_shift(NOW - timedelta(minutes=1))
    assert tokyo.next_shift(NOW) == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 09:00 Wednesday in Tokyo
    picks, _ = run(RuleTarget(team_id=1), 2, d=directory(chicago, tokyo, rep(9, "Desk", team=2)))
    assert [p.rep.name for p in picks] == ["Ana", "Ana"]


def test_out_of_hours_goes_to_whoever_is_on_shift_or_to_the_fallback_per_rule():
    d = directory(
        rep(1, "Ana", hours=((0, time(9), time(10)),)),  # Mondays only
        rep(2, "Ben"),
        rep(9, "Desk", team=2),
        territories=[TerritoryInfo("region", "US-TX", rep_id=1)],
    )
    texas = LeadFacts(region="US-TX")
    on_shift = assign(texas, RuleTarget(team_id=1, by_territory=True), d, RoutingState(), NOW)
    assert on_shift.rep.name == "Ben"
    assert "1 off shift); taken by whoever is on shift" in on_shift.reason
    fallback = assign(texas, RuleTarget(team_id=1, by_territory=True, out_of_hours=FALLBACK), d, RoutingState(), NOW)
    assert fallback.rep.name == "Desk" and fallback.via_fallback


def test_no_rule_and_nobody_on_shift_goes_to_whoever_starts_first():
    late = rep(9, "Desk", team=2, timezone="America/New_York", hours=((2, time(8), time(17)),))
    early = rep(8, "Early", team=2, timezone="America/New_York", hours=((2, time(7), time(17)),))
    d = directory(late, early)
    pick = assign(LeadFacts(), None, d, RoutingState(), NOW - timedelta(hours=12))  # Tue 22:00 in New York
    assert pick.rep.name == "Early"
    assert (
        pick.reason
        == "no rule matched → fallback team 'Front desk': nobody on shift; Early is first on shift (Wed 07:00)"
    )


def test_nobody_at_all_leaves_the_lead_unassigned_with_the_reason():
    d = directory(rep(1, "Ana", active=False), fallback=None)
    pick = assign(LeadFacts(), RuleTarget(team_id=1), d, RoutingState(), NOW)
    assert pick.rep is None
    assert pick.reason == "nobody in the rule's team → no fallback team is set: left unassigned for a manager"


def test_excluded_reps_are_never_picked_again():
    picks, _ = run(RuleTarget(team_id=1), 3, exclude=frozenset({1, 2}))
    assert [p.rep.name for p in picks] == ["Cleo", "Cleo", "Cleo"]
    picks, _ = run(RuleTarget(team_id=1), 1, exclude=frozenset({1, 2, 3}))
    assert picks[0].rep.name == "Desk" and picks[0].via_fallback


# Ben's user cannot log in (the admin's Active box is off, or no usable password): never given anything.
LOCKED_OUT = directory(
    rep(1, "Ana", weight=1),
    rep(2, "Ben", weight=5, can_log_in=False),
    rep(3, "Cleo", weight=1),
    rep(9, "Desk", team=2),
    rep(8, "Gone", team=2, can_log_in=False),
    territories=[TerritoryInfo("region", "US-TX", rep_id=2), TerritoryInfo("region", "US-TX", rep_id=3)],
)


def test_a_rep_who_cannot_log_in_gets_no_lead_under_any_team_strategy():
    for strategy in ("round_robin", LEAST_LOADED, WEIGHTED):
        picks, _ = run(RuleTarget(team_id=1, strategy=strategy), 6, d=LOCKED_OUT)
        assert "Ben" not in {p.rep.name for p in picks}, strategy
        assert {p.rep.name for p in picks} == {"Ana", "Cleo"}, strategy
    # By territory (Ben owns Texas with Cleo) and by skills, within the team or across every team.
    for target in (RuleTarget(team_id=1, by_territory=True), RuleTarget(by_territory=True)):
        picks, _ = run(target, 3, d=LOCKED_OUT, facts=LeadFacts(region="US-TX"))
        assert [p.rep.name for p in picks] == ["Cleo"] * 3


def test_a_named_rep_or_account_owner_who_cannot_log_in_is_passed_over():
    named = assign(LeadFacts(), RuleTarget(rep_id=2), LOCKED_OUT, RoutingState(), NOW)
    assert named.rep.name == "Desk" and named.via_fallback
    assert named.reason.startswith("nobody in the rule's team → fallback team 'Front desk'")
    owner = assign(
        LeadFacts(), RuleTarget(team_id=1, by_account_owner=True), LOCKED_OUT, RoutingState(), NOW, account_owner_id=2
    )
    assert owner.rep.name == "Ana"
    assert owner.reason == "account owner Ben cannot log in → round-robin: Ana"


def test_the_fallback_and_its_first_on_shift_skip_who_cannot_log_in():
    picks, _ = run(None, 4, d=LOCKED_OUT)
    assert [p.rep.name for p in picks] == ["Desk"] * 4
    night = rep(8, "Gone", team=2, can_log_in=False, timezone="America/New_York", hours=((2, time(6), time(17)),))
    later = rep(9, "Desk", team=2, timezone="America/New_York", hours=((2, time(8), time(17)),))
    pick = assign(LeadFacts(), None, directory(night, later), RoutingState(), NOW - timedelta(hours=12))
    assert pick.reason.endswith("nobody on shift; Desk is first on shift (Wed 08:00)")
    # An SLA reassignment excludes who already had it; nobody left who can log in: unassigned for a manager.
    alone = directory(rep(1, "Ana"), rep(2, "Ben", can_log_in=False), rep(8, "Gone", team=2, can_log_in=False))
    pick = assign(LeadFacts(), RuleTarget(team_id=1), alone, RoutingState(), NOW, exclude=frozenset({1}))
    assert pick.rep is None and pick.reason.endswith("fallback team has no active rep: left unassigned for a manager")


def test_holidays_close_working_hours_but_not_a_rep_without_hours():
    chicago = rep(1, "Ana", timezone="America/Chicago", hours=WEEKDAYS_9_TO_5, holidays=frozenset({NOW.date()}))
    assert not chicago.on_shift(NOW)
    assert chicago.next_shift(NOW) == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday 09:00 in Chicago
    assert rep(2, "Ben", holidays=frozenset({NOW.date()})).on_shift(NOW)
