"""Bounces come back to the inbound address: they fail the email they return, never become a lead.

The fixtures in tests/data/mail/ are written as each mail server writes its delivery status notification
(RFC 3464 multipart/report from Postfix, Exim, Gmail and Microsoft 365; qmail's free text). Each returns the
email whose Message-ID is ORIGINAL, which the tests give to the email they send first.
"""

import email
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.test import Client

from approvals.models import Action, Policy
from approvals.tasks import action_execute
from audit.models import Decision
from integrations.channels import Undeliverable, send_email
from integrations.models import InboundWebhook
from leads.models import ConsentRecord, InboundEvent, Lead, Message, Suppression
from leads.services.contact import lead_contact_fix
from tests.conftest import policy_set, user, user_client

pytestmark = pytest.mark.django_db
INBOUND = "/integrations/email/inbound/?secret=mail-secret"
MAIL = Path(__file__).parent.parent / "data" / "mail"
ORIGINAL = "<176462940361.4242.11893624005631547183@nightshift>"
BOUNCES = [
    ("postfix-bounce-user-unknown.eml", "wen.li@example.net", "5.1.1"),
    ("exim-bounce.eml", "wen.li@example.net", "5.1.1"),  # Exim's Status 5.0.0, made specific by its diagnostic
    ("gmail-bounce-no-such-user.eml", "wen.li@example.net", "5.1.1"),
    ("exchange-online-ndr.eml", "wen.li@contoso.example", "5.1.10"),
    ("qmail-bounce.eml", "wen.li@example.net", "5.1.1"),  # no DSN: read from its text by flufl.bounce
]


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.EMAIL_INBOUND_SECRET = "mail-secret"


def receive(name: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(INBOUND, {"email": (MAIL / name).read_text()})
    assert response.status_code == 200, response.content
    return InboundWebhook.objects.get(pk=response.json()["id"])


def email_sent(capture, address="wen.li@example.net", message_id=ORIGINAL) -> Message:
    """A lead who gave only an email address, and the first answer emailed to it (a person approved it)."""
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(email=address, name="Wen Li", message="Roof quote please, 30301").json()["lead"]
    action = Action.objects.get(lead_id=lead_id, workflow="first_response")
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)
    action_execute(action.pk)
    message = Message.objects.get(action=action, status=Message.Status.SENT)
    # The fixtures return a send whose Message-ID was ORIGINAL: this send is that one.
    Message.objects.filter(pk=message.pk).update(message_id=message_id, provider_id=message_id)
    return message


@pytest.mark.parametrize(("fixture", "address", "status"), BOUNCES)
def test_a_bounce_fails_the_email_it_returns_and_marks_the_address_never_a_lead(
    demo, capture, fixture, address, status, django_capture_on_commit_callbacks, mailoutbox
):
    sent = email_sent(capture, address)
    actions_before = Action.objects.count()
    row = receive(fixture, django_capture_on_commit_callbacks)

    assert Lead.objects.count() == 1 and InboundEvent.objects.count() == 1, "a bounce is nobody's message"
    assert row.status == InboundWebhook.Status.IGNORED and f"message {sent.pk} to {address} bounced" in row.error
    message = Message.objects.get(pk=sent.pk)
    assert (message.status, message.error_code) == (Message.Status.FAILED, status)
    assert message.error.startswith(f"Bounced: {status}: ")
    action = Action.objects.get(pk=sent.action_id)
    assert action.status == Action.Status.FAILED and action.escalated and action.error == message.error
    lead = Lead.objects.get()
    assert lead.email_undeliverable.startswith(status) and not lead.email_opted_out
    # The lead gave no number: nothing to fall back to, and nothing is drafted to the mail system.
    assert Action.objects.count() == actions_before
    assert len(mailoutbox) == 1
    assert lead.decisions.filter(step=Decision.Step.DELIVERY, outcome=Decision.Outcome.FAILED).count() == 2
    assert lead.history.first().history_change_reason == f"email bounced ({status})"


