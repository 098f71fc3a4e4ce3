"""An SMS's segments in a real browser: the count and its encoding change as the rep types, and the look-alike
button puts the GSM-7 character in the text."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, htmx_settled, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_editor_counts_segments_as_the_rep_types_and_offers_the_lookalike(page, live_server, draft, sms_outbox):
    log_in(page, live_server.url, "rep1")
    row = page.locator(f"#action-{draft.pk}")
    expect(row.locator(".sms-count")).to_have_text(re.compile(r"^\s*1 segment · GSM-7\s*$"))
    row.get_by_role("button", name="Edit").click()
    textarea = page.locator(f"#sms-body-{draft.pk}")
    count = page.locator(f"#sms-count-{draft.pk}")
    expect(textarea).to_be_visible()
    htmx_settled(page)

    textarea.fill("x" * 200)
    expect(count).to_contain_text("2 segments · GSM-7")
    textarea.press("End")
    textarea.press_sequentially("’")  # 201 UCS-2 units: three segments of 67
    expect(count).to_contain_text("3 segments · UCS-2 because of ’")
    fix = count.get_by_role("button", name="use ' instead")
    expect(fix).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "sms-segments.png"), full_page=True)
    fix.click()
    expect(count).to_contain_text("2 segments · GSM-7")
    assert textarea.input_value() == "x" * 200 + "'"

    textarea.fill("x" * 299 + "🏠")
    expect(count).to_contain_text("5 segments · UCS-2 because of 🏠; the limit is 3")
    expect(count).to_have_class(re.compile("over"))
    expect(count.locator("button")).to_have_count(0)  # an emoji has no GSM-7 look-alike

    textarea.fill("Hi Maya — Ana here. Free at 4?")
    expect(count).to_contain_text("1 segment · UCS-2 because of —")
    count.get_by_role("button", name="use - instead").click()
    expect(count).to_contain_text("1 segment · GSM-7")
    row.get_by_role("button", name="Save and approve").click()
    expect(row).to_contain_text("Done by rep1")
    assert [m["body"] for m in sms_outbox] == ["Hi Maya - Ana here. Free at 4?"]


def test_the_lead_pages_reply_box_counts_too_and_a_name_is_offered_not_changed(page, live_server, draft, sms_outbox):
    log_in(page, live_server.url, "rep1")
    page.goto(f"{live_server.url}/portal/leads/{draft.lead_id}/")
    expect(page.locator(f"#sms-count-{draft.pk}")).to_contain_text("1 segment · GSM-7")
    page.locator("#sms-body-reply").fill("Hi Łukasz, see you at 4")
    count = page.locator("#sms-count-reply")
    expect(count).to_contain_text("1 segment · UCS-2 because of Ł")
    expect(count).to_contain_text("a different spelling")
    assert page.locator("#sms-body-reply").input_value() == "Hi Łukasz, see you at 4", "offered, never applied"
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("ol.timeline")).to_contain_text("Hi Łukasz, see you at 4")
    assert [m["body"] for m in sms_outbox] == ["Hi Łukasz, see you at 4"]
