"""The dial and its gates: what waits, for whom, why in words; graduation from the record; every change logged."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from approvals import services
from approvals.exceptions import ActionForbidden
from approvals.models import Action, BusinessHours, Policy, PolicyGate, Reviewer, Workflow
from approvals.selectors import graduation_stats
from audit.models import Decision
from leads.models import Message, VipAccount
from tests.conftest import policy_set, user
from tests.factories import ActionFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(demo):
    return LeadFactory(owner=user("rep1"), phone="+15128670042", company="Acme Roofing", name="Dee Fox")


def quote(lead, amount, by="rep1"):
    return services.message_propose(
        lead_id=lead.pk, user=user(by), body="Roof replacement, all in.", workflow=Workflow.QUOTE, amount=amount
    )


def test_a_gate_holds_a_quote_over_the_limit_for_managers_and_says_why(
    lead, sms_outbox, django_capture_on_commit_callbacks
):
    services.gate_add(workflow="quote", user=user("manager"), name="Quotes over 5,000", conditions_text="amount > 5000")
    with django_capture_on_commit_callbacks(execute=True):
        small = quote(lead, Decimal("4200"))
        big = quote(lead, Decimal("7500"))
    assert small.status == Action.Status.APPROVED and not small.escalated
    assert big.status == Action.Status.PENDING
    assert big.escalation_reason == "gate 'Quotes over 5,000': quote amount 7,500 > 5,000"
    assert big.review_by == Reviewer.MANAGER
    assert [m["body"] for m in sms_outbox] == ["Roof replacement, all in."], "only the small quote went out"
    propose = Decision.objects.get(action=big, step="propose")
    assert propose.outcome == "escalated" and "escalated to a manager" in propose.reasoning


def test_the_rep_cannot_decide_what_a_gate_sent_to_managers(lead, django_capture_on_commit_callbacks, sms_outbox):
    services.gate_add(workflow="quote", user=user("manager"), name="Big", conditions_text="amount > 5000")
    big = quote(lead, 7500)
    with pytest.raises(ActionForbidden, match="A manager must decide this one"):
        services.action_approve(action_id=big.pk, user=user("rep1"))
    with django_capture_on_commit_callbacks(execute=True):
        services.action_approve(action_id=big.pk, user=user("manager"))
    big.refresh_from_db()
    assert big.status == Action.Status.DONE and big.decided_by.username == "manager"
    assert len(sms_outbox) == 1


def test_a_gate_wins_over_auto(lead):
    policy_set("quote", mode=Policy.Mode.AUTO, min_confidence=0)
    services.gate_add(workflow="quote", user=user("manager"), name="Big", conditions_text="amount > 5000")
    action = services.system_message_propose(lead_id=lead.pk, workflow="quote", body="Quote", amount=9000)
    assert action.status == Action.Status.PENDING and action.escalation_reason.startswith("gate 'Big'")


def test_any_refund_and_any_contract_always_wait(lead):
    # Seeded: the refund and contract policies each have a gate with no conditions.
    for workflow in ("refund", "contract"):
        policy_set(workflow, mode=Policy.Mode.AUTO)
        action = services.system_message_propose(lead_id=lead.pk, workflow=workflow, body="About your job")
        assert action.status == Action.Status.PENDING
        assert action.escalation_reason == f"gate 'Any {workflow}': every {workflow}"
        assert action.review_by == Reviewer.MANAGER


def test_first_message_to_a_vip_account_waits_but_not_the_second(lead, django_capture_on_commit_callbacks):
    policy_set("follow_up", mode=Policy.Mode.AUTO, min_confidence=0)
    services.gate_add(
        workflow="follow_up", user=user("manager"), name="VIP first", conditions_text="vip is yes\nfirst_message is yes"
    )
    plain = services.system_message_propose(lead_id=lead.pk, workflow="follow_up", body="Hello")
    assert plain.status == Action.Status.APPROVED, "not a VIP yet"
    VipAccount.objects.create(name="Acme", company="ACME roofing")
    other = LeadFactory(owner=user("rep1"), company="Acme Roofing", phone="+15128670043")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.system_message_propose(lead_id=other.pk, workflow="follow_up", body="Hello")
    assert first.status == Action.Status.PENDING
    assert first.escalation_reason == "gate 'VIP first': vip is yes and first message is yes"
    Message.objects.create(lead=other, direction=Message.Direction.OUTBOUND, channel="sms", to=other.phone, body="x")
    second = services.system_message_propose(lead_id=other.pk, workflow="follow_up", body="Hello again")
    assert second.status == Action.Status.APPROVED


def test_outside_business_hours_is_read_on_the_leads_clock(lead, monkeypatch):
    BusinessHours.objects.all().delete()
    BusinessHours.objects.create(weekday=1, opens="08:00", closes="18:00")  # Tuesday
    services.gate_add(
        workflow="follow_up", user=user("manager"), name="After hours", conditions_text="outside_business_hours is yes"
    )
    policy_set("follow_up", mode=Policy.Mode.AUTO, min_confidence=0)
    lead.timezone = "America/Denver"
    lead.save()
    # Tuesday 2026-11-24 19:30 in Denver is 02:30 UTC on Wednesday: outside, on the lead's clock.
    evening = datetime(2026, 11, 24, 19, 30, tzinfo=ZoneInfo("America/Denver"))
    monkeypatch.setattr(timezone, "now", lambda: evening.astimezone(ZoneInfo("UTC")))
    late = services.system_message_propose(lead_id=lead.pk, workflow="follow_up", body="Evening")
    assert late.status == Action.Status.PENDING
    assert late.escalation_reason == "gate 'After hours': outside business hours is yes"
    morning = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("America/Denver"))
    monkeypatch.setattr(timezone, "now", lambda: morning.astimezone(ZoneInfo("UTC")))
    assert services.system_message_propose(lead_id=lead.pk, workflow="follow_up", body="Morning").status == "approved"


def test_a_person_reply_is_sent_without_the_dial_but_observe_still_never_acts_alone(
    lead, sms_outbox, django_capture_on_commit_callbacks
):
    policy_set("follow_up", mode=Policy.Mode.OBSERVE)
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.message_propose(lead_id=lead.pk, user=user("rep1"), body="On my way")
        shadow = services.system_message_propose(lead_id=lead.pk, workflow="follow_up", body="System idea")
    assert reply.proposed_by.username == "rep1" and reply.decided_by.username == "rep1"
    assert shadow.status == Action.Status.SHADOW
    assert [m["body"] for m in sms_outbox] == ["On my way"]


def test_other_reps_lead_is_not_found_for_a_reply(lead):
    with pytest.raises(services.ActionNotFound):
        services.message_propose(lead_id=lead.pk, user=user("rep2"), body="Hi")


def test_gate_conditions_are_validated_with_the_line_named(demo):
    with pytest.raises(ValidationError) as error:
        services.gate_add(workflow="quote", user=user("manager"), name="Bad", conditions_text="amount > lots")
    assert "Line 1" in error.value.message_dict["conditions"][0]
    with pytest.raises(ValidationError) as error:
        services.gate_add(workflow="quote", user=user("manager"), name="", conditions_text="region is US-TX")
    assert set(error.value.message_dict) == {"name", "conditions"}
    assert "unknown field 'region'" in error.value.message_dict["conditions"][0]


def test_policy_changes_are_validated_logged_and_kept_in_history(demo):
    manager = user("manager")
    with pytest.raises(ValidationError) as error:
        services.policy_update(workflow="quote", user=manager, min_confidence=1.5)
    assert "min_confidence" in error.value.message_dict
    services.policy_update(workflow="quote", user=manager, mode="auto", min_confidence=0.8)
    policy = Policy.objects.get(workflow="quote")
    assert policy.mode == "auto" and policy.history.first().history_user == manager
    decision = Decision.objects.filter(step="policy").latest("created_at")
    assert decision.actor == manager and decision.output["changed"]["mode"] == ["draft", "auto"]
    assert "mode draft → auto" in decision.reasoning


def decide(n, workflow="first_response", **fields):
    lead = LeadFactory(owner=user("rep1"))
    defaults = {"status": Action.Status.DONE, "decided_by": user("rep1"), "workflow": workflow}
    return [ActionFactory(lead=lead, **{**defaults, **fields}) for _ in range(n)]


def test_graduation_counts_unchanged_edited_rejected_over_the_window(demo):
    policy_set("first_response", graduation_window=20, graduation_bar=0.75)
    decide(2)  # the oldest two: the 20 newer rows below push them out of the window
    decide(14)
    decide(3, edited=True, edit_distance=0.2)
    decide(1, edited=True, edit_distance=0.4)
    decide(2, status=Action.Status.REJECTED)
    ActionFactory(lead=LeadFactory(), status=Action.Status.PENDING)  # undecided: not counted
    ActionFactory(lead=LeadFactory(), status=Action.Status.DONE)  # the policy sent it alone: not a person's call
    stats = graduation_stats(Policy.objects.get(workflow="first_response"))
    assert (stats.decided, stats.unchanged, stats.edited, stats.rejected) == (20, 14, 4, 2)
    assert stats.mean_edit_distance == pytest.approx(0.25)
    assert stats.rate == pytest.approx(0.70) and not stats.eligible
    assert stats.verdict == "70% agreed over the last 20 (bar 75%)"


def test_graduate_is_offered_only_above_the_bar_and_logged(demo):
    policy_set("first_response", graduation_window=10, graduation_bar=0.9)
    manager = user("manager")
    decide(9)
    with pytest.raises(ValidationError, match="9 of 10 decisions so far"):
        services.policy_graduate(workflow="first_response", user=manager)
    decide(1)
    stats = graduation_stats(Policy.objects.get(workflow="first_response"))
    assert stats.eligible and stats.rate == 1.0
    services.policy_graduate(workflow="first_response", user=manager)
    policy = Policy.objects.get(workflow="first_response")
    assert policy.mode == "auto"
    assert policy.history.first().history_change_reason.startswith("graduated: 100% agreed")
    services.policy_update(workflow="first_response", user=manager, mode="draft", reason="back to review")
    assert Policy.objects.get(workflow="first_response").mode == "draft"


def test_shadow_mode_compares_what_the_system_would_have_sent_with_what_the_person_did(demo):
    policy = Policy.objects.get(workflow="follow_up")
    now = timezone.now()
    similar, different, silent = (LeadFactory(owner=user("rep1")) for _ in range(3))
    for lead in (similar, different, silent):
        ActionFactory(
            lead=lead,
            workflow="follow_up",
            status=Action.Status.SHADOW,
            payload={"to": lead.phone, "body": "Hi, are you still looking for a roof quote this week?"},
        )
    for lead, body in ((similar, "Hi, are you still looking for a roof quote this week?!"), (different, "Call me")):
        Message.objects.create(lead=lead, direction="out", channel="sms", to=lead.phone, body=body)
    old = LeadFactory()
    ActionFactory(lead=old, workflow="follow_up", status=Action.Status.SHADOW)
    Action.objects.filter(lead=old).update(created_at=now - timedelta(days=3))
    Message.objects.create(lead=old, direction="out", channel="sms", to=old.phone, body="Hi, thanks!")
    stats = graduation_stats(policy)
    assert (stats.shadow, stats.shadow_similar, stats.shadow_different, stats.shadow_silent) == (4, 1, 1, 2)
    assert stats.agreed == 1


def test_edit_distance_is_zero_unchanged_and_grows_with_the_edit(demo, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=user("rep1"))
    same, small, big = (
        ActionFactory(lead=lead, payload={"to": lead.phone, "body": "Hi Sam, thanks for asking!"}) for _ in range(3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.action_approve(action_id=same.pk, user=user("rep1"))
        services.action_approve(action_id=small.pk, user=user("rep1"), body="Hi Sam, thanks for asking.")
        services.action_approve(action_id=big.pk, user=user("rep1"), body="Call us on Monday")
    distances = [Action.objects.get(pk=a.pk).edit_distance for a in (same, small, big)]
    assert distances[0] == 0.0 and 0 < distances[1] < 0.1 < 0.5 < distances[2] <= 1


def test_every_workflow_the_issue_names_exists(demo):
    assert set(Workflow.values) >= {
        "first_response",
        "clarifying_question",
        "follow_up",
        "appointment_reminder",
        "review_request",
        "quote",
        "refund",
        "contract",
        "crm_update",
        "reassignment",
    }
    assert PolicyGate.objects.filter(policy__workflow="refund", name="Any refund").exists()
