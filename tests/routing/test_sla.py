from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule

from approvals.models import Action
from audit.models import Decision
from leads.models import Lead, Message
from routing import tasks
from routing.models import Absence, Assignment, Holiday, Rep, Team, WorkingHours
from routing.services import lead_reassign
from routing.sla import sla_sweep
from tests.conftest import policy_set, user

LEAD = {"name": "Dana", "phone": "(415) 555-0101", "message": "Need a new roof, budget $12k", "postal_code": "30301"}


def portal(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="demo")
    return client


def later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def lead(demo, capture):
    """A captured lead, routed to rep1 with the Sales team's 15-minute first-touch clock running."""
    return Lead.objects.get(pk=capture(**LEAD).json()["lead"])


@pytest.mark.django_db
def test_assignment_starts_the_clock_from_the_team_sla(lead):
    assignment = lead.assignments.get()
    assert assignment.rep.user.username == "rep1"
    assert abs((assignment.sla_due_at - assignment.created_at) - timedelta(minutes=15)) < timedelta(seconds=1)


@pytest.mark.django_db
def test_breach_reassigns_to_the_next_rep_and_alerts_managers(lead, django_capture_on_commit_callbacks):
    assert tasks.sla_sweep() == {"breached": 0, "reassigned": 0, "alerted": 0}  # not due yet
    with django_capture_on_commit_callbacks(execute=True):
        assert vars(sla_sweep(now=later(16))) == {"breached": 1, "reassigned": 1, "alerted": 1}
    lead.refresh_from_db()
    assert lead.owner.username == "rep2"
    new = lead.assignments.first()
    assert (new.kind, new.hop, new.sla_due_at is not None) == ("sla", 1, True)
    decision = Decision.objects.get(lead=lead, step="sla")
    assert decision.outcome == "escalated"
    assert decision.reasoning.startswith(
        "SLA breached: Ana Rep did not touch the lead within 15 min; reassigned to Ben"
    )
    assert "managers alerted (manager@example.com)" in decision.reasoning
    assert [m.to for m in mail.outbox] == [["manager@example.com"]]
    assert f"/portal/leads/{lead.pk}/" in mail.outbox[0].body


@pytest.mark.django_db
def test_reassignment_stops_after_max_hops_and_never_loops(lead):
    Team.objects.filter(name="Sales").update(sla_max_hops=2, sla_action="reassign")
    owners = []
    for minutes in (16, 32, 48, 64, 80):
        sla_sweep(now=later(minutes))
        lead.refresh_from_db()
        owners.append(lead.owner.username)
    assert owners == ["rep2", "rep3", "rep3", "rep3", "rep3"]
    last = Decision.objects.filter(lead=lead, step="sla").first()
    assert "2 reassignments already (team max 2)" in last.reasoning and "managers alerted" in last.reasoning
    assert Decision.objects.filter(lead=lead, step="sla").count() == 3
    assert not Assignment.objects.filter(lead=lead, sla_due_at__isnull=False).exists()


@pytest.mark.django_db
def test_alert_only_team_keeps_the_owner(lead, django_capture_on_commit_callbacks):
    Team.objects.filter(name="Sales").update(sla_action="alert")
    with django_capture_on_commit_callbacks(execute=True):
        assert vars(sla_sweep(now=later(16))) == {"breached": 1, "reassigned": 0, "alerted": 1}
    lead.refresh_from_db()
    assert lead.owner.username == "rep1" and len(mail.outbox) == 1


@pytest.mark.django_db
def test_accepting_in_the_portal_stops_the_clock(lead):
    other = portal("rep2").post(f"/portal/leads/{lead.pk}/accept/")
    assert other.status_code == 404  # not their lead
    page = portal("rep1").get(f"/portal/leads/{lead.pk}/")
    assert b"Accept lead" in page.content
    response = portal("rep1").post(f"/portal/leads/{lead.pk}/accept/")
    assert response.status_code == 302
    assert vars(sla_sweep(now=later(16)))["breached"] == 0
    touch = Decision.objects.get(lead=lead, step="touch")
    assert touch.actor.username == "rep1" and "within the 15-minute SLA" in touch.reasoning
    assert b"Accept lead" not in portal("rep1").get(f"/portal/leads/{lead.pk}/").content


@pytest.mark.django_db
def test_logging_a_call_is_a_touch_and_needs_a_note(lead):
    client = portal("rep1")
    refused = client.post(f"/portal/leads/{lead.pk}/call/", {"note": "  "})
    assert refused.status_code == 422 and b"Say what happened on the call." in refused.content
    assert client.post(f"/portal/leads/{lead.pk}/call/", {"note": "Left a voicemail"}).status_code == 302
    assert Message.objects.get(lead=lead, channel="call").body == "Left a voicemail"
    lead.refresh_from_db()
    assert lead.first_touch_at is not None
    page = client.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "Call logged" in page and "Left a voicemail" in page


