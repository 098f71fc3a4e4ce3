"""Quiet hours that know the law: the lead's state, the rule that applies and the next allowed minute on their clock.

The rules are the seeded rows (migration routing 0015, docs/quiet-hours.md). Every instant here is aware; the
verdict's ``until`` is compared in UTC, since that is what is stored.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from leads.models import Lead
from routing import quiet
from routing.models import Holiday, QuietHoursRule

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")


def at(tz: ZoneInfo, *args) -> datetime:
    return datetime(*args, tzinfo=tz)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def lead(region: str = "", timezone: str = "", phone: str = "") -> Lead:
    """A lead as capture leaves it: region and time zone from its ZIP (lead_locate), or only a phone."""
    return Lead(name="Dana", region=region, timezone=timezone, phone=phone)


def held_until(verdict: quiet.QuietVerdict) -> datetime:
    assert not verdict.allowed, verdict.why
    return verdict.until


def test_the_seeded_table_has_the_federal_rule_and_each_state_of_the_issue():
    regions = set(QuietHoursRule.objects.values_list("region", flat=True))
    assert {"US", "US-FL", "US-OK", "US-MD", "US-MS", "US-NJ", "US-CT", "US-RI", "US-TX", "US-LA", "US-AL"} <= regions
    for rule in QuietHoursRule.objects.all():
        assert rule.law and rule.checked_on == date(2026, 12, 1), rule
        rule.full_clean()  # every seeded row passes the admin's validation


def test_florida_at_830_pm_is_held_until_8_the_next_morning():
    florida = lead("US-FL", "America/New_York")
    verdict = quiet.quiet_verdict(florida, at(NY, 2026, 12, 3, 20, 30))
    assert held_until(verdict) == utc(2026, 12, 4, 13, 0) and verdict.until.tzinfo == UTC
    assert verdict.region == "US-FL"
    assert verdict.why.startswith("held for quiet hours in FL until 08:00 on Fri Dec 4")
    assert "the lead's clock, America/New_York" in verdict.why
    assert quiet.quiet_verdict(florida, at(NY, 2026, 12, 3, 19, 59)).allowed, "8 p.m. is the end, not 9"


def test_connecticut_at_830_am_is_held_until_9():
    verdict = quiet.quiet_verdict(lead("US-CT", "America/New_York"), at(NY, 2026, 12, 3, 8, 30))
    assert held_until(verdict) == at(NY, 2026, 12, 3, 9, 0)
    assert "held for quiet hours in CT until 09:00" in verdict.why


def test_rhode_island_saturday_after_5_and_sunday_wait_for_monday_9_and_a_holiday_for_tuesday():
    rhode_island = lead("US-RI", "America/New_York")
    saturday = quiet.quiet_verdict(rhode_island, at(NY, 2026, 12, 5, 17, 30))
    assert held_until(saturday) == at(NY, 2026, 12, 7, 9, 0), "no Sundays in Rhode Island"
    assert "held for quiet hours in RI until 09:00 on Mon Dec 7" in saturday.why
    assert quiet.quiet_verdict(rhode_island, at(NY, 2026, 12, 5, 16, 59)).allowed, "Saturday is 10 to 5"
    assert not quiet.quiet_verdict(rhode_island, at(NY, 2026, 12, 5, 9, 30)).allowed, "not before 10 on a Saturday"
    sunday = quiet.quiet_verdict(rhode_island, at(NY, 2026, 12, 6, 11, 0))
    assert held_until(sunday) == at(NY, 2026, 12, 7, 9, 0)
    Holiday.objects.create(date=date(2026, 12, 7), name="A state holiday")  # saved: the snapshot hears of it
    assert held_until(quiet.quiet_verdict(rhode_island, at(NY, 2026, 12, 6, 11, 0))) == at(NY, 2026, 12, 8, 9, 0)
    florida = quiet.quiet_verdict(lead("US-FL", "America/New_York"), at(NY, 2026, 12, 7, 11, 0))
    assert florida.allowed, "only rules that close on holidays close on them"


def test_texas_sunday_waits_until_noon_on_the_leads_clock():
    texas = lead("US-TX", "America/Chicago")
    verdict = quiet.quiet_verdict(texas, at(CHICAGO, 2026, 12, 6, 10, 0))
    assert held_until(verdict) == at(CHICAGO, 2026, 12, 6, 12, 0)
    assert "held for quiet hours in TX until 12:00 on Sun Dec 6" in verdict.why
    assert quiet.quiet_verdict(texas, at(CHICAGO, 2026, 12, 5, 10, 0)).allowed, "Saturday opens at 9"
    assert not quiet.quiet_verdict(texas, at(CHICAGO, 2026, 12, 7, 8, 30)).allowed, "weekdays open at 9"


def test_an_unknown_state_with_no_business_states_gets_the_federal_rule(settings):
    settings.BUSINESS_STATES = []
    nowhere = lead(timezone="America/New_York", phone="+18005550123")  # toll-free: no area code's state
    assert quiet.lead_place(nowhere) == quiet.Place((), "unknown")
    verdict = quiet.quiet_verdict(nowhere, at(NY, 2026, 12, 3, 21, 30))
    assert held_until(verdict) == at(NY, 2026, 12, 4, 8, 0)
    assert verdict.region == "US" and verdict.why.startswith("held for quiet hours in the US until 08:00 on Fri Dec 4")
    assert quiet.quiet_verdict(nowhere, at(NY, 2026, 12, 3, 20, 30)).allowed, "the federal rule ends at 9 p.m."


def test_an_unknown_state_gets_the_strictest_of_the_business_states(settings):
    settings.BUSINESS_STATES = ["US-FL", "CT"]
    nowhere = lead(timezone="America/New_York")
    morning = quiet.quiet_verdict(nowhere, at(NY, 2026, 12, 3, 8, 30))
    assert held_until(morning) == at(NY, 2026, 12, 3, 9, 0), "Connecticut's 9 a.m."
    evening = quiet.quiet_verdict(nowhere, at(NY, 2026, 12, 3, 20, 15))
    assert held_until(evening) == at(NY, 2026, 12, 4, 9, 0), "Florida's (and Connecticut's) 8 p.m."
    assert evening.region == "US-CT,US-FL"
    assert "held for quiet hours in CT/FL until 09:00" in evening.why
    assert "state unknown: the strictest of the business's states" in evening.why


def test_a_florida_305_number_without_a_zip_is_held_by_floridas_rule_on_floridas_clock(settings):
    settings.TIME_ZONE = "UTC"
    miami = lead(phone="+13055550123")  # no ZIP: no region, no time zone
    assert quiet.lead_place(miami) == quiet.Place(("US-FL",), "area code")
    assert quiet.lead_clock(miami) == NY, "the area code's zone, not the business's UTC"
    verdict = quiet.quiet_verdict(miami, at(NY, 2026, 12, 3, 20, 30))
    assert held_until(verdict) == at(NY, 2026, 12, 4, 8, 0)
    assert "held for quiet hours in FL until 08:00" in verdict.why and "state from the area code" in verdict.why


@pytest.mark.parametrize(
    ("phone", "region"),
    [("+12125550123", "US-NY"), ("+15128670950", "US-TX"), ("+14015550123", "US-RI"), ("+12025550123", "US-DC")],
)
def test_area_codes_name_their_state(phone, region):
    assert quiet.region_for_phone(phone) == region


def test_the_zip_wins_over_the_area_code():
    moved = lead("US-TX", "America/Chicago", phone="+13055550123")  # a Florida number, living in Texas
    assert quiet.lead_place(moved) == quiet.Place(("US-TX",), "ZIP")


def test_the_fall_back_night_in_new_york_holds_until_8_est():
    # Clocks go back at 02:00 EDT on Sun Nov 1, 2026: 01:30 happens twice; 08:00 that day is 13:00 UTC, not 12:00.
    florida = lead("US-FL", "America/New_York")
    first_0130 = utc(2026, 11, 1, 5, 30)
    assert first_0130.astimezone(NY).strftime("%H:%M %Z") == "01:30 EDT"
    assert held_until(quiet.quiet_verdict(florida, first_0130)) == utc(2026, 11, 1, 13, 0)
    second_0130 = utc(2026, 11, 1, 6, 30)
    assert second_0130.astimezone(NY).strftime("%H:%M %Z") == "01:30 EST"
    assert held_until(quiet.quiet_verdict(florida, second_0130)) == utc(2026, 11, 1, 13, 0)
    saturday_night = at(NY, 2026, 10, 31, 20, 30)  # EDT
    verdict = quiet.quiet_verdict(florida, saturday_night)
    assert held_until(verdict) == utc(2026, 11, 1, 13, 0) and "until 08:00 on Sun Nov 1" in verdict.why
    assert quiet.quiet_verdict(florida, utc(2026, 11, 1, 12, 30)).allowed is False, "07:30 EST"
    assert quiet.quiet_verdict(florida, utc(2026, 11, 1, 13, 0)).allowed


def test_the_spring_forward_night_in_new_york_holds_until_8_edt():
    # Clocks go forward at 02:00 EST on Sun Mar 8, 2026: 08:00 that day is 12:00 UTC, not 13:00.
    florida = lead("US-FL", "America/New_York")
    assert held_until(quiet.quiet_verdict(florida, utc(2026, 3, 8, 6, 30))) == utc(2026, 3, 8, 12, 0)  # 01:30 EST
    assert held_until(quiet.quiet_verdict(florida, utc(2026, 3, 8, 7, 30))) == utc(2026, 3, 8, 12, 0)  # 03:30 EDT
    assert held_until(quiet.quiet_verdict(florida, at(NY, 2026, 3, 7, 20, 30))) == utc(2026, 3, 8, 12, 0)


def test_a_channel_window_narrows_the_law_and_one_that_contradicts_it_yields_to_it():
    from routing.models import QuietHours

    florida = lead("US-FL", "America/New_York")
    QuietHours.objects.create(channel="sms", allowed_from=time(10), allowed_until=time(18))
    assert held_until(quiet.quiet_verdict(florida, at(NY, 2026, 12, 3, 9, 0))) == at(NY, 2026, 12, 3, 10, 0)
    QuietHours.objects.filter(channel="sms").delete()
    QuietHours.objects.create(channel="sms", allowed_from=time(22), allowed_until=time(23))  # never lawful
    assert held_until(quiet.quiet_verdict(florida, at(NY, 2026, 12, 3, 22, 30))) == at(NY, 2026, 12, 4, 8, 0)


def test_an_edited_rule_applies_at_once_and_keeps_its_history():
    florida = QuietHoursRule.objects.get(region="US-FL")
    florida.weekdays_from = time(9)
    florida.save()
    verdict = quiet.quiet_verdict(lead("US-FL", "America/New_York"), at(NY, 2026, 12, 3, 8, 30))
    assert held_until(verdict) == at(NY, 2026, 12, 3, 9, 0)
    assert florida.history.count() == 1, "the seed writes no history row; the edit does"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"region": "FL"}, "region"),
        ({"region": "CA-ON"}, "region"),
        ({"region": "US-ZZ"}, "region"),
        ({"weekdays_until": None}, "weekdays_until"),
        ({"saturday_from": time(18), "saturday_until": time(9)}, "saturday_until"),
        ({"weekdays_from": None, "weekdays_until": None}, "weekdays_from"),
    ],
)
def test_a_rule_with_a_bad_region_or_window_is_refused(fields, error_field):
    rule = QuietHoursRule(region="US-GA", name="Georgia", law="test", checked_on=date(2026, 12, 1))
    rule.weekdays_from, rule.weekdays_until = time(8), time(20)
    for name, value in fields.items():
        setattr(rule, name, value)
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert error_field in refused.value.message_dict


def test_a_rule_region_is_written_canonically():
    rule = QuietHoursRule(region=" us-ga ", law="test", checked_on=date(2026, 12, 1))
    rule.weekdays_from, rule.weekdays_until = time(8), time(20)
    rule.full_clean()
    assert rule.region == "US-GA"


def test_the_admin_lists_each_rule_with_its_days_and_source(admin_client):
    listing = admin_client.get("/admin/routing/quiethoursrule/").content.decode()
    assert "US-RI" in listing and "09:00–18:00" in listing and "closed" in listing
    rhode_island = QuietHoursRule.objects.get(region="US-RI")
    page = admin_client.get(f"/admin/routing/quiethoursrule/{rhode_island.pk}/change/").content.decode()
    assert "5-61-3.6" in page and "webserver.rilin.state.ri.us" in page
