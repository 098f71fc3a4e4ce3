import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from audit.models import Decision
from leads.conditions import LeadFacts, parse_lines
from leads.models import Lead
from routing.directory import config_changed
from routing.models import Rep, RoutingRule, Team, Territory, WorkingHours
from routing.services import lead_route
from tests.concurrency import run_in_threads
from tests.factories import LeadFactory, UserFactory

ROOF_TX = {
    "name": "Dana Whitfield",
    "phone": "(512) 867-5309",
    "message": "Need a quote to replace my roof, budget about $12k.",
    "postal_code": "78701",
}


def owner_of(response) -> str:
    return Lead.objects.get(pk=response.json()["lead"]).owner.username


def rule(name, conditions="", priority=5, **fields):
    fields.setdefault("team", Team.objects.get(name="Sales"))
    new = RoutingRule(name=name, priority=priority, conditions=parse_lines(conditions), **fields)
    new.full_clean()
    new.save()
    return new


@pytest.mark.django_db
def test_inactive_reps_are_skipped_and_an_empty_team_leaves_the_lead_visible(demo):
    rep2 = Rep.objects.get(user__username="rep2")
    rep2.active = False
    rep2.save()
    owners = [lead_route(lead=LeadFactory(), facts=LeadFacts()).rep.user.username for _ in range(3)]
    assert owners == ["rep1", "rep3", "rep1"]
    for rep in Rep.objects.all():
        rep.active = False
        rep.save()
    lead = LeadFactory()
    assert lead_route(lead=lead, facts=LeadFacts()) is None
    decision = Decision.objects.filter(lead=lead, step="route").get()
    assert decision.outcome == "escalated" and "left unassigned for a manager" in decision.reasoning
    assert Lead.objects.get(pk=lead.pk).owner is None


@pytest.mark.django_db
def test_texas_lead_is_located_from_its_zip_and_goes_to_the_territory_owner(demo, capture):
    response = capture(**ROOF_TX)
    lead = Lead.objects.get(pk=response.json()["lead"])
    assert (lead.region, lead.country, lead.timezone) == ("US-TX", "US", "America/Chicago")
    assert lead.owner.username == "rep1"
    assignment = lead.assignments.get()
    assert assignment.reason == (
        "rule 'Texas' matched (region is US-TX) → territory US-TX → least-loaded: Ana Rep had 0 open"
    )
    assert assignment.rule.name == "Texas"


@pytest.mark.django_db
def test_account_owner_keeps_the_account(demo, capture):
    rule("Business domains", "email_domain is not empty", by_account_owner=True)
    first = capture(email="pat@acme-builders.com", message="New roof for our office")
    second = capture(email="lee@acme-builders.com", message="Gutters for the warehouse")
    third = capture(email="sam@gmail.com", message="Roof repair")
    fourth = capture(email="kim@gmail.com", message="Siding")
    assert owner_of(first) == owner_of(second)
    assert owner_of(third) != owner_of(fourth)  # a free-mail domain is not an account
    reason = Lead.objects.get(pk=second.json()["lead"]).assignments.get().reason
    owner = Lead.objects.get(pk=first.json()["lead"]).owner
    assert reason.endswith(f"account owner: {owner.rep} already owns this account")


@pytest.mark.django_db
def test_capacity_counts_open_leads_in_the_database(demo):
    Rep.objects.exclude(user__username="rep1").update(active=False)
    config_changed()
    ana = Rep.objects.get(user__username="rep1")
    ana.capacity = 2
    ana.save()
    first, second = (lead_route(lead=LeadFactory(), facts=LeadFacts()) for _ in range(2))
    assert first.rep == second.rep == ana
    third_lead = LeadFactory()
    assert lead_route(lead=third_lead, facts=LeadFacts()) is None
    assert "at capacity" in Decision.objects.get(lead=third_lead, step="route").reasoning
    Lead.objects.filter(pk=first.lead_id).update(stage="won")  # a closed lead frees a place
    assert lead_route(lead=third_lead, facts=LeadFacts()).rep == ana


@pytest.mark.django_db
def test_weighted_rotation_state_survives_between_leads(demo):
    for username, weight in (("rep1", 2), ("rep2", 1), ("rep3", 1)):
        rep = Rep.objects.get(user__username=username)
        rep.weight = weight
        rep.save()
    RoutingRule.objects.filter(name="Every lead to Sales").update(strategy="weighted_round_robin")
    config_changed()
    owners = [lead_route(lead=LeadFactory(), facts=LeadFacts()).rep.user.username for _ in range(8)]
    assert owners.count("rep1") == 4 and owners.count("rep2") == 2 and owners.count("rep3") == 2
    assert sum(Rep.objects.values_list("rotation_credit", flat=True)) == 0


@pytest.mark.django_db
def test_out_of_hours_rule_sends_to_fallback_team(demo):
    night = Team.objects.create(name="Night desk")
    Rep.objects.create(user=UserFactory(username="owl"), team=night)
    for rep in Rep.objects.filter(team__name="Sales"):
        WorkingHours.objects.create(rep=rep, weekday=0, start="09:00", end="09:01")  # never now, practically
    rule("Fallback at night", fallback_team=night, out_of_hours="fallback")
    assignment = lead_route(lead=LeadFactory(), facts=LeadFacts())
    assert assignment.rep.user.username == "owl"
    assert "all 3 unavailable (3 off shift) → fallback team 'Night desk' → round-robin" in assignment.reason


