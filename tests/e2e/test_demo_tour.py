"""The first hour, in a real browser: the demo seeded with 90 days of history, a manager walks the tour.

Queue, a lead's page, speed to lead before and after, ROI, AI quality, and the Autonomy page offering to graduate
appointment reminders. It takes the README's three screenshots on the way: into docs/screenshots/ when SCREENSHOTS=1
(``make screenshots``), else into a temporary directory, so an ordinary run leaves the repository as it was.
"""

import os
import re
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from audit.models import ReportSettings
from leads.models import Lead
from routing.demo.rows import MARK
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SEED_SECONDS = 60  # the budget for 90 days of a 5-rep business on 2 cores


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = DOCS if os.environ.get("SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def showcase_lead() -> Lead:
    """A lead whose page tells a whole story: answered at once, quoted, booked and won, after automation."""
    history = Lead.objects.filter(events__external_id__startswith=MARK, stage="won", channel="form")
    told = history.exclude(name="").filter(appointments__isnull=False, actions__workflow="quote")
    return told.filter(actions__workflow="first_response", actions__decided_by=None).order_by("-created_at").first()


def test_a_manager_tours_ninety_days_of_the_business(page, live_server, shots):
    started = time.perf_counter()
    out = StringIO()
    call_command("seed_demo", "--force", "--history", "90", stdout=out)
    seconds = time.perf_counter() - started
    assert seconds < SEED_SECONDS, out.getvalue()
    assert "History seeded in" in out.getvalue()
    baseline = ReportSettings.load()
    first_day = baseline.baseline_start
    lead = showcase_lead()

    log_in(page, live_server.url, "manager")
    expect(page.locator("h1")).to_have_text("Waiting for you")
    expect(page.locator("#queue-rows .count")).to_have_text(re.compile(r"^[1-9][\d,]* waiting$"))
    page.screenshot(path=str(shots / "queue.png"))

    page.goto(f"{live_server.url}/portal/leads/{lead.pk}/")
    expect(page.locator("h1")).to_have_text(lead.name)
    timeline = page.locator(".timeline")
    for step in ("Qualified", "Routed", "Executed · first response", "Executed · quote", "Appointment booked"):
        expect(timeline).to_contain_text(step)
    expect(page.locator("body")).to_contain_text("Won")
    page.screenshot(path=str(shots / "lead.png"))

    page.get_by_role("link", name="Reports").click()
    page.get_by_label("From").fill(f"{first_day:%Y-%m-%d}")
    page.get_by_role("button", name="Show").click()
    chart = page.locator("svg.chart").first
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).to_have_text("Speed to lead by week: p50 and p90")
    rows = page.locator("table.figures").nth(1).locator("tbody tr")
    # A full week on each side: the second (the first may begin mid-week) and the last but one (this one has begun).
    before, after = rows.nth(1), rows.nth(rows.count() - 2)
    expect(before).to_contain_text("yes")  # a baseline week: the first answer took hours
    expect(before.locator("td").nth(4)).to_have_text(re.compile(r"\d (min|h)$"))  # minutes or hours
    expect(after.locator("td").nth(4)).to_have_text(re.compile(r"^\d+ s$"))  # after automation: seconds
    page.get_by_role("heading", name="Capture to first response").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -60)")
    page.screenshot(path=str(shots / "speed-to-lead.png"))

    page.get_by_role("link", name="ROI").click()
    lost = page.locator("table.figures").first
    expect(lost).to_contain_text("Baseline")
    expect(lost).to_contain_text("Now")
    expect(page.locator("body")).to_contain_text("recovered")

    page.get_by_role("link", name="AI quality").click()
    expect(page.locator("svg.chart").first.locator("title").first).to_have_text(
        "What happened to each workflow's proposals"
    )
    expect(page.locator("body")).to_contain_text("Appointment reminder")

    page.get_by_role("link", name="Autonomy").click()
    graduate = page.get_by_role("button", name="Graduate to auto")
    expect(graduate).to_have_count(1)
    reminders = page.locator("#workflow-appointment_reminder")
    expect(reminders).to_contain_text(re.compile(r"9\d% agreed over the last 200"))
    expect(page.locator("#workflow-follow_up")).not_to_contain_text("Graduate to auto")
    graduate.click()
    expect(page.locator("#workflow-appointment_reminder .badge")).to_have_text("auto")
