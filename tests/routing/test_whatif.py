import pytest
from django.apps import apps
from django.test import Client

from leads.models import Lead
from routing.models import Rep, RoutingRule, Team
from tests.conftest import policy_set, user_client

TEXAS = {
    "channel": "sms",
    "source": "twilio",
    "name": "Dana Whitfield",
    "phone": "(512) 867-5309",
    "message": "Need a quote to replace my roof, budget about $12k.",
    "postal_code": "78701",
}


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label != "django_q"}


@pytest.mark.django_db
def test_simulate_answers_the_whole_decision_and_stores_nothing(demo, api):
    policy_set("first_response", mode="auto", min_confidence=0.95)
    before, cursor = row_counts(), Team.objects.get().last_assigned_rep_id
    response = api.post("/api/v1/simulate/", TEXAS, format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["lead"] == {"existing": None, "region": "US-TX", "timezone": "America/Chicago"}
    assert answer["qualification"]["intent"] == "quote_request"
    assert answer["qualification"]["budget_amount"] == 12000
    route = answer["route"]
    assert route["rule"]["name"] == "Texas" and route["rep"]["name"] == "Ana Rep"
    assert (
        route["reason"] == "rule 'Texas' matched (region is US-TX) → territory US-TX → least-loaded: Ana Rep had 0 open"
    )
    first = answer["first_response"]
    assert (first["policy_mode"], first["outcome"]) == ("auto", "pending")
    assert first["escalation"].startswith("confidence ") and first["escalation"].endswith("< 0.95")
    assert first["draft"]["to"] == "+15128675309" and "Ana" in first["draft"]["body"]
    assert row_counts() == before
    assert Team.objects.get().last_assigned_rep_id == cursor


@pytest.mark.django_db
def test_simulate_matches_what_the_pipeline_then_does(demo, api, capture):
    predicted = api.post("/api/v1/simulate/", {**TEXAS, "postal_code": "30301"}, format="json").json()
    lead = Lead.objects.get(pk=capture(**{**TEXAS, "postal_code": "30301"}).json()["lead"])
    assert lead.assignments.get().reason == predicted["route"]["reason"]
    again = api.post("/api/v1/simulate/", {**TEXAS, "postal_code": "30301"}, format="json").json()
    assert again["lead"]["existing"] == lead.pk
    assert again["route"]["reason"] == f"already owned by {lead.owner}; not re-routed"
    assert again["first_response"] == {"outcome": "none", "reason": "this lead already has a first response"}


@pytest.mark.django_db
def test_simulate_names_the_rep_as_the_sent_message_does(demo, api, capture):
    policy_set("first_response", mode="draft")
    for rep in Rep.objects.select_related("user"):  # no first name: messages fall back to the username
        rep.user.first_name = ""
        rep.user.save()
    predicted = api.post("/api/v1/simulate/", {**TEXAS, "postal_code": "30301"}, format="json").json()
    lead = Lead.objects.get(pk=capture(**{**TEXAS, "postal_code": "30301"}).json()["lead"])
    assert predicted["first_response"]["draft"]["body"] == lead.actions.get().body
    assert lead.owner.username in lead.actions.get().body


@pytest.mark.django_db
def test_simulate_says_noise_is_not_routed(demo, api):
    answer = api.post("/api/v1/simulate/", {**TEXAS, "message": "STOP"}, format="json").json()
    assert answer["route"]["reason"] == "not routed: intent is opt_out" and answer["first_response"] is None


@pytest.mark.django_db
def test_simulate_validates_like_capture_and_is_for_managers_and_integrations(demo, api):
    response = api.post("/api/v1/simulate/", {"channel": "sms", "source": "x"}, format="json")
    assert response.status_code == 400 and "phone" in response.json()
    response = api.post("/api/v1/simulate/", {**TEXAS, "channel": "pigeon"}, format="json")
    assert response.status_code == 400 and "channel" in response.json()
    assert user_client("rep1").post("/api/v1/simulate/", TEXAS, format="json").status_code == 403
    assert user_client("manager").post("/api/v1/simulate/", TEXAS, format="json").status_code == 200
    assert Client().post("/api/v1/simulate/", TEXAS, content_type="application/json").status_code in (401, 403)


def admin_client() -> Client:
    client = Client()
    assert client.login(username="manager", password="demo")
    return client


def rule_form(rule: RoutingRule, **overrides) -> dict:
    data = {
        "name": rule.name,
        "priority": rule.priority,
        "active": "on",
        "match": "all",
        "conditions_text": "",
        "team": rule.team_id or "",
        "rep": rule.rep_id or "",
        "strategy": rule.strategy,
        "out_of_hours": rule.out_of_hours,
        "fallback_team": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_admin_edits_conditions_as_readable_lines_with_history(demo):
    rule = RoutingRule.objects.get(name="Texas")
    client = admin_client()
    page = client.get(f"/admin/routing/routingrule/{rule.pk}/change/").content.decode()
    assert "region is US-TX</textarea>" in page
    response = client.post(
        f"/admin/routing/routingrule/{rule.pk}/change/",
        rule_form(rule, conditions_text="region in US-TX, US-OK\nbudget between 5000 and 50000", by_territory="on"),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.conditions["conditions"][1] == {"field": "budget", "op": "between", "value": [5000, 50000]}
    assert rule.history.first().history_user.username == "manager"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"conditions_text": "channel is sms\nscore > lots"},
            "Line 2 (&#x27;score &gt; lots&#x27;): &#x27;&gt;&#x27; needs a number",
        ),
        ({"conditions_text": "message matches (roof"}, "does not compile"),
        ({"conditions_text": "colour is red"}, "unknown field &#x27;colour&#x27;"),
        ({"team": ""}, "Choose the team"),
        ({"team": "999999"}, "Select a valid choice"),
    ],
)
def test_admin_refuses_a_broken_rule_and_says_why(demo, overrides, message):
    rule = RoutingRule.objects.get(name="Texas")
    response = admin_client().post(f"/admin/routing/routingrule/{rule.pk}/change/", rule_form(rule, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.django_db
def test_admin_replay_shows_how_assignments_would_change(demo, capture):
    for n in range(6):
        capture(**{**TEXAS, "phone": f"+1415555{n:04d}", "postal_code": "30301" if n % 2 else "78701"})
    rule = RoutingRule.objects.get(name="Texas")
    client = admin_client()
    before = row_counts()
    response = client.post(
        "/admin/routing/routingrule/replay/",
        {**rule_form(rule, conditions_text="region is US-GA"), "replay_rule": rule.pk, "replay_count": "50"},
    )
    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    assert "Replayed the last 6 leads. This rule takes 3 of them now and 3 with your edits; 6 would go" in page
    assert "<td>Ana Rep</td><td>3</td><td>2</td><td>-1</td>" in page
    assert "Leads that would move" in page
    assert row_counts() == before
    rule.refresh_from_db()
    assert rule.conditions["conditions"][0]["value"] == "US-TX"  # the edit was not saved


@pytest.mark.django_db
def test_admin_replay_of_a_broken_edit_shows_the_errors(demo):
    rule = RoutingRule.objects.get(name="Texas")
    response = admin_client().post(
        "/admin/routing/routingrule/replay/", {**rule_form(rule, conditions_text="score >"), "replay_rule": rule.pk}
    )
    assert response.status_code == 200 and "Fix the rule above" in response.content.decode()


@pytest.mark.django_db
def test_admin_replay_needs_rule_permissions(demo):
    rep = Client()
    rep.login(username="rep1", password="demo")
    response = rep.post("/admin/routing/routingrule/replay/", {"replay_rule": RoutingRule.objects.first().pk})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Rep.objects.count() == 3
