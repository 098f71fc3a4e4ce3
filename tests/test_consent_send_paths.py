"""No text reaches a number that opted out, by any send path: each path is walked after the opt-out.

The one exception is the opt-out's single confirmation, which the FCC allows (47 CFR 64.1200(a)(10)).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import Action, Policy
from approvals.services import (
    action_approve_many,
    action_retry,
    executions_stalled,
    message_propose,
    system_message_propose,
)
from approvals.tasks import action_execute
from integrations import channels
from integrations.delivery import message_delivery_update
from leads.models import Lead, contact_digest
from leads.services import Evidence, consent_opt_out
from routing.cadences import cadence_pass, enrollment_create
from routing.models import Cadence
from routing.pipeline import event_process
from routing.voice import call_answer, call_dial_result
from tests.conftest import policy_set, user

pytestmark = pytest.mark.django_db
PHONE = "+15128670300"


def opt_out(lead: Lead, channel: str = "sms") -> None:
    consent_opt_out(channel=channel, how="person", lead=lead, evidence=Evidence(words="stop", actor=user("manager")))


def texts_to(sms_outbox, phone: str = PHONE) -> list[str]:
    """What reached the number, less the one confirmation an opt-out allows."""
    return [m["body"] for m in sms_outbox if m["to"] == phone and "opt back in" not in m["body"]]


@pytest.fixture
def lead(demo, capture):
    """A lead who asked for a quote; first answers wait for a person, so nothing went yet."""
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    body = {"phone": PHONE, "email": "ivy@example.com", "message": "Roof quote please", "postal_code": "30301"}
    return Lead.objects.get(pk=capture(**body).json()["lead"])


def path_waiting_draft_approved(lead, sms_outbox, django_capture_on_commit_callbacks):
    draft = lead.actions.get(workflow="first_response")
    opt_out(lead)
    with django_capture_on_commit_callbacks(execute=True):
        results = action_approve_many(action_ids=[draft.pk], user=user("manager"))
    assert results[0].action is None, "cancelled: nobody can approve it"


def path_approved_task_runs_late(lead, sms_outbox, django_capture_on_commit_callbacks):
    draft = lead.actions.get(workflow="first_response")
    Action.objects.filter(pk=draft.pk).update(status=Action.Status.APPROVED)  # approved, its task not yet run
    opt_out(lead)
    assert action_execute(draft.pk) == "skipped"


def path_claimed_before_the_opt_out(lead, sms_outbox, django_capture_on_commit_callbacks):
    """A worker claimed the send a moment before the opt-out committed: the backend refuses it at the last step."""
    from approvals.services.execution import _carry_out, _claim

    draft = lead.actions.get(workflow="first_response")
    Action.objects.filter(pk=draft.pk).update(status=Action.Status.APPROVED)
    claimed = _claim(draft.pk)
    opt_out(lead)
    assert _carry_out(*claimed).status == Action.Status.FAILED


def path_person_replies(lead, sms_outbox, django_capture_on_commit_callbacks):
    opt_out(lead)
    with django_capture_on_commit_callbacks(execute=True):
        action = message_propose(lead_id=lead.pk, user=user("manager"), body="Following up on your roof")
    assert action.kind == Action.Kind.SEND_EMAIL, "a person's reply goes by email, never by text"


def path_integration_proposes(lead, sms_outbox, django_capture_on_commit_callbacks):
    opt_out(lead)
    policy_set("follow_up", mode=Policy.Mode.AUTO, min_confidence=0)
    with django_capture_on_commit_callbacks(execute=True):
        action = system_message_propose(lead_id=lead.pk, body="Your quote is ready", workflow="follow_up")
    assert action.kind != Action.Kind.SEND_SMS


def path_new_message_processed(lead, sms_outbox, django_capture_on_commit_callbacks):
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0)
    other = Lead.objects.create(phone="+15128670301", name="Jo")
    opt_out(other)
    event = other.events.create(channel="api", source="crm", message="Roof quote 30301", received_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        event_process(event_id=event.pk)
    assert texts_to(sms_outbox, "+15128670301") == []


def path_cadence_step(lead, sms_outbox, django_capture_on_commit_callbacks):
    policy_set("follow_up", mode=Policy.Mode.AUTO, min_confidence=0)
    cadence = Cadence.objects.get(name="Gone quiet")
    enrollment_create(cadence=cadence, lead=lead, trigger="test")
    opt_out(lead)
    with django_capture_on_commit_callbacks(execute=True):
        cadence_pass(now=timezone.now() + timedelta(days=30))


def path_failed_send_retried(lead, sms_outbox, django_capture_on_commit_callbacks):
    draft = lead.actions.get(workflow="first_response")
    Action.objects.filter(pk=draft.pk).update(status=Action.Status.FAILED)
    opt_out(lead)
    with django_capture_on_commit_callbacks(execute=True):
        action_retry(action_id=draft.pk, user=user("manager"))


def path_stalled_send_settled(lead, sms_outbox, django_capture_on_commit_callbacks):
    from approvals.services.execution import _claim

    draft = lead.actions.get(workflow="first_response")
    Action.objects.filter(pk=draft.pk).update(status=Action.Status.APPROVED)
    _claim(draft.pk)  # the worker died mid-send
    opt_out(lead)
    Action.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        executions_stalled()


def path_missed_call_text_back(lead, sms_outbox, django_capture_on_commit_callbacks):
    policy_set("missed_call", mode=Policy.Mode.AUTO, min_confidence=0)
    opt_out(lead)
    params = {"CallSid": "CA9", "From": PHONE, "To": "+15125550000", "AccountSid": "AC1"}
    with django_capture_on_commit_callbacks(execute=True):
        call_answer(params)
        call_dial_result({**params, "DialCallStatus": "no-answer"})


def path_email_fallback_after_undelivered(lead, sms_outbox, django_capture_on_commit_callbacks):
    """A text the carrier could not deliver falls back to email: not to an address that unsubscribed."""
    from django.core import mail

    draft = lead.actions.get(workflow="first_response")
    with django_capture_on_commit_callbacks(execute=True):
        action_approve_many(action_ids=[draft.pk], user=user("manager"))
    sent = lead.messages.get(direction="out")
    opt_out(lead, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        message_delivery_update(provider_id=sent.provider_id, status="undelivered", error_code="30003")
    assert mail.outbox == []
    sms_outbox.clear()  # the text went before the (email) opt-out


PATHS = [
    path_waiting_draft_approved,
    path_approved_task_runs_late,
    path_claimed_before_the_opt_out,
    path_person_replies,
    path_integration_proposes,
    path_new_message_processed,
    path_cadence_step,
    path_failed_send_retried,
    path_stalled_send_settled,
    path_missed_call_text_back,
    path_email_fallback_after_undelivered,
]


@pytest.mark.parametrize("path", PATHS, ids=[p.__name__.removeprefix("path_") for p in PATHS])
def test_no_send_path_reaches_a_number_that_opted_out(lead, path, sms_outbox, django_capture_on_commit_callbacks):
    path(lead, sms_outbox, django_capture_on_commit_callbacks)
    assert texts_to(sms_outbox) == []
    lead.refresh_from_db()
    if lead.opted_out:
        with pytest.raises(channels.OptedOut):
            channels.send_sms(to=PHONE, body="the last line holds too")


def test_a_forgotten_address_is_still_refused_by_its_digest(demo):
    """The suppression list is read by digest: a lead whose flags say nothing is still refused."""
    from leads.models import Suppression

    Suppression.objects.create(channel="sms", address="", digest=contact_digest("+15128670399"))
    with pytest.raises(channels.OptedOut):
        channels.send_sms(to="+15128670399", body="hello")
