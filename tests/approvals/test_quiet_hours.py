"""Quiet hours at the executor: a text the law does not allow now stays approved, says why, and goes once, later.

These tests ask the real rules (``@pytest.mark.quiet_hours``; tests/conftest.py answers "allowed" elsewhere). The
clock the executor reads (django.utils.timezone.now) is set by the ``clock`` fixture, except where the consent
ledger's own timestamps need the real one.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from approvals.models import Action, Policy
from approvals.services import action_approve, actions_approved_requeue, actions_held_release
from approvals.tasks import action_execute
from audit.models import Decision
from leads.models import InboundEvent, Lead
from leads.services import sms_words_consent
from routing import quiet
from tests.conftest import policy_set, user

pytestmark = [pytest.mark.django_db, pytest.mark.quiet_hours]

NY = ZoneInfo("America/New_York")


def at(*args) -> datetime:
    """A wall time in New York (Miami's clock)."""
    return datetime(*args, tzinfo=NY)


@pytest.fixture
def florida(demo, capture) -> Action:
    """A Miami lead's first answer, waiting for rep1; the person wrote long before the tests' evenings."""
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(name="Flo Reyes", phone="+13055550142", postal_code="33101", message="Roof quote").json()["lead"]
    InboundEvent.objects.filter(lead_id=lead_id).update(received_at=at(2026, 12, 3, 9, 0))
    action = Action.objects.get(lead_id=lead_id, workflow="first_response")
    assert (action.status, action.kind, action.lead.region) == ("pending", "send_sms", "US-FL")
    return action


@pytest.fixture
def clock(monkeypatch):
    """Set the instant every ``timezone.now()`` reads, the executor's included."""

    def _set(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _set


@pytest.fixture
def approve(django_capture_on_commit_callbacks):
    """rep1 approves; the send the approval queues runs as a worker would, at the clock's time."""

    def _approve(action: Action) -> Action:
        with django_capture_on_commit_callbacks(execute=True):
            action_approve(action_id=action.pk, user=user("rep1"))
        action.refresh_from_db()
        return action

    return _approve


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def _sweep(function, now: datetime) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return function(now=now)

    return _sweep


def test_a_text_approved_at_830_pm_in_florida_is_held_then_sent_once_at_8(florida, clock, approve, sweep, sms_outbox):
    clock(at(2026, 12, 3, 20, 30))
    action = approve(florida)
    assert sms_outbox == [], "8:30 p.m. is after Florida's 8 p.m."
    assert (action.status, action.not_before) == ("approved", datetime(2026, 12, 4, 13, 0, tzinfo=UTC))
    assert action.held_reason.startswith("held for quiet hours in FL until 08:00 on Fri Dec 4")
    held = Decision.objects.get(action=action, step="execute")
    assert held.outcome == "skipped" and "held for quiet hours in FL until 08:00" in held.reasoning
    assert held.output == {"not_before": "2026-12-04T13:00:00+00:00", "region": "US-FL"}

    # Before its minute it is neither released nor taken for lost work (approved ten hours ago and not sent).
    clock(at(2026, 12, 4, 7, 59))
    assert sweep(actions_held_release, at(2026, 12, 4, 7, 59)) == 0
    assert sweep(actions_approved_requeue, at(2026, 12, 4, 7, 59)) == 0
    assert sms_outbox == []

    clock(at(2026, 12, 4, 8, 0, 30))
    assert sweep(actions_held_release, at(2026, 12, 4, 8, 0, 30)) == 1
    action.refresh_from_db()
    assert action.status == "done" and [m["to"] for m in sms_outbox] == ["+13055550142"]
    clock(at(2026, 12, 4, 8, 2))
    assert sweep(actions_held_release, at(2026, 12, 4, 8, 2)) == 0
    assert action_execute(action.pk) == "skipped"
    assert len(sms_outbox) == 1, "never twice"
    assert Decision.objects.filter(action=action, step="execute").count() == 2, "held, then sent"


def test_a_held_text_whose_release_was_missed_is_requeued_after_its_minute(florida, clock, approve, sweep, sms_outbox):
    clock(at(2026, 12, 3, 21, 0))
    action = approve(florida)
    assert action.status == "approved" and sms_outbox == []
    clock(at(2026, 12, 4, 8, 11))  # the minute sweep did not run (a worker was down): lost-work recovery finds it
    assert sweep(actions_held_release, at(2026, 12, 4, 8, 11)) == 0, "ten minutes late: the lost-work sweep's"
    assert sweep(actions_approved_requeue, at(2026, 12, 4, 8, 11)) == 1
    action.refresh_from_db()
    assert action.status == "done" and len(sms_outbox) == 1


def test_the_queue_and_the_lead_page_say_it_is_held_and_until_when(florida, clock, approve, client):
    clock(at(2026, 12, 3, 20, 30))
    action = approve(florida)
    client.force_login(user("rep1"))
    queue = client.get("/portal/queue/").content.decode()
    assert f'id="action-{action.pk}"' in queue
    assert "Held for quiet hours in FL until 08:00 on Fri Dec 4" in queue
    held_only = client.get("/portal/queue/?escalation=quiet_hours").content.decode()
    assert f'id="action-{action.pk}"' in held_only
    page = client.get(f"/portal/leads/{action.lead_id}/").content.decode()
    assert "held for quiet hours in FL until 08:00 on Fri Dec 4" in page


@pytest.mark.parametrize(("minutes", "sent"), [(10, True), (15, True), (16, False)])
def test_a_direct_reply_within_15_minutes_of_the_persons_message_goes_at_night(
    florida, clock, approve, sms_outbox, minutes, sent
):
    wrote = at(2026, 12, 3, 22, 0)
    InboundEvent.objects.filter(lead_id=florida.lead_id).update(received_at=wrote)
    clock(wrote + timedelta(minutes=minutes))
    action = approve(florida)
    if sent:
        assert action.status == "done" and len(sms_outbox) == 1
        assert action.not_before is None
    else:
        assert action.status == "approved" and sms_outbox == []
        assert action.not_before == datetime(2026, 12, 4, 13, 0, tzinfo=UTC)


def test_other_channels_are_not_held_by_the_laws_about_texts(florida, clock, approve, mailoutbox):
    Lead.objects.filter(pk=florida.lead_id).update(email="flo@example.com")
    florida.kind = Action.Kind.SEND_EMAIL
    florida.payload = {**florida.payload, "to": "flo@example.com", "subject": "Hi"}
    florida.save()
    clock(at(2026, 12, 3, 23, 0))
    action = approve(florida)
    assert action.status == "done" and len(mailoutbox) == 1 and action.not_before is None


def _night_zone(moment: datetime) -> str:
    """A fixed-offset zone where ``moment`` is 3 a.m. (Etc/GMT+5 is UTC-5)."""
    offset = (3 - moment.astimezone(UTC).hour + 12) % 24 - 12
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def test_the_opt_out_confirmation_goes_at_night_and_is_never_held(
    florida, settings, sms_outbox, django_capture_on_commit_callbacks
):
    # The real clock: the consent ledger stamps its rows with it. The lead's clock says 3 a.m.
    settings.QUIET_HOURS_REPLY_MINUTES = 0  # only the confirmation's own exemption may let it through
    lead = florida.lead
    Lead.objects.filter(pk=lead.pk).update(timezone=_night_zone(timezone.now()))
    lead.refresh_from_db()
    assert not quiet.quiet_verdict(lead, timezone.now()).allowed, "any other text would wait for the morning"
    with django_capture_on_commit_callbacks(execute=True):
        sms_words_consent(phone=lead.phone, body="STOP")
    confirmation = Action.objects.get(lead=lead, workflow="opt_out_confirmation")
    assert (confirmation.status, confirmation.not_before) == ("done", None)
    [text] = sms_outbox
    assert "unsubscribed" in text["body"]
    assert not Decision.objects.filter(action=confirmation, reasoning__contains="held for quiet hours").exists()


def test_the_release_sweep_is_scheduled_every_minute_and_runs_as_a_task():
    from django_q.models import Schedule

    from approvals.tasks import actions_held_release as task

    schedule = Schedule.objects.get(name="approvals.actions_held_release")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "approvals.tasks.actions_held_release",
        "I",
        1,
        -1,
    )
    assert task() == 0
