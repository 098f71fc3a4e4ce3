import io
from email.message import EmailMessage

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from approvals.models import Action, Policy
from approvals.tasks import action_execute
from integrations.models import InboundWebhook
from leads.models import InboundEvent, Lead, Message
from tests.conftest import policy_set
from tests.fakes.imap_server import ImapServer

pytestmark = pytest.mark.django_db
INBOUND = "/integrations/email/inbound/"


def mime(
    sender="Uma Patel <uma@example.com>", subject="Roof quote", body="Need a new roof, 30301.", **headers
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "leads@nightshift.example"
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("message_id", "<m1@mail.example.com>")
    for name, value in headers.items():
        message[name.replace("_", "-").title()] = value
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture
def secret(settings):
    settings.EMAIL_INBOUND_SECRET = "mail-secret"
    return "mail-secret"


def post(data, secret="mail-secret"):
    return Client().post(INBOUND + f"?secret={secret}", data)


def test_a_raw_inbound_email_is_stored_once_and_captured(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post({"email": mime().decode()})
        again = post({"email": mime().decode()})
    assert first.status_code == 200 and first.json()["stored"] is True
    assert again.json()["stored"] is False
    lead = Lead.objects.get(email="uma@example.com")
    event = lead.events.get()
    assert lead.name == "Uma Patel" and event.channel == "email"
    assert event.message == "Roof quote\n\nNeed a new roof, 30301."


def test_parsed_fields_without_raw_mime_are_accepted(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            {
                "from": "Vic <vic@example.com>",
                "subject": "Gutters",
                "text": "Can you quote gutters? 30301\n\nOn Mon, someone wrote:\n> old stuff",
                "headers": "Message-ID: <m2@mail.example.com>\nDate: Tue, 24 Nov 2026 10:00:00 +0000",
            }
        )
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.email == "vic@example.com" and event.message == "Gutters\n\nCan you quote gutters? 30301"


def test_a_wrong_secret_or_an_empty_post_stores_nothing(demo, secret):
    assert post({"email": mime().decode()}, secret="guess").status_code == 403
    assert Client().post(INBOUND, {"email": mime().decode()}).status_code == 403
    empty = post({"subject": "no sender"})
    assert empty.status_code == 400 and "email" in empty.json()
    assert not InboundWebhook.objects.exists()


def test_a_reply_threads_to_its_lead_by_in_reply_to_even_from_another_address(
    demo, capture, secret, django_capture_on_commit_callbacks
):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(email="wen@example.com", name="Wen", message="Roof quote please, 30301").json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)
    action_execute(action.pk)
    sent_id = Message.objects.get(action=action).message_id
    assert sent_id.startswith("<")
    reply = mime(
        sender="Wen at work <wen@work.example>",
        subject="Re: your roof",
        body="Tuesday works.\n\nOn Mon, Nightshift wrote:\n> Hi Wen",
        message_id="<reply1@work.example>",
        in_reply_to=sent_id,
        references=sent_id,
    )
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": reply.decode()})
    assert Lead.objects.count() == 1
    event = InboundEvent.objects.get(external_id="<reply1@work.example>")
    assert event.lead_id == lead_id and event.payload["from"] == "wen@work.example"
    assert event.message == "Re: your roof\n\nTuesday works."


def test_auto_replies_are_kept_but_not_captured(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": mime(auto_submitted="auto-replied").decode()})
    assert InboundWebhook.objects.get().status == "ignored"
    assert not Lead.objects.exists()


def test_poll_mailbox_stores_unseen_messages_once_and_marks_them_seen(demo, django_capture_on_commit_callbacks):
    with ImapServer() as imap:
        imap.mailbox.add(mime())
        imap.mailbox.add(mime(sender="xu@example.com", message_id="<m3@mail.example.com>", body="Siding quote 30301"))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("poll_mailbox", url=imap.url, stdout=io.StringIO())
        assert imap.mailbox.seen == {1, 2}
        imap.mailbox.seen.clear()  # the server forgets; the Message-ID still stops a second capture
        with django_capture_on_commit_callbacks(execute=True):
            call_command("poll_mailbox", url=imap.url, stdout=io.StringIO())
    assert InboundWebhook.objects.count() == 2
    assert set(Lead.objects.values_list("email", flat=True)) == {"uma@example.com", "xu@example.com"}


def test_poll_mailbox_says_what_is_wrong(demo, settings):
    settings.IMAP_URL = ""
    with pytest.raises(CommandError, match="Set IMAP_URL"):
        call_command("poll_mailbox")
    with ImapServer() as imap, pytest.raises(CommandError, match="AUTHENTICATIONFAILED|Invalid credentials"):
        call_command("poll_mailbox", url=imap.url.replace("s3cret", "wrong"))
