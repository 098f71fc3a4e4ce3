"""Reports in a real browser: a manager picks a period, follows a leak to its lead, and filters the log."""

import pytest
from playwright.sync_api import expect

from tests.audit.conftest import week_leads
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def week(demo):
    return week_leads()


@pytest.mark.usefixtures("week")
def test_manager_reads_speed_to_lead_follows_a_leak_and_filters_the_log(page, live_server):
    log_in(page, live_server.url, "manager")
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("From").fill("2026-10-01")
    page.get_by_label("to", exact=True).fill("2026-10-07")
    page.get_by_role("button", name="Show").click()
    overall = page.locator("table.figures").first
    expect(overall).to_contain_text("All leads")
    expect(overall.locator("tbody tr").first).to_contain_text("2 min")  # the p50 worked out by hand
    expect(page.locator("svg.bars").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "report-speed.png"), full_page=True)

    page.get_by_role("link", name="Leaks").click()
    page.get_by_role("link", name="No response within 5 minutes").click()
    expect(page.locator("h1")).to_have_text("No response within 5 minutes")
    page.get_by_role("link", name="L4").click()
    expect(page.locator("h1")).to_have_text("L4")

    page.get_by_role("link", name="Log").click()
    page.get_by_label("Step").select_option(label="Stage changed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.log")).to_contain_text("Nothing matches these filters.")
