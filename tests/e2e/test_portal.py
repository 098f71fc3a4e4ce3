"""The rep's day in a real browser: log in, edit a draft inline, approve it, see it sent."""

import re

import pytest
from playwright.sync_api import expect

from approvals.models import Action
from leads.services import CaptureEvent, lead_capture
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.django_db(transaction=True)


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
    # 300 characters with one emoji: UCS-2, 5 segments; the server refuses it whatever the page allowed.
    textarea.fill("x" * 299 + "🏠")
    page.locator(f"#action-{draft.pk}").get_by_role("button", name="Save and approve").click()
    expect(page.locator(f"#action-{draft.pk} [role=alert]")).to_contain_text(
        "5 segments · UCS-2 because of 🏠; the limit is 3."
    )
    assert sms_outbox == []


def test_other_rep_cannot_open_the_lead_or_see_the_draft(page, live_server, draft):
    log_in(page, live_server.url, "rep2")
    expect(page.locator("main")).to_contain_text("Nothing waiting")
    response = page.goto(f"{live_server.url}/portal/leads/{draft.lead_id}/")
    assert response.status == 404


def test_manager_gates_quotes_over_5000_and_sees_a_7500_quote_wait(page, live_server, demo, sms_outbox):
    log_in(page, live_server.url, "manager")
    page.get_by_role("link", name="Autonomy").click()
    quote = page.locator("#workflow-quote")
    quote.get_by_text("Add a gate").click()
    quote.locator("input[name=name]").fill("Quotes over 5,000")
    quote.locator("textarea[name=conditions]").fill("amount > 5000")
    quote.get_by_role("button", name="Add gate").click()
    expect(page.locator("#workflow-quote .gates")).to_contain_text("Quotes over 5,000: amount > 5000")
    page.screenshot(path=str(ARTIFACTS / "autonomy.png"), full_page=True)

    lead = lead_capture(
        event=CaptureEvent(
            channel="form", source="website-quote", name="Quinn Ray", phone="512 867 0177", message="Roof"
        )
    ).lead
    page.goto(f"{live_server.url}/portal/leads/{lead.pk}/")
    page.fill("input[name=amount]", "7500")
    page.fill("textarea[name=quote_body]", "Full roof replacement")
    page.get_by_role("button", name="Send quote").click()
    expect(page.locator("main")).to_contain_text("gate 'Quotes over 5,000': quote amount 7,500 > 5,000")

    page.goto(f"{live_server.url}/portal/queue/?escalation=gate")
    waiting = page.locator("article.action", has_text="Quinn Ray")
    expect(waiting).to_contain_text("Escalated to managers: gate 'Quotes over 5,000': quote amount 7,500 > 5,000")
    assert [m["body"] for m in sms_outbox] == []
    waiting.get_by_role("button", name="Approve").click()
    expect(page.locator("article.action", has_text="Quinn Ray")).to_contain_text("Done by manager")
    assert [m["body"] for m in sms_outbox] == ["Full roof replacement"]


def test_keyboard_and_bulk_approve(page, live_server, demo, sms_outbox):
    drafts = [
        Action.objects.get(
            lead=lead_capture(
                event=CaptureEvent(
                    channel="form", source="website-quote", name=name, phone=f"512 867 02{i:02d}", message="Gutters"
                )
            ).lead
        )
        for i, name in enumerate(["Kim One", "Kim Two", "Kim Three"])
    ]
    # Round-robin spreads the three over the reps; the manager's queue holds them all.
    log_in(page, live_server.url, "manager")
    page.keyboard.press("j")
    expect(page.locator(f"#action-{drafts[0].pk}")).to_have_class(re.compile("current"))
    page.keyboard.press("a")
    expect(page.locator(f"#action-{drafts[0].pk}")).to_contain_text("Done by manager")
    for action in drafts[1:]:
        page.locator(f"#action-{action.pk} input[type=checkbox]").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.locator("#bulk-message")).to_contain_text("Approved 2")
    for action in drafts[1:]:
        expect(page.locator(f"#action-{action.pk}")).to_contain_text("Done by manager")
    assert len(sms_outbox) == 3


def test_queue_and_lead_page_work_at_phone_width(browser, live_server, draft):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        log_in(phone, live_server.url, "rep1")
        row = phone.locator(f"#action-{draft.pk}")
        expect(row.get_by_role("button", name="Approve")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the queue scrolls sideways at phone width ({width}px)"
        phone.screenshot(path=str(ARTIFACTS / "queue-phone.png"), full_page=True)
        phone.goto(f"{live_server.url}/portal/leads/{draft.lead_id}/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(ARTIFACTS / "lead-phone.png"), full_page=True)
    finally:
        context.close()


def test_a_rep_cannot_open_another_reps_action(page, live_server, draft):
    log_in(page, live_server.url, "rep2")
    response = page.goto(f"{live_server.url}/portal/actions/{draft.pk}/")
    assert response.status == 404
