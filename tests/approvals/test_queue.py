"""The queue as a rep and a manager use it: filters, order, snooze, regenerate, bulk approve, stale pages, speed."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import services
from approvals.models import Action, Reviewer
from audit.models import Decision
from tests.conftest import user
from tests.factories import ActionFactory, LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def rep1(client, demo):
    client.force_login(user("rep1"))
    return client


@pytest.fixture
def manager(client, demo):
    client.force_login(user("manager"))
    return client


def drafts(owner, n, **fields):
    return [ActionFactory(lead=LeadFactory(owner=owner), **fields) for _ in range(n)]


def row_ids(html):
    return [int(i) for i in re.findall(r'<article class="card action[^"]*" id="action-(\d+)"', html)]


def test_hottest_first_orders_by_the_leads_score(rep1):
    cold, hot, unscored = (ActionFactory(lead=LeadFactory(owner=user("rep1"), score=s)) for s in (20, 90, None))
    assert row_ids(rep1.get("/portal/queue/?sort=hottest").content.decode()) == [hot.pk, cold.pk, unscored.pk]
    assert row_ids(rep1.get("/portal/queue/").content.decode()) == [cold.pk, hot.pk, unscored.pk]


def test_manager_filters_by_rep_workflow_and_escalation(manager):
    ana, ben = drafts(user("rep1"), 1), drafts(user("rep2"), 1)
    gated = drafts(
        user("rep2"),
        1,
        escalated=True,
        escalation_reason="gate 'Big': quote amount 7,500 > 5,000",
        workflow="quote",
        review_by=Reviewer.MANAGER,
    )
    low = drafts(user("rep1"), 1, escalated=True, escalation_reason="confidence 0.42 < 0.70")
    everything = row_ids(manager.get("/portal/queue/").content.decode())
    assert set(everything) == {a.pk for a in ana + ben + gated + low}
    by_rep = row_ids(manager.get(f"/portal/queue/?rep={user('rep2').pk}").content.decode())
    assert set(by_rep) == {ben[0].pk, gated[0].pk}
    assert row_ids(manager.get("/portal/queue/?workflow=quote").content.decode()) == [gated[0].pk]
    assert row_ids(manager.get("/portal/queue/?escalation=gate").content.decode()) == [gated[0].pk]
    assert row_ids(manager.get("/portal/queue/?escalation=confidence").content.decode()) == [low[0].pk]
    html = manager.get("/portal/queue/?escalation=gate").content.decode()
    assert "Escalated to managers: gate &#x27;Big&#x27;: quote amount 7,500 &gt; 5,000" in html


def test_a_rep_does_not_see_actions_waiting_for_a_manager(rep1):
    mine = drafts(user("rep1"), 1)
    drafts(user("rep1"), 1, review_by=Reviewer.MANAGER, escalated=True, escalation_reason="gate 'x': every quote")
    assert row_ids(rep1.get("/portal/queue/").content.decode()) == [mine[0].pk]


def test_rep_filters_are_ignored_for_reps(rep1):
    mine = drafts(user("rep1"), 1)
    drafts(user("rep2"), 1)
    assert row_ids(rep1.get(f"/portal/queue/?rep={user('rep2').pk}").content.decode()) == [mine[0].pk]


def test_snooze_hides_the_row_until_its_time(rep1):
    action = drafts(user("rep1"), 1)[0]
    response = rep1.post(f"/portal/actions/{action.pk}/snooze/", {"minutes": "60", "version": "1"}, headers=HTMX)
    assert response.status_code == 200 and "Snoozed until" in response.content.decode()
    assert row_ids(rep1.get("/portal/queue/").content.decode()) == []
    Action.objects.filter(pk=action.pk).update(snoozed_until=timezone.now() - timedelta(minutes=1))
    assert row_ids(rep1.get("/portal/queue/").content.decode()) == [action.pk]
    bad = rep1.post(f"/portal/actions/{action.pk}/snooze/", {"minutes": "0"}, headers=HTMX)
    assert bad.status_code == 422 and "Snooze for 1 to" in bad.content.decode()


def test_regenerate_redrafts_from_the_template_and_logs_it(rep1, demo, capture):
    lead_id = capture(phone="+15128670077", name="Rae Lin", message="Gutter repair?", postal_code="30301").json()[
        "lead"
    ]
    action = Action.objects.get(lead_id=lead_id)
    services.action_edit(action_id=action.pk, user=user("rep1"), body="Something else entirely")
    response = rep1.post(
        f"/portal/actions/{action.pk}/regenerate/", {"instruction": "shorter", "version": "2"}, headers=HTMX
    )
    assert response.status_code == 200
    action.refresh_from_db()
    assert action.body.startswith("Hi Rae") and not action.edited and action.version == 3
    decision = Decision.objects.get(action=action, step="regenerate")
    assert "asked for a new draft (shorter)" in decision.reasoning
    assert "the instruction needs a model" in decision.reasoning, "the rules provider rewrites nothing"


def test_bulk_approve_sends_each_once_and_reports_refusals_in_place(
    rep1, sms_outbox, django_capture_on_commit_callbacks
):
    mine = drafts(user("rep1"), 3)
    services.action_reject(action_id=mine[2].pk, user=user("rep1"), reason="duplicate")
    theirs = drafts(user("rep2"), 1)[0]
    ids = [a.pk for a in mine] + [theirs.pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = rep1.post("/portal/actions/bulk-approve/", {"ids": ids}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Approved 2; 2 could not be approved" in html
    assert html.count('hx-swap-oob="outerHTML"') == 3, "rows the rep may see come back; the other rep's stays hidden"
    assert "already rejected by rep1" in html
    assert len(sms_outbox) == 2
    empty = rep1.post("/portal/actions/bulk-approve/", {}, headers=HTMX)
    assert empty.status_code == 422 and "Select at least one action" in empty.content.decode()


def test_a_stale_page_shows_the_new_state_and_never_overwrites(rep1, sms_outbox):
    action = drafts(user("rep1"), 1)[0]
    services.action_edit(action_id=action.pk, user=user("manager"), body="Manager's better text")
    response = rep1.post(
        f"/portal/actions/{action.pk}/approve/", {"body": "My older text", "version": "1"}, headers=HTMX
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed since you opened it" in html and "Manager&#x27;s better text" in html
    action.refresh_from_db()
    assert action.status == Action.Status.PENDING and action.body == "Manager's better text"
    assert sms_outbox == []


def test_approving_what_another_person_rejected_answers_with_the_current_state(rep1):
    action = drafts(user("rep1"), 1)[0]
    services.action_reject(action_id=action.pk, user=user("manager"), reason="wrong lead")
    response = rep1.post(f"/portal/actions/{action.pk}/approve/", headers=HTMX)
    assert response.status_code == 409
    assert "already rejected by manager" in response.content.decode()


def test_a_rep_gets_a_clear_refusal_on_a_manager_gated_action(rep1):
    action = drafts(
        user("rep1"), 1, review_by=Reviewer.MANAGER, escalated=True, escalation_reason="gate 'x': every quote"
    )[0]
    response = rep1.post(f"/portal/actions/{action.pk}/approve/", headers=HTMX)
    assert response.status_code == 403 and "A manager must decide this one" in response.content.decode()


def test_another_reps_action_is_not_found(rep1):
    theirs = drafts(user("rep2"), 1)[0]
    assert rep1.get(f"/portal/actions/{theirs.pk}/", headers=HTMX).status_code == 404
    assert rep1.post(f"/portal/actions/{theirs.pk}/approve/", headers=HTMX).status_code == 404
    assert rep1.post(f"/portal/actions/{theirs.pk}/snooze/", {"minutes": "15"}, headers=HTMX).status_code == 404


@pytest.mark.parametrize("who", ["rep1", "manager"])
def test_queue_query_count_does_not_grow_with_the_rows(client, demo, who):
    client.force_login(user(who))
    drafts(user("rep1"), 3)
    client.get("/portal/queue/")  # warm per-process caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/portal/queue/").status_code == 200
    drafts(user("rep1"), 57)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/portal/queue/?sort=hottest").content.decode()
    assert len(row_ids(html)) == 50 and "Page 1 of 2" in html
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_polling_gets_only_the_rows_partial(rep1):
    drafts(user("rep1"), 1)
    html = rep1.get("/portal/queue/", headers={**HTMX, "HX-Target": "queue-rows"}).content.decode()
    assert "<html" not in html and "1 waiting" in html


def test_the_admin_bulk_action_uses_the_same_bulk_approve(client, demo, sms_outbox, django_capture_on_commit_callbacks):
    pending, rejected = drafts(user("rep1"), 2)
    services.action_reject(action_id=rejected.pk, user=user("rep1"), reason="duplicate")
    client.force_login(user("manager"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/approvals/action/",
            {"action": "approve_selected", "_selected_action": [pending.pk, rejected.pk]},
            follow=True,
        )
    html = response.content.decode()
    assert "Approved 1 action(s)." in html and f"Action {rejected.pk}: This action is already rejected" in html
    assert len(sms_outbox) == 1
