import pytest
from django.test import Client

from approvals.models import Action, Policy
from approvals.tasks import action_execute, executions_stalled
from leads.models import Message
from tests.conftest import killed_mid_send, policy_set
from tests.fakes.twilio_server import FakeTwilio, twilio_error
from tests.integrations.twilio_helpers import PUBLIC, signed_post, twilio_settings  # noqa: F401

pytestmark = pytest.mark.django_db
STATUS = "/integrations/twilio/status/"


@pytest.fixture
def fake_twilio(twilio_settings):  # noqa: F811
    with FakeTwilio() as fake:
        twilio_settings.TWILIO_API_URL = fake.url
        twilio_settings.TWILIO_FROM_NUMBER = "+15125550000"
        twilio_settings.SMS_BACKEND = "integrations.channels.TwilioSmsBackend"
        yield fake


@pytest.fixture
def approved(demo, capture):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(
        phone="+15128670004", email="lu@example.com", name="Lu Xin", message="Roof install quote 30301"
    ).json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)
    return action


def test_an_approved_text_goes_through_the_twilio_sdk_with_a_status_callback(fake_twilio, approved):
    assert action_execute(approved.pk) == "done"
    (sent,) = fake_twilio.messages
    assert sent["To"] == "+15128670004" and sent["From"] == "+15125550000"
    assert sent["StatusCallback"] == PUBLIC + STATUS
    assert Message.objects.get(action=approved).provider_id == sent["sid"]
    assert action_execute(approved.pk) == "skipped" and len(fake_twilio.messages) == 1


def test_a_messaging_service_is_used_when_configured(fake_twilio, approved, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    action_execute(approved.pk)
    assert fake_twilio.messages[0]["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in fake_twilio.messages[0]


def test_a_permanent_twilio_error_fails_the_action_with_twilios_message_after_one_call(fake_twilio, approved):
    fake_twilio.fail = lambda body: twilio_error(
        400, 21211, "The 'To' number +15128670004 is not a valid phone number."
    )
    assert action_execute(approved.pk) == "failed"
    approved.refresh_from_db()
    assert "21211" in approved.error and "not a valid phone number" in approved.error
    assert approved.escalated
    assert len(fake_twilio.calls) == 1


def test_a_transient_error_is_retried_and_the_text_sent_once(fake_twilio, approved):
    refusals = [twilio_error(503, 20503, "Service unavailable")]
    fake_twilio.fail = lambda body: refusals.pop() if refusals else None
    assert action_execute(approved.pk) == "done"
    assert len(fake_twilio.calls) == 2 and len(fake_twilio.messages) == 1
    assert Message.objects.get(action=approved).provider_id == fake_twilio.messages[0]["sid"]


def test_an_unreachable_twilio_is_retried_a_bounded_number_of_times_then_fails(twilio_settings, approved):  # noqa: F811
    twilio_settings.TWILIO_API_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    twilio_settings.TWILIO_FROM_NUMBER = "+15125550000"
    twilio_settings.SMS_BACKEND = "integrations.channels.TwilioSmsBackend"
    twilio_settings.SEND_ATTEMPTS = 3
    assert action_execute(approved.pk) == "failed"
    approved.refresh_from_db()
    assert "Could not reach Twilio" in approved.error
    assert approved.message.status == Message.Status.FAILED


def report(sid, status, **extra):
    return signed_post(Client(), STATUS, {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC1", **extra})


@pytest.mark.parametrize("twilio_got_it", [True, False])
def test_a_send_killed_mid_way_is_settled_by_asking_twilio(
    fake_twilio, approved, twilio_got_it, django_capture_on_commit_callbacks
):
    killed_mid_send(approved, provider_got_it=twilio_got_it)
    with django_capture_on_commit_callbacks(execute=True):
        assert executions_stalled() == 1
    (sent,) = fake_twilio.messages
    assert Message.objects.get(action=approved, status="sent").provider_id == sent["sid"]
    assert Action.objects.get(pk=approved.pk).attempts == (1 if twilio_got_it else 2)
    assert any(method == "GET" for method, *_ in fake_twilio.calls), "Twilio was asked what it has"


def test_a_killed_send_twilio_cannot_be_asked_about_goes_to_a_person(fake_twilio, approved, settings, caplog):
    killed_mid_send(approved, provider_got_it=False)
    settings.TWILIO_API_URL = "http://127.0.0.1:9"  # Twilio unreachable while the sweep asks
    with caplog.at_level("INFO"):
        assert executions_stalled() == 1
    action = Action.objects.get(pk=approved.pk)
    assert (action.status, action.escalation_reason) == ("failed", "send interrupted")
    assert fake_twilio.messages == []
    assert "8670004" not in caplog.text, "no full number in the logs"


def test_delivery_reports_move_the_message_forward_only(fake_twilio, approved):
    action_execute(approved.pk)
    sid = fake_twilio.messages[0]["sid"]
    assert report(sid, "sent").status_code == 204
    assert report(sid, "delivered").status_code == 204
    assert report(sid, "sent").status_code == 204  # late, out of order
    assert Message.objects.get(provider_id=sid).status == Message.Status.DELIVERED


def test_an_undelivered_text_fails_its_action_visibly_and_proposes_it_by_email(
    fake_twilio, approved, django_capture_on_commit_callbacks, mailoutbox
):
    action_execute(approved.pk)
    sid = fake_twilio.messages[0]["sid"]
    with django_capture_on_commit_callbacks(execute=True):
        assert report(sid, "undelivered", ErrorCode="30003").status_code == 204
    message = Message.objects.get(provider_id=sid)
    assert message.status == Message.Status.UNDELIVERED and message.error_code == "30003"
    approved.refresh_from_db()
    assert approved.status == Action.Status.FAILED and "unreachable destination handset" in approved.error
    fallback = Action.objects.get(lead=approved.lead, kind=Action.Kind.SEND_EMAIL)
    assert fallback.body == approved.body and fallback.payload["to"] == "lu@example.com"
    assert fallback.status == Action.Status.PENDING  # draft mode: a person approves it like any other
    assert approved.lead.decisions.filter(step="delivery", outcome="failed").exists()
    assert mailoutbox == []


def test_no_email_fallback_when_the_policy_says_not_to(fake_twilio, approved):
    policy_set("first_response", fallback_to_email=False)
    action_execute(approved.pk)
    report(fake_twilio.messages[0]["sid"], "failed", ErrorCode="30005")
    assert not Action.objects.filter(kind=Action.Kind.SEND_EMAIL).exists()
    approved.refresh_from_db()
    assert approved.status == Action.Status.FAILED and "unknown destination" in approved.error


def test_bad_status_callbacks_are_refused_or_ignored_without_changes(fake_twilio, approved):
    action_execute(approved.pk)
    sid = fake_twilio.messages[0]["sid"]
    forged = Client().post(STATUS, {"MessageSid": sid, "MessageStatus": "failed"}, headers={"X-Twilio-Signature": "x"})
    assert forged.status_code == 403
    assert report("SM-unknown", "delivered").status_code == 204
    assert report(sid, "exploded").status_code == 204
    assert signed_post(Client(), STATUS, {"MessageSid": sid}).status_code == 400
    assert Message.objects.get(provider_id=sid).status == Message.Status.SENT
