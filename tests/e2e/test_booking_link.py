"""A lead books from the self-scheduling link on a phone, in Chromium: the open times fit the screen, a tap books."""

import pytest
from playwright.sync_api import expect

from leads.models import Appointment, Lead
from routing.booking.offers import link_for, offer_create
from tests.conftest import policy_set
from tests.e2e.conftest import ARTIFACTS
from tests.routing.booking_setup import booking_team

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_lead_books_a_time_from_the_link_at_phone_width(browser, live_server, demo):
    policy_set("booking", mode="auto")
    estimate = booking_team(2)
    lead = Lead.objects.create(name="Dana", phone="+15128670101", timezone="America/Denver")
    url = link_for(offer_create(lead, estimate, [], language="en")).replace("http://localhost:8000", live_server.url)
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_have_text("Estimate visit")
        expect(page.get_by_text("Times are on your clock (America/Denver)")).to_be_visible()
        first = page.locator("ul.times button").first
        expect(first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways on a phone"
        box = first.bounding_box()
        assert box["height"] >= 44, "a time is too small to tap"
        page.screenshot(path=str(ARTIFACTS / "booking-link-phone.png"), full_page=False)
        first.tap()
        expect(page.locator("#outcome")).to_contain_text("You're booked")
        expect(page.get_by_role("button", name="Cancel this appointment")).to_be_visible()
        assert Appointment.objects.filter(lead=lead, status="booked").count() == 1
        page.get_by_role("button", name="Cancel this appointment").tap()
        expect(page.locator("#outcome")).to_contain_text("Your appointment is cancelled.")
        assert Appointment.objects.get(lead=lead).status == Appointment.Status.CANCELLED
    finally:
        context.close()
