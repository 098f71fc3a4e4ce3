import pytest

from approvals.models import Action, Policy
from approvals.tasks import action_execute, executions_stalled
from integrations.channels import ChannelError, LocmemSmsBackend
from leads.models import Lead, Message
from tests.conftest import killed_mid_send, policy_set, user_client

pytestmark = pytest.mark.django_db


class FailingSmsBackend(LocmemSmsBackend):
    def send(self, *, to, body):
        raise ChannelError("21610: Attempt to send to unsubscribed recipient")


@pytest.fixture
def approved(demo, capture):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(phone="+15128670004", name="Lu Xin", message="Roof install quote").json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)
    return action


def test_running_the_task_twice_sends_once(approved, sms_outbox):
    assert action_execute(approved.pk) == "done"
    assert action_execute(approved.pk) == "skipped"
    assert len(sms_outbox) == 1
    assert Message.objects.filter(action=approved).count() == 1


def test_pending_or_rejected_actions_are_never_sent(approved, sms_outbox):
    for status in (Action.Status.PENDING, Action.Status.REJECTED, Action.Status.SHADOW):
        Action.objects.filter(pk=approved.pk).update(status=status)
        assert action_execute(approved.pk) == "skipped"
    assert sms_outbox == []


def test_opt_out_after_approval_cancels_the_send(approved, sms_outbox):
    Lead.objects.filter(pk=approved.lead_id).update(opted_out=True)
    assert action_execute(approved.pk) == "skipped"
    approved.refresh_from_db()
    assert approved.status == Action.Status.CANCELLED
    assert sms_outbox == []


def test_provider_failure_is_visible_and_retryable(approved, settings, sms_outbox, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "tests.integrations.test_execute.FailingSmsBackend"
    assert action_execute(approved.pk) == "failed"
    approved.refresh_from_db()
    assert approved.escalated and "21610" in approved.error
    assert Message.objects.get(action=approved).status == "failed"
    # It sits in the rep's queue with a retry button; retrying after the fix sends it once.
    settings.SMS_BACKEND = "integrations.channels.LocmemSmsBackend"
    rep1 = user_client("rep1")
    assert b"Retry send" in rep1.get("/portal/queue/").content
    with django_capture_on_commit_callbacks(execute=True):
        response = rep1.post(f"/portal/actions/{approved.pk}/retry/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    approved.refresh_from_db()
    assert approved.status == Action.Status.DONE and approved.attempts == 2
    assert len(sms_outbox) == 1


def test_a_send_killed_before_the_provider_took_it_is_sent_again_once(
    approved, sms_outbox, django_capture_on_commit_callbacks
):
    killed_mid_send(approved, provider_got_it=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert executions_stalled() == 1
    action = Action.objects.get(pk=approved.pk)
    assert (action.status, action.attempts, action.escalated) == ("done", 2, False)
    assert len(sms_outbox) == 1 and Message.objects.get(action=action).provider_id == sms_outbox[0]["provider_id"]
    assert action.lead.decisions.filter(reasoning__contains="provider has no such message").exists()
    assert executions_stalled() == 0 and len(sms_outbox) == 1


def test_a_send_killed_after_the_provider_took_it_is_recorded_never_sent_twice(
    approved, sms_outbox, django_capture_on_commit_callbacks
):
    killed_mid_send(approved, provider_got_it=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert executions_stalled() == 1
    action = Action.objects.get(pk=approved.pk)
    assert action.status == "done" and len(sms_outbox) == 1, "recorded from the provider, not sent again"
    message = Message.objects.get(action=action)
    assert (message.status, message.provider_id) == ("sent", sms_outbox[0]["provider_id"])
    assert Lead.objects.get(pk=action.lead_id).first_response_at == message.sent_at
    assert action.lead.decisions.filter(reasoning__contains="the provider had the message").count() == 1
    assert action_execute(approved.pk) == "skipped" and len(sms_outbox) == 1


def test_a_send_the_provider_cannot_account_for_goes_to_a_person_never_out_again(
    approved, sms_outbox, settings, django_capture_on_commit_callbacks
):
    killed_mid_send(approved, provider_got_it=False)
    settings.SMS_BACKEND = "integrations.channels.ConsoleSmsBackend"  # prints, keeps no record to ask
    assert executions_stalled() == 1
    action = Action.objects.get(pk=approved.pk)
    assert (action.status, action.escalated, action.escalation_reason) == ("failed", True, "send interrupted")
    assert action.error.startswith("The worker stopped while sending, so it may or may not have gone out")
    assert Message.objects.get(action=action).status == "failed"
    assert action_execute(approved.pk) == "skipped" and sms_outbox == [], "never sent again by itself"
    rep = user_client(action.lead.owner.username)
    queue = rep.get("/portal/queue/").content.decode()
    assert "send interrupted" in queue
    settings.SMS_BACKEND = "integrations.channels.LocmemSmsBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert rep.post(f"/portal/actions/{action.pk}/retry/", headers={"HX-Request": "true"}).status_code == 200
    assert len(sms_outbox) == 1, "a person's Retry sends it, once"
