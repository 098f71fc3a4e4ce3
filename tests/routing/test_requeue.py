"""Work whose task was lost (a broker that forgot it, a task that failed every attempt) is queued again."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from approvals.models import Action, Policy
from approvals.services import executions_stalled
from approvals.tasks import action_execute
from integrations.inbound import webhook_receive
from integrations.models import InboundWebhook
from leads.models import Appointment, InboundEvent, Lead, Message
from routing.tasks import event_process, lost_work_requeue
from tests.conftest import policy_set
from tests.integrations.twilio_helpers import sms_params

pytestmark = pytest.mark.django_db

# What lost_work_requeue() returns when nothing waited too long.
NOTHING_LOST = dict.fromkeys(("events", "actions", "webhooks", "invites", "calendar_writes", "handovers"), 0)


def aged(queryset, field: str, minutes: int = 11) -> None:
    queryset.update(**{field: timezone.now() - timedelta(minutes=minutes)})


def test_an_event_whose_task_was_lost_is_processed_and_answered_once(
    demo, api, sms_outbox, django_capture_on_commit_callbacks
):
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0)
    # Captured and committed, but its task never reached a worker (nothing runs the on-commit queue here).
    response = api.post(
        "/api/v1/events/",
        {"channel": "form", "source": "website", "phone": "+15128670021", "message": "Roof quote please 30301"},
        format="json",
    )
    assert response.status_code == 202
    event = InboundEvent.objects.get(pk=response.json()["event"])
    assert event.processed_at is None
    assert lost_work_requeue() == NOTHING_LOST, "ten minutes' grace: a task may just be late"
    aged(InboundEvent.objects.filter(pk=event.pk), "created_at")
    with django_capture_on_commit_callbacks(execute=True):  # the send processing queues
        assert lost_work_requeue()["events"] == 1
    event.refresh_from_db()
    assert event.processed_at is not None
    assert [m["to"] for m in sms_outbox] == ["+15128670021"]
    assert lost_work_requeue() == NOTHING_LOST


def queued() -> list[tuple[str, list]]:
    """What waits in the ORM broker's queue: (task, args)."""
    return [(row.task["func"], list(row.task["args"])) for row in OrmQ.objects.all()]


@pytest.mark.parametrize("worker_survives", [True, False])
def test_the_first_answer_is_sent_by_the_task_that_approved_it(
    demo, api, sms_outbox, django_capture_on_commit_callbacks, monkeypatch, worker_survives
):
    """No second task between approval and send; a worker that dies in between leaves it to the sweep."""
    monkeypatch.setattr(Conf, "SYNC", False)  # the ORM broker's queue, as in production
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0)
    body = {"channel": "form", "source": "website", "phone": "+15128670023", "message": "Roof quote please 30301"}
    event_id = api.post("/api/v1/events/", body, format="json").json()["event"]
    assert queued() == [("routing.tasks.event_process", [event_id])]
    OrmQ.objects.all().delete()  # taken by a worker

    with django_capture_on_commit_callbacks(execute=worker_survives):
        event_process(event_id)
    action = Action.objects.get(event_id=event_id)
    assert queued() == [], "nothing more is queued for the send"
    if worker_survives:
        assert action.status == Action.Status.DONE
        assert [m["to"] for m in sms_outbox] == ["+15128670023"]
        return
    # The worker died between the commit and the send: the claim committed with the approval, so the action
    # waits as an interrupted send. The stalled-send sweep finds nothing at the provider and sends it, once.
    assert action.status == Action.Status.EXECUTING and sms_outbox == []
    assert Message.objects.get(action=action).status == Message.Status.SENDING
    aged(Action.objects.filter(pk=action.pk), "updated_at")
    assert lost_work_requeue() == NOTHING_LOST, "claimed: not for the approved-actions sweep"
    assert executions_stalled() == 1
    assert queued() == [("approvals.tasks.action_execute", [action.pk])]
    assert action_execute(action.pk) == Action.Status.DONE
    assert action_execute(action.pk) == "skipped"
    assert executions_stalled(now=timezone.now() + timedelta(hours=1)) == 0
    assert [m["to"] for m in sms_outbox] == ["+15128670023"]
    assert Message.objects.filter(action=action).count() == 1


def test_an_approved_send_whose_task_was_lost_goes_out_once(demo, capture, sms_outbox):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(phone="+15128670022", message="Roof install quote").json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)  # approved; its task lost
    aged(Action.objects.filter(pk=action.pk), "updated_at")
    assert lost_work_requeue() == {
        "events": 0,
        "actions": 1,
        "webhooks": 0,
        "invites": 0,
        "calendar_writes": 0,
        "handovers": 0,
    }
    assert Action.objects.get(pk=action.pk).status == Action.Status.DONE
    assert action_execute(action.pk) == "skipped", "the late first task finds it claimed"
    assert len(sms_outbox) == 1
    assert lost_work_requeue() == NOTHING_LOST


def test_a_stored_webhook_and_an_invite_whose_tasks_were_lost_are_queued_again(demo, monkeypatch):
    """A provider's delivery stored but never captured, and an invite never sent, are not lost with their task."""
    monkeypatch.setattr(Conf, "SYNC", False)
    row, _ = webhook_receive(kind="twilio_sms", source="twilio-sms", external_id="SM9", payload=sms_params(sid="SM9"))
    lead = Lead.objects.create(name="Ivy", email="ivy@example.com")
    appointment = Appointment.objects.create(lead=lead, starts_at=timezone.now() + timedelta(days=2))
    OrmQ.objects.all().delete()  # both tasks lost
    nothing = {"events": 0, "actions": 0, "webhooks": 0, "invites": 0, "calendar_writes": 0, "handovers": 0}
    assert lost_work_requeue() == nothing, "not lost yet: late"
    aged(InboundWebhook.objects.filter(pk=row.pk), "received_at")
    aged(Appointment.objects.filter(pk=appointment.pk), "updated_at")
    assert lost_work_requeue() == {
        "events": 0,
        "actions": 0,
        "webhooks": 1,
        "invites": 1,
        "calendar_writes": 0,
        "handovers": 0,
    }
    assert sorted(queued()) == [
        ("integrations.tasks.invite_send", [appointment.pk]),
        ("integrations.tasks.webhook_process", [row.pk]),
    ]
