import pytest

from approvals.models import Action
from audit.models import Decision
from leads.models import Message
from tests.conftest import user_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(demo, capture):
    """A first-response draft waiting for rep1."""
    lead_id = capture(
        phone="+15128670001", name="Ivy Chen", message="Roof repair quote please", postal_code="30301"
    ).json()["lead"]
    return Action.objects.get(lead_id=lead_id)


def approve(client, action, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(f"/api/v1/actions/{action.pk}/approve/", body, format="json")


def test_list_pending_actions_for_a_lead(api, pending):
    body = api.get(f"/api/v1/actions/?status=pending&lead={pending.lead_id}").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert {k: row[k] for k in ("id", "lead", "workflow", "kind", "status")} == {
        "id": pending.pk,
        "lead": pending.lead_id,
        "workflow": "first_response",
        "kind": "send_sms",
        "status": "pending",
    }
    assert row["body"].startswith("Hi Ivy")
    assert row["confidence"] is not None and row["reasoning"]


def test_approve_with_edit_sends_edited_text_once(pending, sms_outbox, django_capture_on_commit_callbacks):
    rep1 = user_client("rep1")
    response = approve(rep1, pending, django_capture_on_commit_callbacks, body="Hi Ivy, Ana here. Call you at 3?")
    assert response.status_code == 200, response.content
    pending.refresh_from_db()
    assert pending.status == Action.Status.DONE
    assert pending.edited and pending.original_body.startswith("Hi Ivy, thanks")
    assert [(m["to"], m["body"], m["provider_id"]) for m in sms_outbox] == [
        ("+15128670001", "Hi Ivy, Ana here. Call you at 3?", "locmem-1")
    ]
    message = Message.objects.get(action=pending)
    assert (message.status, message.provider_id) == ("sent", "locmem-1")
    assert pending.lead.__class__.objects.get(pk=pending.lead_id).first_response_at is not None

    again = approve(rep1, pending, django_capture_on_commit_callbacks)
    assert again.status_code == 409
    assert again.json()["status"] == "done"
    assert len(sms_outbox) == 1, "a second approval never sends twice"
    steps = list(Decision.objects.filter(action=pending).values_list("step", flat=True).order_by("id"))
    assert steps == ["propose", "edit", "approve", "execute"]
    assert pending.history.filter(history_user__username="rep1").exists()


def test_edited_sms_too_long_is_refused(pending, sms_outbox, django_capture_on_commit_callbacks):
    # 300 characters with one emoji: UCS-2, 5 segments (67 UTF-16 units each; the emoji is 2).
    response = approve(user_client("rep1"), pending, django_capture_on_commit_callbacks, body="x" * 299 + "🏠")
    assert response.status_code == 400
    assert response.json()["body"] == ["5 segments · UCS-2 because of 🏠; the limit is 3."]
    pending.refresh_from_db()
    assert pending.status == Action.Status.PENDING and not pending.edited
    assert sms_outbox == []


def test_reject_needs_a_reason_and_sends_nothing(pending, sms_outbox):
    rep1 = user_client("rep1")
    assert rep1.post(f"/api/v1/actions/{pending.pk}/reject/", {}, format="json").json() == {
        "reason": ["This field is required."]
    }
    response = rep1.post(f"/api/v1/actions/{pending.pk}/reject/", {"reason": "Already called her"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert sms_outbox == []
    conflict = rep1.post(f"/api/v1/actions/{pending.pk}/approve/", {}, format="json")
    assert conflict.status_code == 409
    assert "rejected by rep1" in conflict.json()["detail"]


def test_another_reps_action_is_404(pending, django_capture_on_commit_callbacks, sms_outbox):
    rep2 = user_client("rep2")
    assert rep2.get(f"/api/v1/actions/{pending.pk}/").status_code == 404
    assert approve(rep2, pending, django_capture_on_commit_callbacks).status_code == 404
    assert rep2.post(f"/api/v1/actions/{pending.pk}/reject/", {"reason": "x"}, format="json").status_code == 404
    assert sms_outbox == []


def test_manager_may_approve_any(pending, django_capture_on_commit_callbacks, sms_outbox):
    assert approve(user_client("manager"), pending, django_capture_on_commit_callbacks).status_code == 200
    assert len(sms_outbox) == 1


def test_api_key_reads_but_cannot_decide(api, pending, sms_outbox):
    assert api.get(f"/api/v1/actions/{pending.pk}/").status_code == 200
    response = api.post(f"/api/v1/actions/{pending.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    assert "person" in response.json()["detail"]
    assert sms_outbox == []


def test_unknown_action_is_404(demo):
    assert user_client("manager").post("/api/v1/actions/999999/approve/", {}, format="json").status_code == 404
