"""Work whose task was lost (a broker that forgot it, a task that failed every attempt) is queued again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import Action, Policy
from integrations.tasks import execute_action
from leads.models import InboundEvent
from routing.tasks import requeue_lost

pytestmark = pytest.mark.django_db


def aged(queryset, field: str, minutes: int = 11) -> None:
    queryset.update(**{field: timezone.now() - timedelta(minutes=minutes)})


def test_an_event_whose_task_was_lost_is_processed_and_answered_once(
    demo, api, sms_outbox, django_capture_on_commit_callbacks
):
    Policy.objects.filter(workflow="first_response").update(mode=Policy.Mode.AUTO, min_confidence=0)
    # Captured and committed, but its task never reached a worker (nothing runs the on-commit queue here).
    response = api.post(
        "/api/v1/events/",
        {"channel": "form", "source": "website", "phone": "+15128670021", "message": "Roof quote please 30301"},
        format="json",
    )
    assert response.status_code == 202
    event = InboundEvent.objects.get(pk=response.json()["event"])
    assert event.processed_at is None
    assert requeue_lost() == {"events": 0, "actions": 0}, "ten minutes' grace: a task may just be late"
    aged(InboundEvent.objects.filter(pk=event.pk), "created_at")
    with django_capture_on_commit_callbacks(execute=True):  # the send processing queues
        assert requeue_lost()["events"] == 1
    event.refresh_from_db()
    assert event.processed_at is not None
    assert [m["to"] for m in sms_outbox] == ["+15128670021"]
    assert requeue_lost() == {"events": 0, "actions": 0}


def test_an_approved_send_whose_task_was_lost_goes_out_once(demo, capture, sms_outbox):
    Policy.objects.filter(workflow="first_response").update(mode=Policy.Mode.DRAFT)
    lead_id = capture(phone="+15128670022", message="Roof install quote").json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)  # approved; its task lost
    aged(Action.objects.filter(pk=action.pk), "updated_at")
    assert requeue_lost() == {"events": 0, "actions": 1}
    assert Action.objects.get(pk=action.pk).status == Action.Status.DONE
    assert execute_action(action.pk) == "skipped", "the late first task finds it claimed"
    assert len(sms_outbox) == 1
    assert requeue_lost() == {"events": 0, "actions": 0}
