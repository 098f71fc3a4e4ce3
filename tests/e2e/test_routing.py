"""Routing in a real browser: a rep accepts a lead and logs a call; a manager replays an edited rule."""

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from leads.services import CaptureEvent, lead_capture
from routing.models import RoutingRule
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def captured(phone: str, postal_code: str) -> Lead:
    event = CaptureEvent(
        channel="form", source="website-quote", name="Maya Lopez", phone=phone, postal_code=postal_code, message="Roof"
    )
    return lead_capture(event=event).lead


def test_rep_accepts_the_lead_and_logs_a_call(page, live_server, demo):
    lead = captured("512 867 0100", "78701")
    log_in(page, live_server.url, "rep1")
    page.goto(f"{live_server.url}/portal/leads/{lead.pk}/")
    expect(page.locator("dl.facts")).to_contain_text("US-TX")
    page.get_by_role("button", name="Accept lead").click()
    expect(page.locator("ol.timeline")).to_contain_text("First touch")
    expect(page.get_by_role("button", name="Accept lead")).to_have_count(0)

    page.get_by_role("button", name="Log call").click()  # empty note: the browser posts, the server refuses
    expect(page.locator("[role=alert]")).to_contain_text("Say what happened on the call.")
    page.get_by_label("Log a call").fill("Booked a site visit for Thursday")
    page.get_by_role("button", name="Log call").click()
    expect(page.locator("ol.timeline")).to_contain_text("Booked a site visit for Thursday")
    page.screenshot(path=str(ARTIFACTS / "lead-touch.png"), full_page=True)
    assert Lead.objects.get(pk=lead.pk).first_touch_at is not None


def test_manager_replays_an_edited_rule_before_saving(page, live_server, demo):
    for n in range(4):
        captured(f"512 867 01{n:02d}", "78701" if n % 2 else "30301")
    rule = RoutingRule.objects.get(name="Texas")
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/admin/routing/routingrule/{rule.pk}/change/")
    page.get_by_label("Conditions").fill("region is US-GA")
    page.get_by_role("button", name="Replay").click()
    result = page.locator("#replay-result")
    expect(result).to_contain_text("Replayed the last 4 leads. This rule takes 2 of them now and 2 with your edits")
    expect(result).to_contain_text("Leads that would move")
    page.screenshot(path=str(ARTIFACTS / "rule-replay.png"), full_page=True)
    rule.refresh_from_db()
    assert rule.conditions["conditions"][0]["value"] == "US-TX"
