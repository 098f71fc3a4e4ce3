"""The actions API behaves like the portal: propose under the policy, decide with versions, refusals with reasons."""

import pytest

from approvals import services
from approvals.models import Action
from tests.conftest import user, user_client
from tests.factories import ActionFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(demo):
    return LeadFactory(owner=user("rep1"), phone="+15128670050")


def test_an_integration_proposes_a_quote_that_a_gate_holds_for_managers(api, lead):
    services.gate_add(workflow="quote", user=user("manager"), name="Big", conditions_text="amount > 5000")
    response = api.post(
        "/api/v1/actions/", {"lead": lead.pk, "workflow": "quote", "body": "Full roof", "amount": "7500"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["review_by"] == "manager" and body["amount"] == "7500.00"
    assert body["escalation_reason"] == "gate 'Big': quote amount 7,500 > 5,000"
    listed = api.get("/api/v1/actions/?review_by=manager&escalated=true").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    rep = user_client("rep1")
    refused = rep.post(f"/api/v1/actions/{body['id']}/approve/", {}, format="json")
    assert refused.status_code == 403 and "A manager must decide" in refused.json()["detail"]


def test_bad_proposals_name_the_field(api, lead):
    response = api.post("/api/v1/actions/", {"lead": lead.pk, "workflow": "teleport", "body": ""}, format="json")
    assert response.status_code == 400 and set(response.json()) >= {"workflow", "body"}
    long_sms = api.post(
        "/api/v1/actions/", {"lead": lead.pk, "workflow": "follow_up", "body": "x" * 460}, format="json"
    )
    assert long_sms.status_code == 400 and long_sms.json()["body"] == ["4 segments · GSM-7; the limit is 3."]
    missing = api.post("/api/v1/actions/", {"lead": 999999, "workflow": "follow_up", "body": "Hi"}, format="json")
    assert missing.status_code == 400 and "No lead 999999" in missing.json()["lead"][0]


def test_a_stale_version_is_refused_with_the_current_state(lead):
    action = ActionFactory(lead=lead)
    rep = user_client("rep1")
    edited = rep.post(f"/api/v1/actions/{action.pk}/edit/", {"body": "Better", "version": 1}, format="json")
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stale = rep.post(f"/api/v1/actions/{action.pk}/approve/", {"body": "Old", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["version"] == 2
    assert Action.objects.get(pk=action.pk).body == "Better"


def test_snooze_and_regenerate_over_the_api(lead):
    action = ActionFactory(lead=lead)
    rep = user_client("rep1")
    snoozed = rep.post(f"/api/v1/actions/{action.pk}/snooze/", {"minutes": 30}, format="json")
    assert snoozed.status_code == 200 and snoozed.json()["snoozed_until"]
    assert rep.post(f"/api/v1/actions/{action.pk}/snooze/", {"minutes": 0}, format="json").status_code == 400
    redrafted = rep.post(f"/api/v1/actions/{action.pk}/regenerate/", {"instruction": "warmer"}, format="json")
    assert redrafted.status_code == 200, redrafted.content
    assert redrafted.json()["body"].startswith(f"Hi {lead.first_name}") and redrafted.json()["version"] == 3
    too_long = rep.post(f"/api/v1/actions/{action.pk}/regenerate/", {"instruction": "x" * 501}, format="json")
    assert too_long.status_code == 400 and "instruction" in too_long.json()


def test_api_keys_cannot_decide(api, lead):
    action = ActionFactory(lead=lead)
    for verb, body in (("approve", {}), ("edit", {"body": "x"}), ("snooze", {"minutes": 5}), ("regenerate", {})):
        assert api.post(f"/api/v1/actions/{action.pk}/{verb}/", body, format="json").status_code == 403
