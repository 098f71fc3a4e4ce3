"""The clarifying loop: ask what is missing one question at a time, re-qualify each reply, hand over at the end."""

import pytest

from approvals.models import Action
from audit.models import Decision
from leads.models import Lead
from routing.models import QualificationCriteria

pytestmark = pytest.mark.django_db
PHONE = "+15128670301"


@pytest.fixture
def asks(demo):
    criteria = QualificationCriteria.objects.get(active=True)
    criteria.required_facts, criteria.max_questions = "postal_code, budget", 2
    criteria.save()


def say(capture, message, **extra):
    return capture(channel="sms", source="twilio", phone=PHONE, message=message, **extra).json()["lead"]


def questions(lead_id):
    return [a.body for a in Action.objects.filter(lead_id=lead_id, workflow="clarifying_question").order_by("id")]


def test_a_lead_is_asked_one_question_at_a_time_until_it_qualifies(asks, capture):
    lead_id = say(capture, "Need a new roof, shingles blew off")
    lead = Lead.objects.get(pk=lead_id)
    assert lead.qualification["status"] == "needs_clarification" and lead.qualification["asked"] == ["postal_code"]
    assert len(questions(lead_id)) == 1 and "ZIP code" in questions(lead_id)[0]
    assert not Action.objects.filter(lead_id=lead_id, workflow="first_response").exists()

    say(capture, "It's 30301")
    lead.refresh_from_db()
    assert (lead.postal_code, lead.region) == ("30301", "US-GA") and lead.qualification["intent"] == "new_project"
    assert lead.qualification["missing"] == ["budget"] and lead.qualification["asked"] == ["postal_code", "budget"]
    assert "budget" in questions(lead_id)[1]

    say(capture, "around $18k")
    lead.refresh_from_db()
    assert lead.qualification["status"] == "qualified" and lead.stage == "qualified"
    assert lead.qualification["budget_amount"] == 18000
    assert len(questions(lead_id)) == 2  # nothing more is asked


def test_when_the_questions_run_out_a_person_takes_over(asks, capture):
    lead_id = say(capture, "I need new gutters")
    say(capture, "not sure yet")
    say(capture, "dunno, just call me")
    assert len(questions(lead_id)) == 2
    handover = Decision.objects.filter(lead_id=lead_id, outcome="escalated", workflow="clarifying_question")
    assert handover.count() == 1 and handover.get().reasoning.startswith("Handed to a person: still missing")
    assert Lead.objects.get(pk=lead_id).owner is not None


def test_noise_gets_no_question_and_no_rep(asks, capture):
    lead_id = say(capture, "Are you hiring? I have 5 years of roofing experience")
    lead = Lead.objects.get(pk=lead_id)
    assert lead.qualification["intent"] == "job_seeker" and lead.stage == "unqualified" and lead.owner is None
    assert not Action.objects.filter(lead_id=lead_id).exists()


def test_an_answer_prepared_before_a_newer_event_was_applied_is_asked_again(asks, capture, api):
    from leads.models import InboundEvent
    from routing.pipeline import event_apply, event_prepare, event_process

    def post(message):
        body = {"channel": "sms", "source": "twilio", "phone": PHONE, "message": message}
        assert api.post("/api/v1/events/", body, format="json").status_code == 202  # pipeline not run

    post("Need a new roof, ZIP 30301")
    post("budget is $18k")
    first, second = InboundEvent.objects.order_by("received_at", "id")
    stale = event_prepare(first.pk)  # the model is asked; meanwhile another worker applies the reply
    assert stale.qualification.budget_amount is None
    event_process(event_id=second.pk)
    event_apply(stale)
    lead = Lead.objects.get(pk=first.lead_id)
    # Applied as prepared, the first answer would have wiped the budget the reply gave.
    assert lead.qualification["budget_amount"] == 18000
    first_qualify = Decision.objects.filter(lead=lead, step="qualify").order_by("id").last()
    assert first_qualify.input_summary == "Need a new roof, ZIP 30301"
    assert first_qualify.output["budget_amount"] == 18000
