"""Every Twilio webhook and API event delivered twice and out of order: each is stored and answered once.

Twilio retries a callback it got no answer to, and a client retries a POST whose response it lost;
either may arrive after later ones. Only causes stay before their effects, as with the real sender:
a dial outcome follows the call it belongs to, a delivery report follows the send it reports on.
"""

import random
from collections import Counter

import pytest
from django.test import Client

from approvals.models import Action, Policy
from leads.models import InboundEvent, Lead, Message
from tests.conftest import policy_set
from tests.integrations.twilio_helpers import signed_post, sms_params, twilio_settings  # noqa: F401

pytestmark = pytest.mark.django_db
SMS, STATUS, VOICE, DIAL = (
    "/integrations/twilio/sms/",
    "/integrations/twilio/status/",
    "/integrations/twilio/voice/",
    "/integrations/twilio/voice/status/",
)


def _call(sid: str, caller: str, **extra) -> dict:
    return {"CallSid": sid, "AccountSid": "AC1", "From": caller, "To": "+15125550000", "CallStatus": "ringing", **extra}


def _api_event(external_id: str, **contact) -> dict:
    return {"channel": "form", "source": "partner-site", "external_id": external_id, **contact}


def _twice_shuffled(deliveries: list, rng: random.Random, after: dict | None = None) -> list:
    """Each delivery twice, shuffled; ``after`` maps a delivery's index to the one whose first copy it follows."""
    stream = [i for i in range(len(deliveries)) for _ in range(2)]
    rng.shuffle(stream)
    for index, cause in (after or {}).items():
        stream = [i for i in stream if i != index]
        first_cause = stream.index(cause)
        for _ in range(2):
            stream.insert(rng.randint(first_cause + 1, len(stream)), index)
    return [deliveries[i] for i in stream]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_webhook_and_api_event_twice_and_out_of_order_is_stored_and_answered_once(
    demo,
    api,
    twilio_settings,  # noqa: F811
    sms_outbox,
    django_capture_on_commit_callbacks,
    seed,
):
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0)
    rng = random.Random(seed)
    deliveries = [
        ("twilio", SMS, sms_params("SM" + "1" * 32, "Roof quote please, 30301", "+15128670701")),
        ("twilio", SMS, sms_params("SM" + "2" * 32, "Budget is about $12k", "+15128670701")),
        ("twilio", SMS, sms_params("SM" + "3" * 32, "New gutters? 30301", "+15128670702")),
        ("twilio", VOICE, _call("CA1", "+15128670703")),
        ("twilio", DIAL, _call("CA1", "+15128670703", DialCallStatus="no-answer")),
        ("api", "/api/v1/events/", _api_event("F1", phone="+15128670704", message="Siding quote, 30301")),
        ("api", "/api/v1/events/", _api_event("F2", email="kim@example.com", message="Roof repair quote 30301")),
    ]
    for kind, path, body in _twice_shuffled(deliveries, rng, after={4: 3}):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(path, body, format="json") if kind == "api" else signed_post(Client(), path, body)
        assert response.status_code in (200, 201, 202), (path, response.status_code, response.content)

    leads = Lead.objects.all()
    assert sorted(leads.exclude(phone="").values_list("phone", flat=True)) == [
        "+15128670701", "+15128670702", "+15128670703", "+15128670704",
    ]  # fmt: skip
    assert leads.count() == 5, "one lead per person"
    events = Counter(InboundEvent.objects.values_list("source", "external_id"))
    assert set(events.values()) == {1} and len(events) == 6, events  # three texts, one call, two API events
    assert Message.objects.filter(channel="call").count() == 1
    answers = Counter(Action.objects.values_list("lead_id", "workflow"))
    assert set(answers.values()) == {1}, answers
    texted = Counter(m["to"] for m in sms_outbox)
    assert set(texted.values()) == {1}, texted
    assert set(texted) == {"+15128670701", "+15128670702", "+15128670703", "+15128670704"}

    # Delivery reports for what was sent, twice each and out of order: forward only, nothing new stored.
    sent = list(Message.objects.filter(direction="out").values_list("provider_id", flat=True))
    reports = [("twilio", STATUS, {"MessageSid": sid, "MessageStatus": s, "AccountSid": "AC1"})
               for sid in sent for s in ("sent", "delivered")]  # fmt: skip
    messages_before = Message.objects.count()
    for _, path, body in _twice_shuffled(reports, rng):
        assert signed_post(Client(), path, body).status_code == 204
    assert Message.objects.count() == messages_before
    assert set(Message.objects.filter(direction="out").values_list("status", flat=True)) == {"delivered"}
