"""Cadences in a real browser: a rep enrolls a lead, pauses, resumes and stops it; a manager reads the report."""

import pytest
from playwright.sync_api import expect

from leads.services import CaptureEvent, lead_capture
from routing.models import Enrollment
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_rep_runs_a_lead_through_a_cadence_and_the_manager_sees_it(page, live_server, demo):
    event = CaptureEvent(
        channel="form", source="website-quote", name="Maya Lopez", phone="512 867 0100", message="Roof"
    )
    lead = lead_capture(event=event).lead
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/portal/leads/{lead.pk}/")
    panel = page.locator("#enrollments")
    expect(panel).to_contain_text("Not in any cadence.")
    panel.get_by_label("Enroll in").select_option(label="Quote follow-up")
    panel.get_by_role("button", name="Enroll").click()
    expect(panel).to_contain_text("Step 1 of 4: SMS to the lead 'Quote check-in (SMS)'")

    panel.get_by_role("button", name="Pause").click()
    expect(panel).to_contain_text("Paused")
    panel.get_by_role("button", name="Resume").click()
    expect(panel).to_contain_text("Active")
    panel.get_by_role("button", name="Skip step").click()
    expect(panel).to_contain_text("Step 2 of 4: Call task for the rep")
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Stop").click()
    expect(panel).to_contain_text("Stopped by manager.")
    expect(panel.get_by_role("button", name="Stop")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "cadence-lead.png"), full_page=True)

    page.reload()
    expect(page.locator("ol.timeline")).to_contain_text("manager stopped 'Quote follow-up'")
    page.get_by_role("link", name="Cadences").click()
    report = page.locator("#cadence-" + str(Enrollment.objects.get().cadence_id))
    expect(report).to_contain_text("Quote follow-up")
    expect(report.locator("table.figures tbody td").first).to_have_text("1")
    expect(report.locator("table.steps tbody tr").nth(0)).to_contain_text("Quote check-in (SMS)")
    page.screenshot(path=str(ARTIFACTS / "cadence-report.png"), full_page=True)
