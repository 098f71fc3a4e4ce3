import json
from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import Action, Policy
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.outbound import deliveries_due
from integrations.signatures import outbound_signature_valid
from leads.models import Lead
from routing.models import Team
from tests.conftest import policy_set, user, user_client
from tests.fakes.http_server import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(db, settings):
    settings.WEBHOOK_RETRY_SECONDS = 30
    with Receiver() as receiver:
        WebhookSubscription.objects.create(
            name="Our CRM",
            url=receiver.url + "/hooks/nightshift",
            secret="whsec_test",
            events=["lead.created", "lead.assigned", "lead.stage_changed", "message.sent", "action.approved"],
        )
        yield receiver


def test_a_capture_announces_the_new_lead_and_its_assignment_signed(demo, crm, capture):
    capture(phone="+15128670300", name="Ada Byron", message="Need a roof replacement quote, 30301")
    assert crm.events()[:2] == ["lead.created", "lead.assigned"]
    for (_, path, headers, body), raw in zip(crm.calls, crm.raw_bodies, strict=True):
        assert path == "/hooks/nightshift"
        assert outbound_signature_valid("whsec_test", headers["X-Nightshift-Signature"], raw)
        assert not outbound_signature_valid("another-secret", headers["X-Nightshift-Signature"], raw)
        assert headers["X-Nightshift-Event"] == body["event"]
    created = next(body for _, _, _, body in crm.calls if body["event"] == "lead.created")
    assert created["data"]["lead"]["phone"] == "+15128670300" and created["data"]["channel"] == "form"
    assert WebhookDelivery.objects.filter(status="delivered").count() == len(crm.calls)


def test_a_replayed_or_stale_signature_does_not_verify():
    from integrations.signatures import outbound_signature

    body = b'{"event":"lead.created"}'
    old = outbound_signature("s", 1_000_000, body)
    assert not outbound_signature_valid("s", old, body)
    fresh = outbound_signature("s", int(timezone.now().timestamp()), body)
    assert outbound_signature_valid("s", fresh, body)
    assert not outbound_signature_valid("s", fresh, body + b" ")
    assert not outbound_signature_valid("s", "garbage", body)


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up(demo, crm, capture, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    crm.status = 500
    capture(phone="+15128670301", name="Bo", message="Roof quote 30301")
    delivery = WebhookDelivery.objects.filter(event="lead.created").get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 500
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    assert deliveries_due() == 0, "not due yet"
    deliveries_due(now=timezone.now() + timedelta(minutes=1))
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at - timezone.now() > timedelta(seconds=55)
    deliveries_due(now=timezone.now() + timedelta(minutes=5))
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 3
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500, 500, 500]


def test_a_recovered_endpoint_gets_the_retry_and_replay_sends_again(
    demo, crm, capture, django_capture_on_commit_callbacks
):
    crm.status = 503
    capture(phone="+15128670302", name="Cy", message="Roof quote 30301")
    crm.status = 200
    deliveries_due(now=timezone.now() + timedelta(minutes=1))
    delivery = WebhookDelivery.objects.get(event="lead.created")
    assert delivery.status == "delivered" and delivery.attempts == 2
    admin = user_client("manager")
    sent_before = len(crm.calls)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/admin/integrations/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]}
        )
    assert response.status_code == 302
    assert len(crm.calls) == sent_before + 1
    assert json.loads(crm.raw_bodies[-1])["id"] == delivery.payload["id"]
    assert WebhookDelivery.objects.filter(event="lead.created").count() == 2


def test_an_unreachable_endpoint_is_logged_not_raised(demo, capture, settings):
    WebhookSubscription.objects.create(name="Down", url="http://127.0.0.1:9/x", events=["lead.created"])
    capture(phone="+15128670303", name="Di", message="Roof quote 30301")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "ConnectionError" in delivery.last_error


def test_the_crm_changes_a_stage_over_the_api_and_what_the_stage_triggers_happens(
    demo, crm, capture, api, django_capture_on_commit_callbacks
):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(phone="+15128670304", name="Ed", message="Roof quote 30301").json()["lead"]
    waiting = Action.objects.get(lead_id=lead_id)
    assert waiting.status == Action.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/v1/leads/{lead_id}/", {"stage": "lost"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "lost"
    waiting.refresh_from_db()
    assert waiting.status == Action.Status.CANCELLED
    lead = Lead.objects.get(pk=lead_id)
    assert lead.decisions.filter(step="stage").get().reasoning.startswith("API key 'test-integration' moved")
    changed = [body for _, _, _, body in crm.calls if body["event"] == "lead.stage_changed"][-1]
    assert changed["data"]["before"] == "qualified" and changed["data"]["lead"]["stage"] == "lost"
    assert changed["data"]["by"] == "API key 'test-integration'"


def test_stage_patches_are_validated_and_scoped(demo, capture, api):
    lead_id = capture(phone="+15128670305", name="Fay", message="Roof quote 30301").json()["lead"]
    bad = api.patch(f"/api/v1/leads/{lead_id}/", {"stage": "closed-ish"}, format="json")
    assert bad.status_code == 400 and "stage" in bad.json()
    other = api.patch(f"/api/v1/leads/{lead_id}/", {"stage": "won", "owner": 1}, format="json")
    assert other.status_code == 400 and "owner" in other.json()
    assert api.patch("/api/v1/leads/999999/", {"stage": "won"}, format="json").status_code == 404
    assert api.put(f"/api/v1/leads/{lead_id}/", {"stage": "won"}, format="json").status_code == 405
    owner = Lead.objects.get(pk=lead_id).owner.username
    outsider = next(name for name in ("rep1", "rep2", "rep3") if name != owner)
    assert user_client(outsider).patch(f"/api/v1/leads/{lead_id}/", {"stage": "won"}, format="json").status_code == 404
    assert user_client(owner).patch(f"/api/v1/leads/{lead_id}/", {"stage": "won"}, format="json").status_code == 200


def test_slack_hears_hot_leads_and_escalations_on_the_teams_channel(demo, capture, settings):
    settings.SLACK_HOT_SCORE = 50
    with Receiver() as slack:
        for team in Team.objects.all():  # saved, as the admin does: the routing snapshot hears of it
            team.slack_webhook_url = slack.url + "/services/T0/B0/x"
            team.save()
        policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0.99)
        capture(phone="+15128670306", name="Gil", message="Urgent: roof leaking, need replacement asap, 30301")
        texts = [body["text"] for _, _, _, body in slack.calls]
    assert any(t.startswith(":fire: Hot lead: Gil") for t in texts), texts
    assert any("waits for" in t and "confidence" in t for t in texts), texts
    assert all("/portal/leads/" in t for t in texts)


def test_without_a_slack_url_alerts_are_only_logged(demo, capture, settings):
    settings.SLACK_HOT_SCORE = 0
    capture(phone="+15128670307", name="Hal", message="Roof quote 30301")
    assert not WebhookDelivery.objects.filter(kind="slack").exists()
    assert user("manager")
