"""The lead page's work: reply, quote, stage, appointment, reassign, with errors in place and history shown."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import Action
from audit.models import Decision
from leads.models import Appointment, Lead
from routing.models import Assignment, Rep
from tests.conftest import user
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(demo):
    return LeadFactory(owner=user("rep1"), phone="+15128670060", name="Lou Park", timezone="America/Chicago")


@pytest.fixture
def rep1(client, demo):
    client.force_login(user("rep1"))
    return client


def test_reply_is_sent_as_the_reps_own_message(rep1, lead, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = rep1.post(f"/portal/leads/{lead.pk}/reply/", {"body": "Be there at 3"})
    assert response.status_code == 302
    assert [m["body"] for m in sms_outbox] == ["Be there at 3"]
    lead.refresh_from_db()
    assert lead.first_touch_at is not None, "a person's message is their first touch"
    page = rep1.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "Be there at 3" in page


def test_too_long_reply_is_refused_in_place_with_the_text_kept(rep1, lead, sms_outbox):
    response = rep1.post(f"/portal/leads/{lead.pk}/reply/", {"body": "Hi Łukasz! " + "y" * 200})
    assert response.status_code == 422
    html = response.content.decode()
    assert "4 segments · UCS-2 because of Ł; the limit is 3. Use L instead of Ł (a different spelling)" in html
    assert "Hi Łukasz! " + "y" * 200 in html, "the text is kept"
    assert sms_outbox == []


def test_a_quote_over_the_gate_waits_and_the_lead_page_says_so(rep1, lead, sms_outbox):
    services.gate_add(workflow="quote", user=user("manager"), name="Big", conditions_text="amount > 5000")
    response = rep1.post(f"/portal/leads/{lead.pk}/quote/", {"amount": "$7,500", "quote_body": "New roof"})
    assert response.status_code == 302
    action = Action.objects.get(lead=lead, workflow="quote")
    assert action.status == "pending" and str(action.amount) == "7500.00"
    page = rep1.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "quote amount 7,500 &gt; 5,000" in page
    bad = rep1.post(f"/portal/leads/{lead.pk}/quote/", {"amount": "lots", "quote_body": "New roof"})
    assert bad.status_code == 422 and "amount as a number" in bad.content.decode()
    assert sms_outbox == []


def test_sent_quote_moves_the_lead_to_quoted(rep1, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rep1.post(f"/portal/leads/{lead.pk}/quote/", {"amount": "1200", "quote_body": "Gutter repair"})
    assert Lead.objects.get(pk=lead.pk).stage == "quoted"


def test_change_stage_is_logged_and_shown_as_a_history_diff(rep1, lead):
    assert rep1.post(f"/portal/leads/{lead.pk}/stage/", {"stage": "won"}).status_code == 302
    decision = Decision.objects.get(lead=lead, step="stage")
    assert decision.actor.username == "rep1" and "from New to Won" in decision.reasoning
    html = rep1.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "<del>new</del> → <ins>won</ins>" in html
    assert rep1.post(f"/portal/leads/{lead.pk}/stage/", {"stage": "nope"}).status_code == 422


def test_book_an_appointment_on_the_leads_clock(rep1, lead):
    day = (timezone.now() + timedelta(days=3)).date()
    response = rep1.post(
        f"/portal/leads/{lead.pk}/book/",
        {"starts_at": f"{day}T14:30", "duration_minutes": "45", "location": "On site"},
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get(lead=lead)
    expected = datetime.combine(day, datetime.min.time()).replace(
        hour=14, minute=30, tzinfo=ZoneInfo("America/Chicago")
    )
    assert appointment.starts_at == expected and appointment.duration_minutes == 45
    assert Lead.objects.get(pk=lead.pk).stage == "appointment"
    past = rep1.post(f"/portal/leads/{lead.pk}/book/", {"starts_at": "2020-01-01T10:00", "duration_minutes": "60"})
    assert past.status_code == 422 and "Pick a time in the future" in past.content.decode()


def test_only_managers_reassign(client, rep1, lead):
    ben = Rep.objects.get(user__username="rep2")
    refused = rep1.post(f"/portal/leads/{lead.pk}/reassign/", {"rep": ben.pk})
    assert refused.status_code == 403 and "Only managers can reassign" in refused.content.decode()
    client.force_login(user("manager"))
    assert client.post(f"/portal/leads/{lead.pk}/reassign/", {"rep": ben.pk}).status_code == 302
    lead.refresh_from_db()
    assert lead.owner.username == "rep2"
    assignment = Assignment.objects.get(lead=lead)
    assert assignment.kind == "manual" and assignment.sla_due_at is not None
    again = client.post(f"/portal/leads/{lead.pk}/reassign/", {"rep": ben.pk})
    assert again.status_code == 422 and "already owns" in again.content.decode()


def test_another_reps_lead_cannot_be_changed(rep1, demo):
    theirs = LeadFactory(owner=user("rep2"))
    for path, data in (("reply", {"body": "x"}), ("stage", {"stage": "won"}), ("quote", {"amount": "5"})):
        assert rep1.post(f"/portal/leads/{theirs.pk}/{path}/", data).status_code == 404
    assert Lead.objects.get(pk=theirs.pk).stage == "new"


def test_leads_list_filters_by_owner_for_managers(client, demo):
    LeadFactory(owner=user("rep1"), name="Ann Owned")
    LeadFactory(owner=None, name="Nobody Owns")
    client.force_login(user("manager"))
    html = client.get("/portal/leads/?owner=none").content.decode()
    assert "Nobody Owns" in html and "Ann Owned" not in html
    html = client.get(f"/portal/leads/?owner={user('rep1').pk}").content.decode()
    assert "Ann Owned" in html and "Nobody Owns" not in html


def test_the_lead_page_and_list_name_the_owner_as_people_know_them(rep1, lead):
    for url in (f"/portal/leads/{lead.pk}/", "/portal/leads/"):
        page = rep1.get(url).content.decode()
        assert "Ana Rep" in page, url
        assert ">rep1<" not in page, url
