import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from approvals.models import Action, Policy
from integrations import channels
from integrations.models import InboundWebhook
from leads.models import ConsentRecord, InboundEvent, Lead, Suppression
from tests.conftest import policy_set, user
from tests.fakes.twilio_server import AUTH_TOKEN
from tests.integrations.twilio_helpers import PUBLIC, signed_post, sms_params, twilio_settings  # noqa: F401

pytestmark = pytest.mark.django_db
SMS = "/integrations/twilio/sms/"


@pytest.fixture
def text(demo, twilio_settings, django_capture_on_commit_callbacks):  # noqa: F811
    """Post a signed inbound SMS and run what it queues (the capture task, then the pipeline)."""

    def _text(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_post(Client(), SMS, sms_params(**kwargs))
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "text/xml"
        return response

    return _text


def test_a_signed_text_is_stored_answered_with_empty_twiml_and_captured_in_a_task(text):
    response = text()
    assert response.content.decode().endswith("<Response />")
    row = InboundWebhook.objects.get()
    assert row.status == InboundWebhook.Status.PROCESSED and row.event is not None
    lead = Lead.objects.get(phone="+15128670100")
    assert lead.events.get().message == "Hi, I need a roof quote in 30301"
    assert lead.actions.exists(), "the pipeline answered the text"


def test_a_forged_or_unsigned_text_is_refused_and_nothing_is_stored(demo, twilio_settings):  # noqa: F811
    client = Client()
    assert signed_post(client, SMS, sms_params(), token="wrong-token").status_code == 403
    # Signed for another URL than the public one Twilio called (scheme matters behind a proxy).
    assert signed_post(client, SMS, sms_params(), url="http://nightshift.example.com" + SMS).status_code == 403
    assert client.post(SMS, sms_params()).status_code == 403
    # Signed for one body, delivered with another.
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + SMS, sms_params())
    response = client.post(SMS, {**sms_params(), "Body": "changed"}, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert not InboundWebhook.objects.exists() and not InboundEvent.objects.exists()


def test_without_an_auth_token_every_callback_is_refused(demo, twilio_settings):  # noqa: F811
    twilio_settings.TWILIO_AUTH_TOKEN = ""
    response = signed_post(Client(), SMS, sms_params())
    assert response.status_code == 403 and b"no auth token" in response.content


def test_the_same_message_sid_twice_captures_once(text):
    text()
    text()
    assert InboundWebhook.objects.count() == 1
    assert InboundEvent.objects.count() == 1


def test_media_urls_are_kept_and_replies_attach_to_the_same_lead(text):
    text(sid="SM1", body="Roof quote please, 30301")
    media = {
        "NumMedia": "2",
        "MediaUrl0": "https://api.twilio.com/m/1.jpg",
        "MediaUrl1": "https://api.twilio.com/m/2.jpg",
    }
    params = {**sms_params(sid="SM2", body="Here are photos"), **media}
    response = signed_post(Client(), SMS, params)
    assert response.status_code == 200
    from integrations.tasks import webhook_process

    webhook_process(InboundWebhook.objects.get(external_id="SM2").pk)
    lead = Lead.objects.get()
    latest = lead.events.get(external_id="SM2")
    assert latest.payload["media"] == ["https://api.twilio.com/m/1.jpg", "https://api.twilio.com/m/2.jpg"]
    assert lead.events.count() == 2


@pytest.mark.parametrize("word", ["STOP", " stop ", "Unsubscribe", "quit", "StopAll", "cancel", "END"])
def test_stop_words_opt_the_number_out_of_every_sms(text, word, sms_outbox):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    text(sid="SM1")
    lead = Lead.objects.get()
    waiting = lead.actions.get()
    assert waiting.status == Action.Status.PENDING
    text(sid="SM2", body=word)
    lead.refresh_from_db()
    waiting.refresh_from_db()
    assert lead.opted_out and Suppression.objects.filter(channel="sms", address="+15128670100").exists()
    assert lead.consent_records.get(kind=ConsentRecord.Kind.OPT_OUT).how == ConsentRecord.How.KEYWORD
    assert waiting.status == Action.Status.CANCELLED
    assert lead.decisions.filter(step="consent").exists()
    # The keyword is not a lead message: no second event, nothing drafted in answer but the confirmation.
    assert lead.events.count() == 1
    assert list(lead.actions.values_list("workflow", flat=True).order_by("pk")) == [
        "first_response",
        "opt_out_confirmation",
    ]
    with pytest.raises(channels.OptedOut):
        channels.send_sms(to="+15128670100", body="anything")
    # The one text the FCC allows after a revocation: it confirms, names the business and how to undo it.
    [confirmation] = sms_outbox
    assert "unsubscribed" in confirmation["body"] and "START" in confirmation["body"]
    assert lead.consent_records.filter(kind=ConsentRecord.Kind.CONFIRMATION).count() == 1


def test_start_opts_back_in(text):
    text(sid="SM1", body="STOP")
    assert Suppression.objects.exists()
    text(sid="SM2", body="unstop")
    assert not Suppression.objects.exists()
    assert channels.send_sms(to="+15128670100", body="Welcome back").provider_id


def test_help_answers_the_business_help_text_and_captures_nothing(text, settings):
    settings.SMS_HELP_TEXT = "Acme Roofing: call 512-555-0000. Reply STOP to opt out."
    response = text(body=" help ")
    assert b"<Message>Acme Roofing: call 512-555-0000. Reply STOP to opt out.</Message>" in response.content
    assert not Lead.objects.exists()
    assert InboundWebhook.objects.get().status == InboundWebhook.Status.IGNORED


def test_a_callback_missing_required_fields_is_refused_naming_them(demo, twilio_settings):  # noqa: F811
    params = sms_params()
    del params["MessageSid"]
    response = signed_post(Client(), SMS, params)
    assert response.status_code == 400 and b"MessageSid" in response.content
    assert not InboundWebhook.objects.exists()


def test_a_text_from_an_unusable_number_is_kept_as_failed_with_the_reason(text):
    text(sender="not-a-number")
    row = InboundWebhook.objects.get()
    assert row.status == InboundWebhook.Status.FAILED and "phone" in row.error
    assert not Lead.objects.exists()


def test_huge_or_binary_bodies_are_refused_without_a_500(demo, twilio_settings):  # noqa: F811
    client = Client()
    huge = client.post(SMS, data=b"x" * 300_000, content_type="application/x-www-form-urlencoded")
    assert huge.status_code == 413, "too large (RFC 9110 15.5.14), not malformed"
    binary = client.post(SMS, data=bytes(range(256)) * 4, content_type="application/octet-stream")
    assert binary.status_code == 403
    assert not InboundWebhook.objects.exists()


def test_a_failed_delivery_can_be_processed_again_from_the_admin(text, django_capture_on_commit_callbacks):
    text(sender="not-a-number")
    row = InboundWebhook.objects.get()
    InboundWebhook.objects.filter(pk=row.pk).update(payload={**row.payload, "From": "+15128670101"})
    admin = Client()
    admin.force_login(user("manager"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/admin/integrations/inboundwebhook/", {"action": "process_again", "_selected_action": [row.pk]}
        )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == InboundWebhook.Status.PROCESSED
    assert Lead.objects.filter(phone="+15128670101").exists()
