"""A rep who cannot log in is never given a lead, and deactivating one hands their open leads to the routing rules."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from audit.models import Decision
from leads.conditions import LeadFacts
from leads.models import Lead
from routing import handover
from routing.directory import config_changed
from routing.models import Assignment, Rep, RoutingRule, Team
from routing.services import lead_reassign, lead_route
from routing.sla import sla_sweep
from routing.tasks import lost_work_requeue, owner_leads_handover
from tests.conftest import user
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def admin_client() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


def admin_deactivate(client: Client, username: str, capture_callbacks) -> None:
    """Untick *Active* on the user's admin change form and save, as a person does."""
    person = user(username)
    form = {
        "username": person.username,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "groups": list(person.groups.values_list("pk", flat=True)),
        "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
        "_save": "Save",
    }  # is_active left out: the box is unticked
    with capture_callbacks(execute=True):
        response = client.post(f"/admin/auth/user/{person.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not user(username).is_active


def owned(username: str, n: int, **fields) -> list[Lead]:
    leads = [LeadFactory(owner=user(username), **fields) for _ in range(n)]
    for lead in leads:
        Assignment.objects.create(lead=lead, rep=user(username).rep, reason="seeded", sla_due_at=timezone.now())
    return leads


def test_a_deactivated_rep_gets_none_of_six_round_robin_leads(demo, capture, django_capture_on_commit_callbacks):
    admin_deactivate(admin_client(), "rep2", django_capture_on_commit_callbacks)
    owners = [
        Lead.objects.get(pk=capture(phone=f"+1512867{n:04d}", name="Dana", message="Roof quote").json()["lead"])
        for n in range(6)
    ]
    assert [lead.owner.username for lead in owners] == ["rep1", "rep3"] * 3


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded", "weighted_round_robin"])
def test_no_strategy_gives_a_lead_to_a_user_who_cannot_log_in(demo, strategy):
    RoutingRule.objects.filter(name="Every lead to Sales").update(strategy=strategy)
    ben = user("rep2")
    ben.is_active = False
    ben.save()
    cleo = user("rep3")
    cleo.set_unusable_password()  # the admin's "Password-based authentication: disabled"
    cleo.save()
    owners = {lead_route(lead=LeadFactory(), facts=LeadFacts()).rep.user.username for _ in range(6)}
    assert owners == {"rep1"}


def test_an_unusable_password_counts_only_where_the_password_is_the_only_way_in(demo, settings):
    cleo = user("rep3")
    cleo.set_unusable_password()
    cleo.save()
    rule = RoutingRule.objects.create(name="Cleo", priority=1, rep=cleo.rep, conditions={"conditions": []})
    assert "cannot log in" in rule.problems()["rep"]
    assignment = lead_route(lead=LeadFactory(), facts=LeadFacts())
    assert assignment.rep.user.username != "rep3" and "nobody in the rule's team → fallback team" in assignment.reason
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "sso.backends.OidcBackend"]
    config_changed()
    assert lead_route(lead=LeadFactory(), facts=LeadFacts()).rep.user.username == "rep3", "SSO may let Cleo in"


def test_a_named_rep_rule_and_the_fallback_team_skip_who_cannot_log_in(demo):
    desk = Team.objects.create(name="Front desk")
    Team.objects.filter(name="Sales").update(is_fallback=False)
    desk.is_fallback = True
    desk.save()
    Rep.objects.create(user=UserFactory(username="desk1", is_active=False), team=desk)
    desk2 = Rep.objects.create(user=UserFactory(username="desk2"), team=desk)
    RoutingRule.objects.create(name="Ben", priority=1, rep=user("rep2").rep, conditions={"conditions": []})
    ben = user("rep2")
    ben.is_active = False
    ben.save()
    picks = [lead_route(lead=LeadFactory(), facts=LeadFacts()) for _ in range(3)]
    assert {p.rep for p in picks} == {desk2}
    assert picks[0].reason.startswith("rule 'Ben' matched") and "fallback team 'Front desk'" in picks[0].reason


def test_an_account_owner_who_cannot_log_in_loses_the_account(demo, capture):
    RoutingRule.objects.filter(name="Existing accounts").update(conditions={"conditions": []}, priority=1)
    config_changed()
    first = Lead.objects.get(pk=capture(email="pat@acme-builders.com", message="Office roof").json()["lead"])
    owner = first.owner
    Lead.objects.filter(pk=first.pk).update(stage="won")  # closed: no handover, the account is still theirs
    owner.is_active = False
    owner.save()
    second = Lead.objects.get(pk=capture(email="lee@acme-builders.com", message="Warehouse gutters").json()["lead"])
    assert second.owner != owner
    assert f"account owner {owner.rep} cannot log in →" in second.assignments.get().reason


def test_sla_reassignment_skips_who_cannot_log_in(demo, capture):
    lead = Lead.objects.get(pk=capture(phone="+15128670001", message="Roof quote").json()["lead"])
    assert lead.owner.username == "rep1"
    ben = user("rep2")
    ben.is_active = False
    ben.save()
    sla_sweep(now=timezone.now() + timedelta(minutes=16))
    lead.refresh_from_db()
    assert lead.owner.username == "rep3"


