"""A visitor on a customer's site chats through the embedded script, in a real browser on another origin."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from approvals.models import Action, Policy
from approvals.services import action_approve
from integrations.models import ChatWidget
from leads.models import Lead
from tests.conftest import policy_set, user
from tests.e2e.conftest import ARTIFACTS
from tests.fakes.http_server import BackgroundServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def customer_site(live_server):
    """A customer's page on its own origin that embeds the chat script from Nightshift."""
    html = (
        "<!doctype html><html><head><title>Acme Roofing</title></head><body><h1>Acme Roofing</h1>"
        f'<script src="{live_server.url}/static/js/chat.js" data-nightshift-chat="site" data-poll-ms="300" async>'
        "</script></body></html>"
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    site = BackgroundServer()
    port = site._serve(ThreadingHTTPServer(("127.0.0.1", 0), Page))
    with site:
        yield f"http://127.0.0.1:{port}"


def test_a_visitor_chats_and_sees_the_approved_reply(page, demo, customer_site):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    ChatWidget.objects.create(slug="site", name="Acme chat", source="website-chat", allowed_origins=customer_site)
    page.goto(customer_site)
    page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog", name="Chat")
    expect(chat).to_contain_text("How can we help?")
    chat.locator("input[name=contact]").fill("512 867 0800")
    chat.locator("input[name=name]").fill("Noor")
    chat.locator("textarea[name=text]").fill("Can you quote a roof repair? 30301")
    chat.get_by_role("button", name="Send").click()
    expect(chat).to_contain_text("Can you quote a roof repair? 30301")
    expect(chat.locator("input[name=contact]")).to_be_hidden()

    lead = Lead.objects.get(phone="+15128670800")
    draft = Action.objects.get(lead=lead)
    assert draft.kind == Action.Kind.SEND_CHAT
    action_approve(action_id=draft.pk, user=user(lead.owner.username))
    expect(chat).to_contain_text(draft.body[:40])
    page.screenshot(path=str(ARTIFACTS / "chat.png"))

    chat.locator("textarea[name=text]").fill("")
    chat.get_by_role("button", name="Send").click()
    assert lead.events.count() == 1
