"""The managers' autonomy page: every workflow's dial, gates and evidence; changes logged; reps kept out."""

import pytest

from approvals.models import Action, Policy, PolicyGate, Workflow
from audit.models import Decision
from tests.conftest import policy_set, user
from tests.factories import ActionFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client, demo):
    client.force_login(user("manager"))
    return client


def test_reps_cannot_open_or_change_autonomy(client, demo):
    client.force_login(user("rep1"))
    assert client.get("/portal/autonomy/").status_code == 403
    assert client.post("/portal/autonomy/quote/", {"mode": "auto"}).status_code == 403
    assert Policy.objects.get(workflow="quote").mode == "draft"
    assert "Autonomy" not in client.get("/portal/queue/").content.decode()


def test_the_page_shows_every_workflow_with_its_gates(manager):
    html = manager.get("/portal/autonomy/").content.decode()
    for _, label in Workflow.choices:
        assert f"<h2>{label}</h2>" in html
    assert "Any refund" in html and "every action" in html
    assert "No decisions yet" in html


def test_turning_the_dial_is_logged(manager):
    response = manager.post(
        "/portal/autonomy/quote/",
        {"mode": "observe", "min_confidence": "0.8", "graduation_bar": "0.9", "graduation_window": "100"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#workflow-quote")
    policy = Policy.objects.get(workflow="quote")
    assert (policy.mode, policy.min_confidence, policy.graduation_bar, policy.graduation_window) == (
        "observe",
        0.8,
        0.9,
        100,
    )
    assert Decision.objects.filter(step="policy", workflow="quote", actor__username="manager").exists()


def test_bad_numbers_are_refused_in_place(manager):
    response = manager.post(
        "/portal/autonomy/quote/", {"mode": "auto", "min_confidence": "2", "graduation_window": "3"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Use a number between 0 and 1." in html and "Measure over 10 to 1,000 decisions." in html
    assert Policy.objects.get(workflow="quote").mode == "draft"
    words = manager.post("/portal/autonomy/quote/", {"mode": "sometimes", "min_confidence": "high"})
    assert words.status_code == 422
    assert "is not a valid choice" in words.content.decode() and "must be a float" in words.content.decode()


def test_add_and_remove_a_gate(manager):
    response = manager.post(
        "/portal/autonomy/quote/gates/",
        {"name": "Quotes over 5,000", "conditions": "amount > 5000", "reviewer": "manager"},
    )
    assert response.status_code == 302
    gate = PolicyGate.objects.get(name="Quotes over 5,000")
    assert "amount &gt; 5000" in manager.get("/portal/autonomy/").content.decode()
    bad = manager.post("/portal/autonomy/quote/gates/", {"name": "x", "conditions": "amount > lots"})
    assert bad.status_code == 422 and "Line 1" in bad.content.decode()
    assert manager.post(f"/portal/autonomy/quote/gates/{gate.pk}/delete/").status_code == 302
    assert not PolicyGate.objects.filter(pk=gate.pk).exists()


def test_graduate_button_appears_above_the_bar_and_graduates(manager):
    policy_set("follow_up", graduation_window=10, graduation_bar=0.9)
    lead = LeadFactory(owner=user("rep1"))
    for _ in range(10):
        ActionFactory(lead=lead, workflow="follow_up", status=Action.Status.DONE, decided_by=user("rep1"))
    html = manager.get("/portal/autonomy/").content.decode()
    assert "/portal/autonomy/follow_up/graduate/" in html and "100% agreed over the last 10" in html
    assert "/portal/autonomy/quote/graduate/" not in html
    assert manager.post("/portal/autonomy/follow_up/graduate/").status_code == 302
    assert Policy.objects.get(workflow="follow_up").mode == "auto"
    refused = manager.post("/portal/autonomy/quote/graduate/")
    assert refused.status_code == 422 and "Not ready to graduate" in refused.content.decode()


def test_the_admin_gate_form_reads_and_checks_condition_lines(demo):
    from approvals.admin import PolicyGateForm

    policy = Policy.objects.get(workflow="quote")
    bad = PolicyGateForm(
        data={
            "name": "Big",
            "reviewer": "manager",
            "active": True,
            "match": "all",
            "conditions_text": "amount > 5000\nregion is US-TX",
        }
    )
    assert not bad.is_valid()
    assert "Line 2" in bad.errors["conditions_text"][0] and "unknown field 'region'" in bad.errors["conditions_text"][0]
    good = PolicyGateForm(
        data={"name": "Big", "reviewer": "manager", "active": True, "match": "all", "conditions_text": "amount > 5000"},
        instance=PolicyGate(policy=policy),
    )
    assert good.is_valid(), good.errors
    gate = good.save()
    assert gate.conditions == {"match": "all", "conditions": [{"field": "amount", "op": "gt", "value": 5000}]}
    assert gate.summary == "amount > 5000"