def test_an_undeliverable_address_gets_no_more_email_by_any_road(
    demo, capture, django_capture_on_commit_callbacks, mailoutbox
):
    sent = email_sent(capture)
    receive("postfix-bounce-user-unknown.eml", django_capture_on_commit_callbacks)
    lead = Lead.objects.get()

    # Drafting offers no channel: the lead has no number and the address bounces.
    reply = user_client("manager").post(f"/portal/leads/{lead.pk}/reply/", {"body": "Did you get my quote?"})
    assert reply.status_code == 422 and Action.objects.count() == 1
    # The executor: Retry on the failed email does not send it again (cancelled, like an unsubscribed address).
    with django_capture_on_commit_callbacks(execute=True):
        user_client("manager").post(f"/portal/actions/{sent.action_id}/retry/")
    retried = Action.objects.get(pk=sent.action_id)
    assert retried.status == Action.Status.CANCELLED and "mail to wen.li@example.net bounces (5.1.1" in retried.error
    assert len(mailoutbox) == 1
    # The backend itself, whatever path a send comes by.
    with pytest.raises(Undeliverable):
        send_email(to="Wen.Li@example.net", subject="x", body="y")
    # The lead page says so.
    page = user_client("manager").get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "undeliverable: 5.1.1" in page
    # Not consent: nobody opted out, and no consent record or suppression was written.
    assert not ConsentRecord.objects.exists() and not Suppression.objects.exists()


def test_a_bounced_email_falls_back_to_a_text_as_an_undelivered_text_falls_back_to_email(
    demo, capture, django_capture_on_commit_callbacks
):
    sent = email_sent(capture)
    Lead.objects.filter(pk=sent.lead_id).update(phone="+15125550147")  # the number came later, by phone
    receive("gmail-bounce-no-such-user.eml", django_capture_on_commit_callbacks)
    fallback = Action.objects.get(kind=Action.Kind.SEND_SMS)
    assert fallback.payload["to"] == "+15125550147" and fallback.body == sent.body
    assert fallback.status == Action.Status.PENDING  # draft mode: a person approves it like any other
    failed = Action.objects.get(pk=sent.action_id)
    assert failed.escalation_reason == f"not delivered; sent by sms instead (action {fallback.pk})"


def test_no_text_fallback_when_the_policy_says_not_to_and_a_long_email_waits_for_a_person(
    demo, capture, django_capture_on_commit_callbacks
):
    sent = email_sent(capture)
    Lead.objects.filter(pk=sent.lead_id).update(phone="+15125550147")
    policy_set("first_response", fallback_to_sms=False)
    receive("exim-bounce.eml", django_capture_on_commit_callbacks)
    assert not Action.objects.filter(kind=Action.Kind.SEND_SMS).exists()

    second = email_sent(capture, "ana.ruiz@example.net", message_id="<2@nightshift>")
    policy_set("first_response", fallback_to_sms=True, mode=Policy.Mode.AUTO)
    Lead.objects.filter(pk=second.lead_id).update(phone="+15125550148")
    Action.objects.filter(pk=second.action_id).update(payload={"to": second.to, "body": "A long quote. " * 40})
    bounce = (MAIL / "exim-bounce.eml").read_text().replace("wen.li@example.net", "ana.ruiz@example.net")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(INBOUND, {"email": bounce.replace(ORIGINAL, "<2@nightshift>").replace("-0x@", "-1x@")})
    long_text = Action.objects.get(kind=Action.Kind.SEND_SMS)
    assert (
        long_text.status == Action.Status.PENDING
        and "too long: 4 segments" in long_text.escalation_reason
        and "the limit is 3" in long_text.escalation_reason
    )