@pytest.mark.django_db
def test_a_message_a_rep_approved_is_a_touch_but_an_automatic_one_is_not(
    demo, capture, django_capture_on_commit_callbacks
):
    lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
    action = Action.objects.get(lead=lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = portal("rep1").post(f"/portal/actions/{action.pk}/approve/", {"body": action.body})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.first_touch_at is not None

    policy_set("first_response", mode="auto", min_confidence=0)
    auto = Lead.objects.get(pk=capture(**{**LEAD, "phone": "(415) 555-0102"}).json()["lead"])
    assert auto.messages.get().status == "sent"
    assert auto.first_touch_at is None and auto.assignments.get().sla_due_at is not None


@pytest.mark.django_db
def test_sweep_is_scheduled_every_minute():
    schedule = Schedule.objects.get(name="routing.sla_sweep")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "routing.tasks.sla_sweep",
        Schedule.MINUTES,
        1,
        -1,
    )


CHI = ZoneInfo("America/Chicago")


def chicago(day: int, hh: int, mm: int = 0) -> datetime:
    """December 2026 on the Chicago clock (the 1st is a Tuesday)."""
    return datetime(2026, 12, day, hh, mm, tzinfo=CHI)


def shifts(username: str, *windows, holidays=()):
    """Give a demo rep working hours on the Chicago clock, as the admin does (through save)."""
    rep = Rep.objects.get(user__username=username)
    rep.timezone = "America/Chicago"
    rep.save()
    for weekday, start, end in windows:
        WorkingHours.objects.create(rep=rep, weekday=weekday, start=start, end=end)
    return rep


@pytest.mark.django_db
def test_a_lead_captured_while_nobody_works_starts_its_clock_at_the_first_shift(demo, capture):
    shifts("rep1", (1, "02:00", "10:00"))
    shifts("rep2", (1, "08:00", "16:00"))
    shifts("rep3", (1, "08:00", "16:00"))
    with time_machine.travel(chicago(1, 0, 35), tick=False):
        lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
    assignment = lead.assignments.get()
    assert assignment.rep.user.username == "rep1"
    assert assignment.sla_due_at == chicago(1, 2, 15), "15 minutes of Ana's shift, not of the night"
    decision = Decision.objects.get(lead=lead, step="route")
    assert "nobody on shift; Ana Rep is first on shift (Tue 02:00)" in decision.reasoning
    assert decision.reasoning.endswith(
        "SLA 15 min counted in Ana Rep's working time: Ana Rep is off shift, the clock starts Tue 02:00 "
        "(shift starts); first touch due Tue 02:15"
    )
    assert decision.output["sla_starts_at"] == chicago(1, 2).astimezone(UTC).isoformat()
    assert vars(sla_sweep(now=chicago(1, 0, 51)))["breached"] == 0, "the old wall-clock deadline passes quietly"
    assert vars(sla_sweep(now=chicago(1, 2, 14)))["breached"] == 0
    assert vars(sla_sweep(now=chicago(1, 2, 16)))["breached"] == 1


@pytest.mark.django_db
def test_a_touch_within_the_working_minutes_is_within_the_sla(demo, capture):
    shifts("rep1", (1, "02:00", "10:00"))
    Rep.objects.exclude(user__username="rep1").update(active=False)
    with time_machine.travel(chicago(1, 0, 35), tick=False):
        lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
    with time_machine.travel(chicago(1, 2, 10), tick=False):
        assert portal("rep1").post(f"/portal/leads/{lead.pk}/accept/").status_code == 302
    touch = Decision.objects.get(lead=lead, step="touch")
    assert "95.0 min after assignment (10.0 working min, within the 15-minute SLA)" in touch.reasoning


@pytest.mark.django_db
def test_a_holiday_starts_the_clock_on_the_next_working_day(demo, capture):
    shifts("rep1", (1, "09:00", "17:00"), (2, "09:00", "17:00"))
    Rep.objects.exclude(user__username="rep1").update(active=False)
    Holiday.objects.create(date=date(2026, 12, 1), name="Company day")
    with time_machine.travel(chicago(1, 10, 0), tick=False):
        lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
    assert lead.assignments.get().sla_due_at == chicago(2, 9, 15)
    reasoning = Decision.objects.get(lead=lead, step="route").reasoning
    assert "Ana Rep is off for the holiday, the clock starts Wed 09:00 (shift starts); first touch due Wed 09:15" in (
        reasoning
    )


@pytest.mark.django_db
def test_a_clock_that_runs_past_the_shift_goes_on_at_the_next_one(demo, capture):
    shifts("rep1", (1, "09:00", "17:00"), (2, "09:00", "17:00"))
    Rep.objects.exclude(user__username="rep1").update(active=False)
    with time_machine.travel(chicago(1, 16, 50), tick=False):
        lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
    assert lead.assignments.get().sla_due_at == chicago(2, 9, 5)
    assert Decision.objects.get(lead=lead, step="route").reasoning.endswith(
        "the clock stops while they are off (end of shift, absence, holiday); first touch due Wed 09:05"
    )


@pytest.mark.django_db
def test_a_lead_given_to_an_absent_rep_starts_its_clock_when_they_are_back(demo, capture):
    with time_machine.travel(chicago(1, 10, 0), tick=False):
        lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
        ben = shifts("rep2")  # no hours: always on shift, but away this morning
        Absence.objects.create(rep=ben, starts_at=chicago(1, 9), ends_at=chicago(1, 13))
        lead_reassign(lead_id=lead.pk, rep_id=ben.pk, user=user("manager"))
    assert lead.assignments.first().sla_due_at == chicago(1, 13, 15)
    reassign = Decision.objects.get(lead=lead, step="reassign")
    assert "Ben Rep is away until Tue 13:00, the clock starts Tue 13:00 (absence ends)" in reassign.reasoning
