import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from audit.models import Decision
from leads.models import Lead
from routing.engine import LeadFacts
from routing.models import Rep, RoutingRule, Team
from routing.services import lead_route
from tests.concurrency import run_in_threads
from tests.factories import LeadFactory, UserFactory


@pytest.mark.django_db
def test_invalid_rule_cannot_be_saved_through_validation(demo):
    rule = RoutingRule(name="Bad", team=Team.objects.get(), conditions={"conditions": [{"field": "x", "op": "equals"}]})
    with pytest.raises(ValidationError) as info:
        rule.full_clean()
    assert "unknown field 'x'" in str(info.value.message_dict["conditions"])


@pytest.mark.django_db
def test_inactive_reps_are_skipped_and_empty_team_escalates(demo):
    Rep.objects.filter(user__username="rep2").update(active=False)
    owners = [lead_route(lead=LeadFactory(), facts=LeadFacts()).rep.user.username for _ in range(3)]
    assert owners == ["rep1", "rep3", "rep1"]
    Rep.objects.update(active=False)
    lead = LeadFactory()
    assert lead_route(lead=lead, facts=LeadFacts()) is None
    decision = Decision.objects.filter(lead=lead, step="route").get()
    assert decision.outcome == "escalated" and "has no active rep" in decision.reasoning
    assert Lead.objects.get(pk=lead.pk).owner is None


@pytest.mark.django_db
def test_no_matching_rule_leaves_lead_unassigned_and_visible(demo):
    RoutingRule.objects.update(
        conditions={"match": "all", "conditions": [{"field": "channel", "op": "equals", "value": "x"}]}
    )
    lead = LeadFactory()
    assert lead_route(lead=lead, facts=LeadFacts(channel="sms")) is None
    assert Decision.objects.get(lead=lead).outcome == "escalated"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_round_robin_never_skips_or_doubles(demo):
    team = Team.objects.get()
    for n in range(2):
        Rep.objects.create(user=UserFactory(username=f"extra{n}"), team=team)
    leads = [LeadFactory() for _ in range(200)]
    chunks = [leads[i::4] for i in range(4)]
    run_in_threads(lambda chunk: [lead_route(lead=lead, facts=LeadFacts()) for lead in chunk], chunks)
    per_rep = [Lead.objects.filter(owner=rep.user).count() for rep in Rep.objects.all()]
    assert per_rep == [40] * 5, per_rep