def test_a_delay_or_a_full_mailbox_does_not_mark_the_address(demo, capture, django_capture_on_commit_callbacks):
    sent = email_sent(capture)
    delayed = receive("postfix-delayed.eml", django_capture_on_commit_callbacks)
    assert Message.objects.get(pk=sent.pk).status == Message.Status.SENT, "a 4.x.x delay is still being retried"
    assert "delayed (4.4.1)" in delayed.error
    assert Lead.objects.get().email_undeliverable == ""
    assert Decision.objects.filter(step=Decision.Step.DELIVERY, reasoning__contains="keeps trying").exists()

    receive("gmail-bounce-mailbox-full.eml", django_capture_on_commit_callbacks)
    message = Message.objects.get(pk=sent.pk)
    assert message.status == Message.Status.FAILED and message.error_code == "5.2.2"
    assert Action.objects.get(pk=sent.action_id).status == Action.Status.FAILED
    # RFC 3463: a full mailbox is "a persistent transient failure"; the address itself is fine.
    assert Lead.objects.get().email_undeliverable == ""


def test_a_bounce_quoting_no_known_message_id_finds_the_latest_email_to_the_address(
    demo, capture, django_capture_on_commit_callbacks
):
    sent = email_sent(capture, message_id="<another-id@nightshift>")
    receive("postfix-bounce-user-unknown.eml", django_capture_on_commit_callbacks)
    assert Message.objects.get(pk=sent.pk).status == Message.Status.FAILED


def test_a_bounce_is_applied_once_however_often_it_arrives(demo, capture, django_capture_on_commit_callbacks):
    sent = email_sent(capture)
    Lead.objects.filter(pk=sent.lead_id).update(phone="+15125550147")
    first = receive("exim-bounce.eml", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = Client().post(INBOUND, {"email": (MAIL / "exim-bounce.eml").read_text()})
    assert again.json() == {"stored": False, "id": first.pk}
    # The same notice relayed under another Message-ID: the message is already failed, nothing happens twice.
    relayed = (MAIL / "exim-bounce.eml").read_text().replace("E1tHk2v-00A1bC-0x", "E1tHk2v-00A1bC-9z")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(INBOUND, {"email": relayed})
    assert Action.objects.filter(kind=Action.Kind.SEND_SMS).count() == 1
    assert Decision.objects.filter(step=Decision.Step.DELIVERY, action_id=sent.action_id).count() == 1


def test_a_bounce_for_mail_we_never_sent_changes_nothing(demo, django_capture_on_commit_callbacks):
    row = receive("postfix-bounce-user-unknown.eml", django_capture_on_commit_callbacks)
    assert row.status == InboundWebhook.Status.IGNORED and "no email of ours to it" in row.error
    assert not Lead.objects.exists() and not Message.objects.exists()


def test_a_bounce_a_person_forwards_is_their_mail_not_a_report(demo, capture, django_capture_on_commit_callbacks):
    """RFC 3464's report is the message itself: the same report attached to a person's mail says nothing of ours."""
    sent = email_sent(capture)
    forward = EmailMessage()
    forward["From"] = "Wen Li <wen.li@example.net>"
    forward["To"] = "leads@nightshift.example"
    forward["Subject"] = "Fwd: Undelivered Mail Returned to Sender"
    forward["Message-ID"] = "<fwd-1@example.net>"
    forward.set_content("My old address bounced your mail, please use this one. Still want the roof quote!")
    bounce = email.message_from_bytes((MAIL / "postfix-bounce-user-unknown.eml").read_bytes())
    forward.add_attachment(bounce)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(INBOUND, {"email": forward.as_string()})
    row = InboundWebhook.objects.get(pk=response.json()["id"])
    assert row.status == InboundWebhook.Status.PROCESSED, row.error
    assert Message.objects.get(pk=sent.pk).status == Message.Status.SENT
    assert not Lead.objects.get().email_undeliverable


def test_correcting_a_bounced_email_on_the_lead_page_lets_mail_go_again(
    demo, capture, django_capture_on_commit_callbacks
):
    email_sent(capture)
    receive("postfix-bounce-user-unknown.eml", django_capture_on_commit_callbacks)
    lead = Lead.objects.get()
    assert lead.email_undeliverable
    lead_contact_fix(lead_id=lead.pk, user=user("manager"), email="wen.li@example.org")
    lead.refresh_from_db()
    assert (lead.email, lead.email_undeliverable) == ("wen.li@example.org", "")