@pytest.mark.django_db
def test_broken_rule_at_run_time_is_skipped_with_a_decision_and_the_lead_is_not_lost(demo):
    broken = rule("Broken", "channel is sms")
    RoutingRule.objects.filter(pk=broken.pk).update(conditions={"conditions": [{"field": "x", "op": "?"}]})
    config_changed()
    lead = LeadFactory()
    assignment = lead_route(lead=lead, facts=LeadFacts(channel="sms"))
    assert assignment is not None
    skipped = Decision.objects.get(lead=lead, outcome="skipped")
    assert skipped.reasoning.startswith("rule 'Broken' skipped: Condition 1: unknown field 'x'")


@pytest.mark.django_db
def test_rule_whose_team_emptied_falls_back(demo):
    other = Team.objects.create(name="Commercial")
    solo = Rep.objects.create(user=UserFactory(username="solo"), team=other)
    rule("Commercial", "lead_type is commercial", team=other)
    solo.active = False
    solo.save()
    assignment = lead_route(lead=LeadFactory(), facts=LeadFacts(lead_type="commercial"))
    assert assignment.rep.team.name == "Sales"
    assert "nobody in the rule's team → fallback team 'Sales'" in assignment.reason


@pytest.mark.django_db
def test_rule_edits_apply_to_the_next_lead(demo):
    assert lead_route(lead=LeadFactory(), facts=LeadFacts(channel="sms")).rule.name == "Every lead to Sales"
    rule("SMS", "channel is sms", team=None, rep=Rep.objects.get(user__username="rep3"))
    assignment = lead_route(lead=LeadFactory(), facts=LeadFacts(channel="sms"))
    assert (assignment.rule.name, assignment.rep.user.username) == ("SMS", "rep3")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"conditions": {"conditions": [{"field": "x", "op": "equals", "value": 1}]}}, "conditions", "unknown field"),
        ({"conditions": {"conditions": [{"field": "message", "op": "regex", "value": "("}]}}, "conditions", "compile"),
        ({"team": None}, "team", "Choose the team"),
        ({"team_name": "Empty"}, "team", "has no active rep"),
        ({"fallback_same": True}, "fallback_team", "different team"),
        ({"by_territory": True}, "by_territory", "No territories"),
    ],
)
def test_unusable_rules_are_refused_with_the_reason(demo, fields, field, message):
    sales = Team.objects.get(name="Sales")
    new = RoutingRule(name="New", team=sales)
    if fields.pop("team_name", None):
        new.team = Team.objects.create(name="Empty")
    if fields.pop("fallback_same", None):
        new.fallback_team = sales
    Territory.objects.all().delete()
    for name, value in fields.items():
        setattr(new, name, value)
    with pytest.raises(ValidationError) as info:
        new.full_clean()
    assert message in str(info.value.message_dict[field])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "code", "saved_or_error"),
    [
        ("country", "us", "US"),
        ("country", "XX", "not an ISO 3166 country code"),
        ("region", "us-tx", "US-TX"),
        ("region", "US-ZZ", "not an ISO 3166-2 region code"),
        ("postal", "787*", "787"),
        ("postal", "7", "not a postal-code prefix"),
    ],
)
def test_territory_codes_are_checked(demo, kind, code, saved_or_error):
    territory = Territory(kind=kind, code=code, rep=Rep.objects.first())
    if saved_or_error.isupper() or saved_or_error.isdigit():
        territory.full_clean()
        assert territory.code == saved_or_error
    else:
        with pytest.raises(ValidationError, match=saved_or_error):
            territory.full_clean()


@pytest.mark.django_db
def test_rep_and_team_settings_are_validated(demo):
    rep = Rep.objects.first()
    rep.timezone = "Mars/Olympus"
    with pytest.raises(ValidationError, match="Unknown time zone"):
        rep.full_clean()
    with pytest.raises(ValidationError, match="end must be after the start"):
        WorkingHours(rep=rep, weekday=1, start="17:00", end="09:00").full_clean()
    with pytest.raises(ValidationError, match="already the fallback team"):
        Team(name="Second", is_fallback=True).full_clean()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_round_robin_gives_each_of_five_reps_a_fifth(demo):
    team = Team.objects.get(name="Sales")
    for n in range(2):
        Rep.objects.create(user=UserFactory(username=f"extra{n}"), team=team)
    leads = list(Lead.objects.bulk_create([Lead(phone=f"+1415555{n:04d}") for n in range(1000)]))
    chunks = [leads[i::4] for i in range(4)]
    run_in_threads(lambda chunk: [lead_route(lead=lead, facts=LeadFacts()) for lead in chunk], chunks)
    per_rep = [Lead.objects.filter(owner=rep.user).count() for rep in Rep.objects.all()]
    assert sum(per_rep) == 1000 and all(199 <= n <= 201 for n in per_rep), per_rep


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_routing_never_overfills_a_capped_rep(demo):
    for rep in Rep.objects.all():
        rep.capacity = 20
        rep.save()
    RoutingRule.objects.filter(name="Every lead to Sales").update(strategy="least_loaded")
    config_changed()
    leads = list(Lead.objects.bulk_create([Lead(phone=f"+1415666{n:04d}") for n in range(80)]))
    run_in_threads(
        lambda chunk: [lead_route(lead=lead, facts=LeadFacts()) for lead in chunk], [leads[i::4] for i in range(4)]
    )
    per_rep = sorted(Lead.objects.filter(owner=rep.user).count() for rep in Rep.objects.all())
    assert per_rep == [20, 20, 20]
    assert Lead.objects.filter(owner__isnull=True).count() == 20
