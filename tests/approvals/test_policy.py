import pytest

from approvals.models import Action, Policy
from audit.models import Decision
from tests.conftest import policy_set

pytestmark = pytest.mark.django_db

LEAD = {
    "phone": "+15128670002",
    "name": "Omar Ali",
    "message": "Need a quote to replace my roof asap, $9k budget",
    "postal_code": "30301",
}


def set_policy(mode, min_confidence=0.5):
    policy_set("first_response", mode=mode, min_confidence=min_confidence)


def test_auto_sends_without_a_person(demo, capture, sms_outbox):
    set_policy(Policy.Mode.AUTO)
    lead_id = capture(**LEAD).json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    assert action.status == Action.Status.DONE
    assert len(sms_outbox) == 1 and sms_outbox[0]["to"] == "+15128670002"


def test_auto_below_threshold_waits_escalated(demo, capture, sms_outbox):
    set_policy(Policy.Mode.AUTO, min_confidence=0.95)
    lead_id = capture(**LEAD).json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    assert action.status == Action.Status.PENDING
    assert action.escalated
    assert action.escalation_reason.startswith(f"confidence {action.confidence:.2f} < 0.95")
    assert sms_outbox == []
    assert Decision.objects.get(action=action, step="propose").outcome == "escalated"


def test_observe_records_shadow_and_never_sends(demo, capture, sms_outbox):
    set_policy(Policy.Mode.OBSERVE)
    lead_id = capture(**LEAD).json()["lead"]
    assert Action.objects.get(lead_id=lead_id).status == Action.Status.SHADOW
    assert sms_outbox == []


def test_unconfigured_workflow_waits_for_a_person(demo, capture, sms_outbox):
    Policy.objects.all().delete()
    lead_id = capture(**LEAD).json()["lead"]
    assert Action.objects.get(lead_id=lead_id).status == Action.Status.PENDING


def test_email_only_lead_gets_an_email_draft(demo, capture, mailoutbox, django_capture_on_commit_callbacks):
    set_policy(Policy.Mode.AUTO)
    lead_id = capture(
        phone="", email="kim@example.org", name="Kim Park", message="Quote for siding please", postal_code="30301"
    ).json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    assert action.kind == Action.Kind.SEND_EMAIL and action.status == Action.Status.DONE
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["kim@example.org"]
    assert mailoutbox[0].subject == "Your request to Nightshift Demo Co."
    assert action.message.provider_id == mailoutbox[0].extra_headers["Message-ID"]


def test_noise_never_reaches_the_queue(demo, capture):
    lead_id = capture(phone="+15128670003", message="We offer SEO services, guaranteed ranking! click here").json()[
        "lead"
    ]
    assert not Action.objects.filter(lead_id=lead_id).exists()
    from leads.models import Lead

    lead = Lead.objects.get(pk=lead_id)
    assert lead.stage in ("spam", "unqualified") and lead.owner is None
