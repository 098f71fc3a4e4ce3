import pytest
from django.test import Client

from approvals.models import Action, Policy
from approvals.services import action_approve
from integrations.models import ChatSession, ChatWidget
from leads.models import InboundEvent, Lead
from tests.conftest import policy_set, user

pytestmark = pytest.mark.django_db
URL = "/integrations/chat/site/messages/"
ORIGIN = "https://www.acmeroofing.example"


@pytest.fixture
def widget(demo):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    return ChatWidget.objects.create(slug="site", name="Acme chat", source="website-chat", allowed_origins=ORIGIN)


def say(body, origin=ORIGIN, **extra):
    return Client().post(URL, body, content_type="application/json", headers={"Origin": origin, **extra})


def test_a_visitor_chats_gets_a_drafted_reply_in_the_chat_after_approval(widget, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = say(
            {"client_id": "abcdef0123", "text": "Roof quote please, 30301", "name": "Lin", "phone": "5128670700"}
        )
    assert first.status_code == 202 and first["Access-Control-Allow-Origin"] == ORIGIN
    token = first.json()["conversation"]
    lead = Lead.objects.get(phone="+15128670700")
    draft = Action.objects.get(lead=lead)
    assert draft.kind == Action.Kind.SEND_CHAT and draft.status == Action.Status.PENDING
    poll = Client().get(URL, {"conversation": token}, headers={"Origin": ORIGIN})
    assert poll.json() == {"messages": []}
    with django_capture_on_commit_callbacks(execute=True):
        action_approve(action_id=draft.pk, user=user(lead.owner.username))
    replies = Client().get(URL, {"conversation": token}, headers={"Origin": ORIGIN}).json()["messages"]
    assert [r["body"] for r in replies] == [draft.body]
    after = Client().get(URL, {"conversation": token, "after": replies[-1]["id"]}).json()
    assert after == {"messages": []}
    with django_capture_on_commit_callbacks(execute=True):
        again = say({"client_id": "abcdef0124", "text": "Tuesday works", "conversation": token})
    assert again.json()["conversation"] == token
    assert lead.events.count() == 2 and Lead.objects.count() == 1


def test_a_retried_post_is_captured_once(widget, django_capture_on_commit_callbacks):
    body = {"client_id": "retry00001", "text": "Gutter quote 30301", "email": "mo@example.com"}
    with django_capture_on_commit_callbacks(execute=True):
        one, two = say(body), say(body)
    assert one.json()["conversation"] == two.json()["conversation"]
    assert InboundEvent.objects.count() == 1 and ChatSession.objects.count() == 1


def test_bad_chat_input_names_the_field(widget):
    no_contact = say({"client_id": "abcdef0125", "text": "hello"})
    assert no_contact.status_code == 400 and {"phone", "email"} <= set(no_contact.json())
    assert say({"client_id": "short", "text": "hi", "email": "a@b.co"}).json().keys() == {"client_id"}
    assert say({"client_id": "abcdef0126", "text": "", "email": "a@b.co"}).json().keys() == {"text"}
    too_long = say({"client_id": "abcdef0127", "text": "x" * 2001, "email": "a@b.co"})
    assert too_long.status_code == 400 and "text" in too_long.json()
    junk = Client().post(URL, b"\xff\xfe", content_type="application/json", headers={"Origin": ORIGIN})
    assert junk.status_code == 400 and "body" in junk.json()
    unknown = say({"client_id": "abcdef0128", "text": "hi", "conversation": "not-a-token"})
    assert unknown.status_code == 404 and "conversation" in unknown.json()
    assert Client().get(URL, {"conversation": "nope"}).status_code == 404
    assert not Lead.objects.exists()


def test_other_sites_unknown_widgets_and_floods_are_refused(widget, settings):
    assert (
        say({"client_id": "abcdef0129", "text": "hi", "email": "a@b.co"}, origin="https://evil.example").status_code
        == 403
    )
    assert Client().post("/integrations/chat/nope/messages/", {}, content_type="application/json").status_code == 404
    preflight = Client().options(URL, headers={"Origin": ORIGIN})
    assert preflight.status_code == 204 and "POST" in preflight["Access-Control-Allow-Methods"]
    settings.CHAT_RATE_LIMIT_PER_MINUTE = 2
    codes = [
        say({"client_id": f"flood{i:05d}", "text": "spam", "email": f"s{i}@spam.example"}).status_code for i in range(3)
    ]
    assert codes[-1] == 429


def test_the_config_endpoint_gives_the_greeting(widget):
    answer = Client().get("/integrations/chat/site/", headers={"Origin": ORIGIN})
    assert answer.status_code == 200 and answer.json()["greeting"].startswith("Hi!")
    assert Client().get("/integrations/chat/site/", headers={"Origin": "https://evil.example"}).status_code == 404


def test_the_demo_page_embeds_the_script(demo):
    page = Client().get("/integrations/chat/website-chat/demo/")
    assert page.status_code == 200 and b'data-nightshift-chat="website-chat"' in page.content
    assert Client().get("/integrations/chat/nope/demo/").status_code == 404


def test_the_chat_boxs_consent_box_is_kept_in_the_ledger_with_its_words(widget):
    config = Client().get("/integrations/chat/site/", headers={"Origin": ORIGIN}).json()
    assert "Reply STOP to opt out" in config["consent_text"] and config["consent_version"] == "chat-1"
    body = {
        "client_id": "abcdefgh1",
        "text": "Do you fix gutters?",
        "phone": "5128670700",
        "consent": True,
        "consent_text": config["consent_text"],
        "consent_version": config["consent_version"],
    }
    assert say(body, **{"User-Agent": "Mozilla/5.0 chat"}).status_code == 202
    from leads.models import ConsentRecord

    record = ConsentRecord.objects.get()
    assert (record.kind, record.how, record.channel, record.disclosure_version) == ("opt_in", "form", "sms", "chat-1")
    assert (
        record.words == config["consent_text"] and record.page_url == ORIGIN and record.user_agent == "Mozilla/5.0 chat"
    )
    unticked = {**body, "client_id": "abcdefgh2", "phone": "5128670701", "consent": False}
    assert say(unticked).status_code == 202 and ConsentRecord.objects.count() == 1
