"""The rep's day in a real browser: log in, edit a draft inline, approve it, see it sent."""

import pytest
from playwright.sync_api import expect

from approvals.models import Action
from leads.services import CaptureEvent, lead_capture
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft(demo):
    result = lead_capture(
        event=CaptureEvent(
            channel="form", source="website-quote", name="Maya Lopez", phone="512 867 0100", message="Roof quote please"
        )
    )
    return Action.objects.get(lead=result.lead)


def test_rep_edits_and_approves_a_draft_and_sees_it_sent(page, live_server, draft, sms_outbox):
    log_in(page, live_server.url, "rep1")
    row = page.locator(f"#action-{draft.pk}")
    expect(row).to_contain_text("Roof quote please")
    expect(row).to_contain_text("Hi Maya")
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)

    row.get_by_role("button", name="Edit").click()
    textarea = page.locator(f"#action-{draft.pk} textarea[name=body]")
    textarea.fill("Hi Maya, Ana here. Free for a call at 4?")
    page.locator(f"#action-{draft.pk}").get_by_role("button", name="Save and approve").click()

    expect(page.locator(f"#action-{draft.pk}")).to_contain_text("Done by rep1")
    assert [m["body"] for m in sms_outbox] == ["Hi Maya, Ana here. Free for a call at 4?"]

    page.get_by_role("link", name="Maya Lopez").click()
    expect(page.locator("ol.timeline")).to_contain_text("Free for a call at 4?")
    expect(page.locator("ol.timeline")).to_contain_text("Approved")
    expect(page.locator("ol.timeline")).to_contain_text("sent")
    page.screenshot(path=str(ARTIFACTS / "lead.png"), full_page=True)


def test_too_long_sms_is_refused_in_place(page, live_server, draft, sms_outbox):
    log_in(page, live_server.url, "rep1")
    page.locator(f"#action-{draft.pk}").get_by_role("button", name="Edit").click()
    textarea = page.locator(f"#action-{draft.pk} textarea")
    expect(textarea).to_be_visible()
    # The browser's maxlength stops typing; a crafted post (or an old page) must still be refused by the server.
    textarea.evaluate("el => el.removeAttribute('maxlength')")
    textarea.fill("x" * 400)
    page.locator(f"#action-{draft.pk}").get_by_role("button", name="Save and approve").click()
    expect(page.locator(f"#action-{draft.pk} [role=alert]")).to_contain_text("at most 320 characters")
    assert sms_outbox == []


def test_other_rep_cannot_open_the_lead_or_see_the_draft(page, live_server, draft):
    log_in(page, live_server.url, "rep2")
    expect(page.locator("main")).to_contain_text("Nothing waiting")
    response = page.goto(f"{live_server.url}/portal/leads/{draft.lead_id}/")
    assert response.status == 404