def test_a_manager_cannot_hand_a_lead_to_a_rep_who_cannot_log_in(demo):
    lead = LeadFactory(owner=user("rep1"))
    ben = user("rep2")
    ben.is_active = False
    ben.save()
    with pytest.raises(ValidationError, match="one who can log in"):
        lead_reassign(lead_id=lead.pk, rep_id=ben.rep.pk, user=user("manager"))
    page = Client()
    page.force_login(user("manager"))
    assert b"Ben Rep" not in page.get(f"/portal/leads/{lead.pk}/").content


def test_deactivating_in_the_admin_hands_each_open_lead_to_the_rules(demo, django_capture_on_commit_callbacks):
    mine = owned("rep1", 3)
    won = LeadFactory(owner=user("rep1"), stage="won")
    client = admin_client()
    admin_deactivate(client, "rep1", django_capture_on_commit_callbacks)
    summary = Decision.objects.get(lead=None, step="reassign")
    assert summary.reasoning == (
        "owner deactivated (Ana Rep cannot log in: the user is inactive): 3 open leads go back to the routing rules."
    )
    for lead in mine:
        lead.refresh_from_db()
        assert lead.owner.username in ("rep2", "rep3")
        decision = Decision.objects.get(lead=lead, step="route")
        assert decision.reasoning.startswith(
            "owner deactivated (Ana Rep cannot log in: the user is inactive) → rule 'Every lead to Sales' matched"
        )
        assert decision.output["why"].startswith("owner deactivated") and decision.output["kind"] == "handover"
        new = lead.assignments.first()
        assert (new.kind, new.sla_due_at is not None) == ("handover", True)
        assert not lead.assignments.filter(rep__user__username="rep1", sla_due_at__isnull=False).exists()
        assert lead.history.first().history_change_reason.startswith("owner deactivated; handed over")
    won.refresh_from_db()
    assert won.owner.username == "rep1", "a closed lead keeps its owner"
    listing = client.get("/admin/routing/rep/").content.decode()
    row = listing[listing.index(">Ana Rep<") :].split("</tr>")[0]
    assert "Can log in" in listing and "Open leads" in listing
    assert 'alt="False"' in row and '<td class="field-open_leads">0</td>' in row


def test_a_large_handover_runs_in_batches_through_the_task(demo, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(handover, "BATCH", 2)
    owned("rep1", 5)
    ana = user("rep1")
    get_user_model().objects.filter(pk=ana.pk).update(is_active=False)  # no signal: nothing happened yet
    assert Lead.objects.filter(owner=ana).count() == 5
    # The task function, as the worker calls it: two leads, then it queues itself (run inline here) for the rest.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        first = owner_leads_handover(ana.pk)
    assert len(queued) == 2, "the first batch queued the second, which queued the third"
    assert first == {"handed": 2, "unassigned": 0, "remaining": 3, "stopped": ""}
    assert not Lead.objects.filter(owner=ana).exists()
    assert Decision.objects.filter(step="route", output__kind="handover").count() == 5
    assert owner_leads_handover(ana.pk) == {"handed": 0, "unassigned": 0, "remaining": 0, "stopped": ""}


def test_a_deactivation_that_sent_no_signal_is_caught_by_the_lost_work_sweep(demo):
    owned("rep1", 2)
    get_user_model().objects.filter(username="rep1").update(is_active=False)
    config_changed()
    assert lost_work_requeue()["handovers"] == 1  # the task runs inline in tests
    assert not Lead.objects.filter(owner__username="rep1").exists()
    assert lost_work_requeue()["handovers"] == 0


def test_with_nobody_left_the_leads_wait_unassigned_for_a_manager(demo, django_capture_on_commit_callbacks):
    mine = owned("rep1", 2)
    for username in ("rep2", "rep3"):
        rep = user(username).rep
        rep.active = False
        rep.save()
    admin_deactivate(admin_client(), "rep1", django_capture_on_commit_callbacks)
    for lead in mine:
        lead.refresh_from_db()
        assert lead.owner is None
        decision = Decision.objects.get(lead=lead, step="route")
        assert decision.outcome == "escalated" and decision.reasoning.startswith("owner deactivated")
        assert "left unassigned for a manager" in decision.reasoning
        assert not lead.assignments.filter(sla_due_at__isnull=False).exists(), "nobody's clock runs"
    assert vars(sla_sweep(now=timezone.now() + timedelta(hours=1)))["breached"] == 0


def test_a_user_who_can_log_in_again_keeps_their_leads(demo):
    owned("rep1", 2)
    ana = user("rep1")
    assert owner_leads_handover(ana.pk)["stopped"] == "can log in"
    ana.first_name = "Anna"
    ana.save()  # an ordinary edit hands nothing over
    assert Lead.objects.filter(owner=ana).count() == 2
    assert owner_leads_handover(999999)["stopped"] == "no such user"
