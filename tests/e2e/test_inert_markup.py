"""A lead can write anything: markup in a name, a source, a message or a payload shows as text, in Chromium.

Each hostile string would set ``window.__ran`` (or open a dialog) if a page ran it. The pages a rep and a
manager open with that lead on them are walked, and each must show the string literally and run nothing.
"""

import pytest
from playwright.sync_api import expect

from leads.services import CaptureEvent, lead_capture
from routing.tasks import event_process
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

NAME = '<img src=x onerror="window.__ran=1;alert(1)">Maya'
SOURCE = "ad<script>window.__ran=2</script>"
MESSAGE = '<svg onload="window.__ran=3">Roof quote</svg> "><iframe srcdoc="<script>parent.__ran=4</script>">'
PAYLOAD_VALUE = "<b onmouseover=window.__ran=5>hover</b>{{ 7*7 }}"


@pytest.fixture
def hostile_lead(demo):
    result = lead_capture(
        event=CaptureEvent(
            channel="form",
            source=SOURCE,
            name=NAME,
            phone="512 867 0199",
            message=MESSAGE,
            payload={"utm_campaign": PAYLOAD_VALUE},
        )
    )
    event_process(event_id=result.event.pk)
    return result.lead


def _runs_nothing(page) -> None:
    assert page.evaluate("() => window.__ran") is None, "a page ran markup a lead wrote"


def test_markup_a_lead_writes_renders_as_text_in_portal_and_admin(page, live_server, hostile_lead):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server.url, "manager")

    page.goto(f"{live_server.url}/portal/leads/")
    expect(page.locator("main")).to_contain_text(NAME)
    _runs_nothing(page)

    page.goto(f"{live_server.url}/portal/leads/{hostile_lead.pk}/")
    main = page.locator("main")
    expect(main).to_contain_text(NAME)
    expect(main).to_contain_text("Roof quote")
    expect(main).to_contain_text('<svg onload="window.__ran=3">')
    assert page.locator("main svg[onload], main iframe[srcdoc], main img[onerror]").count() == 0
    _runs_nothing(page)

    page.goto(f"{live_server.url}/portal/log/")
    _runs_nothing(page)

    for path in (
        f"/admin/leads/lead/{hostile_lead.pk}/change/",
        "/admin/leads/lead/",
        "/admin/leads/inboundevent/",
        f"/admin/leads/inboundevent/{hostile_lead.events.get().pk}/change/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        expect(page.locator("body")).to_contain_text("Maya")
        assert page.locator("img[onerror], svg[onload], iframe[srcdoc], b[onmouseover]").count() == 0, path
        _runs_nothing(page)

    page.goto(f"{live_server.url}/admin/leads/inboundevent/{hostile_lead.events.get().pk}/change/")
    expect(page.locator("body")).to_contain_text("{{ 7*7 }}")
    assert dialogs == []
