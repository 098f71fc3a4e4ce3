from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from approvals.models import Action, Policy
from approvals.tasks import action_execute
from integrations.tasks import invite_send
from leads.models import Appointment, Lead, Message
from leads.services import appointment_book, appointment_cancel, appointment_reschedule
from tests.conftest import policy_set, user, user_client
from tests.fakes.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    """Django's real SMTP backend, pointed at a local aiosmtpd server."""
    server = SmtpServer()
    with server as mailbox:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.SEND_RETRY_SECONDS = 0
        yield mailbox


@pytest.fixture
def lead(demo):
    lead = Lead.objects.create(name="Ivy Chen", email="ivy@example.com", phone="+15128670400", owner=user("rep1"))
    rep = user("rep1")
    rep.email = "rep1@nightshift.example"
    rep.save()
    return lead


def test_an_approved_email_goes_out_over_smtp(demo, capture, smtp):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(email="kim@example.com", name="Kim", message="Roof quote please, 30301").json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    assert action.kind == Action.Kind.SEND_EMAIL
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)
    assert action_execute(action.pk) == "done"
    (received,) = smtp.messages
    assert received["To"] == "kim@example.com"
    assert received["Message-ID"] == Message.objects.get(action=action).provider_id


def test_a_refused_recipient_fails_the_action_with_the_servers_answer(demo, capture, smtp):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(email="nobody@example.com", name="No", message="Roof quote please, 30301").json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)
    smtp.refuse = "550 5.1.1 No such user"
    assert action_execute(action.pk) == "failed"
    action.refresh_from_db()
    assert "550" in action.error and "No such user" in action.error
    assert smtp.messages == []


def invite_of(message) -> tuple[str, Calendar]:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))


def test_booking_moving_and_cancelling_send_one_invite_each_with_the_same_uid(
    lead, smtp, django_capture_on_commit_callbacks
):
    rep = user("rep1")
    start = timezone.now() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(lead_id=lead.pk, user=rep, starts_at=start, location="12 Oak St")
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(appointment_id=appointment.pk, user=rep, starts_at=start + timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment_id=appointment.pk, user=rep)
    assert len(smtp.messages) == 3
    versions = [invite_of(m) for m in smtp.messages]
    assert [method for method, _ in versions] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [cal.walk("VEVENT")[0] for _, cal in versions]
    assert {str(e["UID"]) for e in events} == {appointment.uid}
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert [str(cal["METHOD"]) for _, cal in versions] == ["REQUEST", "REQUEST", "CANCEL"]
    assert events[1].decoded("DTSTART") == (start + timedelta(hours=3)).replace(microsecond=0)
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert sorted(smtp.messages[0]["To"].split(", ")) == ["ivy@example.com", "rep1@nightshift.example"]
    assert smtp.messages[2]["Subject"].startswith("Cancelled:")
    assert Message.objects.filter(lead=lead, channel="email").count() == 3


def test_a_retried_invite_task_sends_nothing_new(lead, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(lead_id=lead.pk, user=user("rep1"), starts_at=timezone.now() + timedelta(days=1))
    assert invite_send(appointment.pk) == "nothing new"
    assert len(smtp.messages) == 1


def test_the_portal_moves_and_cancels_appointments(lead, smtp, django_capture_on_commit_callbacks):
    rep1 = user_client("rep1")
    when = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks(execute=True):
        assert rep1.post(f"/portal/leads/{lead.pk}/book/", {"starts_at": when}).status_code == 302
    appointment = Appointment.objects.get()
    moved = (timezone.localtime() + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks(execute=True):
        url = f"/portal/leads/{lead.pk}/appointments/{appointment.pk}/move/"
        assert rep1.post(url, {f"starts_at_{appointment.pk}": moved}).status_code == 302
        assert rep1.post(url, {f"starts_at_{appointment.pk}": ""}).status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        cancel = f"/portal/leads/{lead.pk}/appointments/{appointment.pk}/cancel/"
        assert rep1.post(cancel).status_code == 302
        assert rep1.post(cancel).status_code == 409
    assert [invite_of(m)[0] for m in smtp.messages] == ["REQUEST", "REQUEST", "CANCEL"]
    assert rep1.post(f"/portal/leads/{lead.pk}/appointments/999/cancel/").status_code == 404
    other = user_client("rep2")
    assert other.post(cancel).status_code == 404


def test_no_invite_without_the_leads_email(demo, smtp, django_capture_on_commit_callbacks):
    lead = Lead.objects.create(name="Phone Only", phone="+15128670401", owner=user("rep1"))
    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(lead_id=lead.pk, user=user("rep1"), starts_at=timezone.now() + timedelta(days=1))
    assert smtp.messages == []
    assert lead.decisions.filter(reasoning__startswith="No calendar invite").exists()
