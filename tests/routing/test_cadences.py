"""Cadences through their real entry points: triggers, the scheduler pass, stops, quiet hours, retries."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_q.models import Schedule

from approvals.models import Action, MessageTemplate, Policy, Workflow
from approvals.services import action_approve
from audit.models import Decision
from leads.models import InboundEvent, Lead, Message
from leads.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    lead_stage_set,
    sms_words_consent,
)
from routing import tasks, timing
from routing.cadences import Rules, cadence_pass, enrollment_create, enrollment_skip, enrollment_stop, step_slot
from routing.models import Cadence, CadenceStep, Enrollment, QuietHours, QuietHoursRule, Rep, StepRun, Team
from routing.selectors import cadence_report
from routing.services import lead_reassign
from tests.conftest import policy_set, user
from tests.fakes.http_server import Receiver

LEAD = {
    "name": "Dana Diaz",
    "phone": "(415) 555-0101",
    "message": "Need a new roof, budget $12k",
    "postal_code": "30301",
}
CHECK_IN = "Hi Dana, it's Ana at Nightshift Demo Co. Any questions about the quote we sent?"


@pytest.fixture
def lead(demo, capture):
    """A captured lead routed to rep1 (Ana), its first response waiting for approval."""
    return Lead.objects.get(pk=capture(**LEAD).json()["lead"])


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """One scheduler pass at ``moment``, with what it queues on commit carried out."""

    def _run(moment):
        with django_capture_on_commit_callbacks(execute=True):
            return cadence_pass(now=moment)

    return _run


@pytest.fixture
def drain(run):
    """Passes at each time the enrollment's next step is due, until it ends: as the minutely sweep would."""

    def _drain(enrollment):
        results = []
        enrollment.refresh_from_db()
        while enrollment.status == "active":
            results.append(run(enrollment.next_run_at))
            enrollment.refresh_from_db()
        return results

    return _drain


ALL_DAY = (time(0), time(23, 59, 59, 999999))


@pytest.fixture
def all_day(settings, db):
    """Quiet hours that never close, for tests about something else that step the clock by minutes.

    The law's rules are opened too (saved, as the admin does, so the snapshot hears of it): SMS and call steps
    keep to the stricter of the channel's window and the law's.
    """
    settings.CADENCE_QUIET_HOURS = "00:00-23:59:59.999999"
    for rule in QuietHoursRule.objects.all():
        for day in ("weekdays", "saturday", "sunday"):
            setattr(rule, f"{day}_from", ALL_DAY[0])
            setattr(rule, f"{day}_until", ALL_DAY[1])
        rule.holidays_closed = False
        rule.save()


@pytest.fixture
def approve(django_capture_on_commit_callbacks):
    def _approve(action_id: int):
        with django_capture_on_commit_callbacks(execute=True):
            return action_approve(action_id=action_id, user=user("rep1"))

    return _approve


def tz_of(lead) -> ZoneInfo:
    return ZoneInfo(lead.timezone or "UTC")


def one_step_cadence(name="Check-in", **fields) -> Cadence:
    cadence = Cadence.objects.create(name=name, trigger=Cadence.Trigger.MANUAL, **fields)
    CadenceStep.objects.create(
        cadence=cadence, delay=0, delay_unit="hours", template=MessageTemplate.objects.get(name="Quote check-in (SMS)")
    )
    return cadence


def enrolled_long_ago(lead, cadence: Cadence, *, days: int = 30) -> Enrollment:
    """An enrollment that started ``days`` ago, for a lead captured before that."""
    started = timezone.now() - timedelta(days=days)
    InboundEvent.objects.filter(lead=lead).update(received_at=started - timedelta(hours=1))
    return enrollment_create(cadence=cadence, lead=lead, trigger="test", started_at=started)


def enrollment_of(lead, name: str) -> Enrollment:
    return Enrollment.objects.get(lead=lead, cadence__name=name)


@pytest.mark.django_db
def test_the_sweep_is_scheduled_every_minute_and_runs_as_a_task(lead):
    schedule = Schedule.objects.get(func="routing.tasks.cadence_sweep")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 1, -1)
    assert tasks.cadence_sweep()["proposed"] == 0


@pytest.mark.django_db
def test_quote_follow_up_goes_through_the_policy_and_a_reply_stops_it(lead, capture, run, approve, sms_outbox):
    lead_stage_set(lead_id=lead.pk, stage="quoted", user=user("rep1"))
    enrollment = enrollment_of(lead, "Quote follow-up")
    assert (enrollment.status, enrollment.position, enrollment.trigger) == ("active", 0, "entered Quoted (rep1)")
    tz = tz_of(lead)
    local = enrollment.next_run_at.astimezone(tz)
    assert local.weekday() < 5 and time(8) <= local.time() < time(21), "a business day, inside quiet hours"
    assert enrollment.next_run_at >= timing.add_business_days(enrollment.started_at, 1, tz, ())

    assert run(enrollment.next_run_at - timedelta(minutes=1)).proposed == 0, "nothing before it is due"
    result = run(enrollment.next_run_at)
    assert (result.proposed, result.total()) == (1, 1)
    action = Action.objects.get(pk=result.action_ids[0])
    assert (action.workflow, action.kind, action.status) == ("follow_up", "send_sms", "pending"), "the draft policy"
    assert action.body.startswith(CHECK_IN)
    assert "Cadence 'Quote follow-up', step 1 of 4" in action.reasoning
    enrollment.refresh_from_db()
    assert enrollment.position == 1 and enrollment.next_run_at > timezone.now()

    approve(action.pk)
    assert [m["body"] for m in sms_outbox] == [action.body], "sent once, after a person approved it"
    quiet = enrollment_of(lead, "Gone quiet")
    assert quiet.status == "active", "our message starts the no-reply clock"
    assert quiet.next_run_at >= quiet.started_at + timedelta(hours=48)

    capture(channel="sms", source="twilio", phone=LEAD["phone"], message="Yes, let's go ahead")
    enrollment.refresh_from_db()
    quiet.refresh_from_db()
    assert (enrollment.status, enrollment.stop_kind) == ("stopped", "reply")
    assert (quiet.status, quiet.stop_kind) == ("stopped", "reply")
    assert StepRun.objects.get(action=action).replied_at is not None
    assert run(timezone.now() + timedelta(days=30)).total() == 0, "nothing due after the stop"
    stopped = Decision.objects.filter(lead=lead, step="cadence", outcome="skipped").values_list("reasoning", flat=True)
    assert "'Quote follow-up' stopped: The lead replied by sms." in stopped

    report = {f.cadence.name: f for f in cadence_report(since=timezone.now() - timedelta(days=1), until=timezone.now())}
    quote = report["Quote follow-up"]
    assert (quote.enrolled, quote.running, quote.stopped_by_reply, quote.opt_outs, quote.reply_share) == (1, 0, 1, 0, 1)
    first = quote.steps[0]
    assert (first.proposed, first.sent, first.replied, first.reply_rate) == (1, 1, 1, 1.0)
    assert [s.proposed for s in quote.steps[1:]] == [0, 0, 0]


@pytest.mark.django_db
def test_stopping_is_immediate_what_waits_is_cancelled_and_nothing_more_is_proposed(lead, run):
    enrollment = enrolled_long_ago(lead, Cadence.objects.get(name="Quote follow-up"))
    first = run(enrollment.next_run_at)
    enrollment.refresh_from_db()
    second = run(enrollment.next_run_at)
    assert (first.proposed, second.proposed) == (1, 1), "overdue steps go one per pass: step 1, then the call task"
    waiting = Action.objects.filter(pk__in=first.action_ids + second.action_ids)
    assert set(waiting.values_list("status", flat=True)) == {"pending"}
    enrollment_stop(enrollment_id=enrollment.pk, user=user("rep1"), reason="Customer asked for a month")
    assert set(waiting.values_list("status", flat=True)) == {"cancelled"}
    assert run(timezone.now() + timedelta(days=60)).total() == 0
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_kind, enrollment.stop_reason) == (
        "stopped",
        "person",
        "Customer asked for a month",
    )


@pytest.mark.django_db
def test_a_step_outside_quiet_hours_moves_to_the_next_allowed_minute(lead, run):
    Lead.objects.filter(pk=lead.pk).update(timezone="America/Chicago")
    lead.refresh_from_db()
    QuietHours.objects.create(channel="sms", allowed_from=time(9), allowed_until=time(17))
    chicago = ZoneInfo("America/Chicago")
    day = timezone.now().astimezone(chicago).date() + timedelta(days=2)
    late = timing.local_at(day, time(22), chicago)
    enrollment = enrollment_create(cadence=one_step_cadence(), lead=lead, trigger="test", started_at=late)
    assert enrollment.next_run_at == timing.local_at(day + timedelta(days=1), time(9), chicago)
    assert run(late + timedelta(minutes=5)).total() == 0
    assert run(enrollment.next_run_at).proposed == 1, "moved, never dropped"


@pytest.mark.django_db
def test_quiet_hours_edited_after_scheduling_are_honoured_at_run_time(lead, run):
    enrollment = enrollment_create(cadence=one_step_cadence(), lead=lead, trigger="test")
    local = enrollment.next_run_at.astimezone(tz_of(lead))
    # A one-minute window (inside the law's 8:00-21:00), most likely not open when the step runs.
    QuietHours.objects.create(channel="sms", allowed_from=time(8), allowed_until=time(8, 1))
    result = run(enrollment.next_run_at)
    enrollment.refresh_from_db()
    if time(8) <= local.time() < time(8, 1):
        assert result.proposed == 1
    else:
        assert (result.moved, result.proposed) == (1, 0)
        assert enrollment.next_run_at.astimezone(tz_of(lead)).time() == time(8)


@pytest.mark.django_db
def test_appointment_reminders_follow_the_appointment_and_stop_with_it(lead, run):
    rep = user("rep1")
    tz = tz_of(lead)
    quote = enrollment_create(cadence=Cadence.objects.get(name="Quote follow-up"), lead=lead, trigger="test")
    day = timezone.now().astimezone(tz).date() + timedelta(days=3)
    appointment = appointment_book(lead_id=lead.pk, user=rep, starts_at=f"{day}T10:00")
    quote.refresh_from_db()
    assert (quote.status, quote.stop_kind) == ("stopped", "booked"), "a booking answers the quote follow-up"
    reminders = Enrollment.objects.get(appointment=appointment)
    assert reminders.cadence.name == "Appointment reminders"
    assert reminders.next_run_at == appointment.starts_at - timedelta(hours=24)

    moved_day = day + timedelta(days=2)
    appointment = appointment_reschedule(appointment_id=appointment.pk, user=rep, starts_at=f"{moved_day}T15:00")
    reminders.refresh_from_db()
    assert (reminders.cycle, reminders.position) == (1, 0)
    assert reminders.next_run_at == appointment.starts_at - timedelta(hours=24)
    assert run(timing.local_at(day - timedelta(days=1), time(12), tz)).total() == 0, "the old time proposes nothing"

    result = run(reminders.next_run_at)
    action = Action.objects.get(pk=result.action_ids[0])
    assert action.workflow == Workflow.APPOINTMENT_REMINDER
    assert appointment.starts_at.astimezone(tz).strftime("%A %B %-d at %-I:%M %p") in action.body

    appointment_cancel(appointment_id=appointment.pk, user=rep)
    reminders.refresh_from_db()
    action.refresh_from_db()
    assert (reminders.status, reminders.stop_kind) == ("stopped", "appointment_cancelled")
    assert action.status == "cancelled", "a reminder for a cancelled appointment must not go"


@pytest.mark.django_db
def test_a_booking_for_soon_skips_reminders_already_past(lead):
    tz = tz_of(lead)
    soon = (timezone.now() + timedelta(hours=5)).astimezone(tz).replace(second=0, microsecond=0, tzinfo=None)
    appointment = appointment_book(lead_id=lead.pk, user=user("rep1"), starts_at=soon.isoformat())
    assert Enrollment.objects.get(appointment=appointment).position == 1, "24 hours before is already past"


@pytest.mark.django_db
def test_texting_stop_stops_every_cadence(lead, run):
    enrollment = enrollment_create(cadence=Cadence.objects.get(name="Quote follow-up"), lead=lead, trigger="test")
    sms_words_consent(phone=lead.phone, body="STOP")
    enrollment.refresh_from_db()
    lead.refresh_from_db()
    assert (enrollment.status, enrollment.stop_kind) == ("stopped", "opt_out")
    assert run(timezone.now() + timedelta(days=30)).total() == 0
    with pytest.raises(ValidationError) as refused:
        enrollment_create(cadence=Cadence.objects.get(name="Quote follow-up"), lead=lead, trigger="test")
    assert "opted out" in str(refused.value)


@pytest.mark.django_db
def test_reassignment_stops_a_cadence_only_when_it_says_so(lead):
    cadence = Cadence.objects.get(name="Quote follow-up")
    enrollment = enrollment_create(cadence=cadence, lead=lead, trigger="test")
    rep2 = Rep.objects.get(user__username="rep2")
    lead_reassign(lead_id=lead.pk, rep_id=rep2.pk, user=user("manager"))
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    cadence.stop_on_reassign = True
    cadence.save()
    lead_reassign(lead_id=lead.pk, rep_id=Rep.objects.get(user__username="rep1").pk, user=user("manager"))
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_kind) == ("stopped", "reassigned")


@pytest.mark.django_db
def test_winning_stops_the_follow_up_and_starts_the_review_request_with_its_link(lead, run):
    quote = enrollment_create(cadence=Cadence.objects.get(name="Quote follow-up"), lead=lead, trigger="test")
    lead_stage_set(lead_id=lead.pk, stage="won", user=user("rep1"))
    quote.refresh_from_db()
    assert (quote.status, quote.stop_kind) == ("stopped", "stage")
    review = enrollment_of(lead, "Review request")
    assert review.next_run_at >= timing.add_business_days(review.started_at, 2, tz_of(lead), ())
    action = Action.objects.get(pk=run(review.next_run_at).action_ids[0])
    assert action.workflow == "review_request"
    assert action.body.endswith("https://g.page/r/nightshift-demo/review")
    review.refresh_from_db()
    assert review.status == "completed"


@pytest.mark.django_db
def test_a_no_reply_cadence_is_not_restarted_by_its_own_message(lead, run, approve, sms_outbox):
    quiet = enrolled_long_ago(lead, Cadence.objects.get(name="Gone quiet"), days=2)
    action_id = run(quiet.next_run_at).action_ids[0]
    enrollment_skip(enrollment_id=quiet.pk, user=user("rep1"))
    quiet.refresh_from_db()
    assert quiet.status == "completed"
    approve(action_id)
    assert len(sms_outbox) == 1
    assert Enrollment.objects.filter(lead=lead, cadence=quiet.cadence).count() == 1, "no loop"
    assert Decision.objects.filter(
        lead=lead, step="cadence", reasoning__startswith="Not started again: 'Gone quiet' sent this message itself"
    ).exists()


@pytest.mark.django_db
def test_a_failing_step_retries_with_backoff_then_fails_on_the_timeline(lead, run, settings, all_day):
    cadence = one_step_cadence()
    enrollment = enrollment_create(cadence=cadence, lead=lead, trigger="test")
    # A template broken behind the admin's back (its form refuses this): rendering raises at run time.
    template = MessageTemplate.objects.get(name="Quote check-in (SMS)")
    template.body = "Hi {% if %}"
    template.save(update_fields=["body"])
    moment = enrollment.next_run_at
    waits = []
    for _ in range(settings.CADENCE_MAX_ATTEMPTS - 1):
        assert run(moment).retrying == 1
        enrollment.refresh_from_db()
        waits.append(round((enrollment.next_run_at - moment).total_seconds() / 60))
        assert "TemplateSyntaxError" in enrollment.last_error
        moment = enrollment.next_run_at
    assert waits == [2, 4, 8], "backing off"
    assert run(moment).failed == 1
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.attempts) == ("completed", 0)
    assert StepRun.objects.get(enrollment=enrollment).status == "failed"
    failed = Decision.objects.get(lead=lead, step="cadence", outcome="failed")
    assert failed.reasoning.startswith("'Check-in' step 1 failed 4 times: TemplateSyntaxError")


@pytest.mark.django_db
def test_a_cadence_without_steps_is_refused_and_one_emptied_later_stops_with_a_reason(lead, run):
    empty = Cadence.objects.create(name="Empty")
    with pytest.raises(ValidationError) as refused:
        enrollment_create(cadence=empty, lead=lead, trigger="test")
    assert refused.value.message_dict == {"cadence": ["'Empty' has no steps yet."]}
    cadence = one_step_cadence()
    enrollment = enrollment_create(cadence=cadence, lead=lead, trigger="test")
    cadence.steps.all().delete()
    assert run(enrollment.next_run_at).stopped == 1
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_kind) == ("stopped", "invalid")
    assert Decision.objects.filter(lead=lead, outcome="failed", reasoning__contains="no steps").exists()


@pytest.mark.django_db
def test_an_edit_applies_from_the_next_step_and_history_keeps_the_old_version(lead, run):
    template = MessageTemplate.objects.get(name="Quote check-in (SMS)")
    cadence = one_step_cadence()
    later = CadenceStep.objects.create(cadence=cadence, position=1, delay=1, delay_unit="hours", template=template)
    enrollment = enrollment_create(cadence=cadence, lead=lead, trigger="test")
    run(enrollment.next_run_at)
    enrollment.refresh_from_db()
    planned = enrollment.next_run_at
    later.delay, later.template = 30, MessageTemplate.objects.get(name="Quote nudge (SMS)")
    later.save()
    assert run(planned).moved == 1, "the step now falls later: it waits"
    enrollment.refresh_from_db()
    assert enrollment.next_run_at >= enrollment.started_at + timedelta(hours=30)
    action = Action.objects.get(pk=run(enrollment.next_run_at).action_ids[0])
    assert "just checking in on your quote" in action.body
    assert later.history.count() == 2 and later.history.last().delay == 1


@pytest.mark.django_db
def test_a_step_whose_condition_fails_is_skipped_and_recorded(lead, drain):
    enrollment = enrolled_long_ago(lead, Cadence.objects.get(name="Quote follow-up"))
    Lead.objects.filter(pk=lead.pk).update(stage="appointment")
    results = drain(enrollment)
    # Step 1 and the call task have no condition; steps 3 and 4 ask for the stage to still be Quoted.
    assert [(r.proposed, r.skipped) for r in results] == [(1, 0), (1, 0), (0, 1), (0, 1)]
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    reasons = list(StepRun.objects.filter(enrollment=enrollment, status="skipped").values_list("reason", flat=True))
    assert reasons == ["the lead is no longer Quoted"] * 2
    call = Action.objects.get(pk=results[1].action_ids[0])
    assert (call.kind, call.payload["to"]) == ("call_task", "rep1@example.com")


@pytest.mark.django_db
def test_business_days_skip_listed_holidays(lead):
    from routing.models import Holiday

    tz = tz_of(lead)
    start = timing.local_at(date(2027, 12, 23), time(10), tz)  # a Thursday
    Holiday.objects.create(date=date(2027, 12, 24), name="Christmas Eve")
    enrollment = enrollment_create(
        cadence=Cadence.objects.get(name="Quote follow-up"), lead=lead, trigger="test", started_at=start
    )
    assert enrollment.next_run_at == timing.local_at(date(2027, 12, 27), time(10), tz)


@pytest.mark.django_db
def test_a_slack_nudge_reaches_the_team_and_is_no_message_to_the_lead(lead, drain, all_day, sms_outbox):
    policy_set("follow_up", mode=Policy.Mode.AUTO)
    with Receiver() as slack:
        for team in Team.objects.all():  # saved, as the admin does: the routing snapshot hears of it
            team.slack_webhook_url = slack.url + "/services/T0/B0/x"
            team.save()
        drain(enrolled_long_ago(lead, Cadence.objects.get(name="Gone quiet"), days=3))
        texts = [body["text"] for _, _, _, body in slack.calls]
    assert [m["body"][:28] for m in sms_outbox] == ["Hi Dana, are you still looki"], "step 1 texted the lead"
    assert any(t.startswith(":bell: Dana has gone quiet after two nudges: worth a call?") for t in texts), texts
    nudge = Action.objects.get(lead=lead, kind="slack_nudge")
    assert nudge.status == "done"
    assert not Message.objects.filter(action=nudge).exists(), "a nudge is for the team, not a message to the lead"


@pytest.mark.django_db
def test_a_call_task_is_emailed_to_the_rep_with_the_lead(lead, drain, all_day, mailoutbox):
    policy_set("follow_up", mode=Policy.Mode.AUTO)
    drain(enrolled_long_ago(lead, Cadence.objects.get(name="Quote follow-up")))
    task = next(m for m in mailoutbox if m.to == ["rep1@example.com"])
    assert task.subject == "Call Dana Diaz"
    assert task.body.startswith("Call Dana about the quote.")
    assert f"/portal/leads/{lead.pk}/" in task.body and "+14155550101" in task.body
    assert Action.objects.get(lead=lead, kind="call_task").status == "done"


@pytest.mark.django_db
def test_the_sweep_asks_other_workers_to_share_a_large_pass(
    lead, settings, all_day, django_capture_on_commit_callbacks
):
    settings.CADENCE_BATCH = 2
    cadence = one_step_cadence()
    for i in range(6):
        other = Lead.objects.create(name=f"Lead {i}", phone=f"+1415555{i:04d}")
        enrollment_create(cadence=cadence, lead=other, trigger="test")
    # Tasks run inline in tests, so the helper the sweep enqueues has run by the time the sweep's own pass starts.
    summary = tasks.cadence_sweep()
    assert StepRun.objects.filter(status="proposed").count() == 6
    assert summary["proposed"] < 6


@pytest.mark.django_db
def test_sms_and_call_steps_keep_to_the_state_law_and_email_steps_to_their_window(demo, capture):
    texts = MessageTemplate.objects.get(name="Quote check-in (SMS)")
    email = MessageTemplate.objects.get(name="Quote last call (email)")
    cadence = Cadence.objects.create(name="State law", trigger=Cadence.Trigger.MANUAL)
    kinds = [("sms", texts, ""), ("email", email, ""), ("call", None, "Call {{ first_name }}")]
    for position, (channel, template, note) in enumerate(kinds):
        CadenceStep.objects.create(cadence=cadence, position=position, channel=channel, template=template, note=note)
    steps = list(cadence.steps.order_by("position"))
    rules = Rules()

    def slots(lead, moment):
        return [step_slot(moment, lead, step, rules).astimezone(tz_of(lead)).strftime("%a %H:%M") for step in steps]

    hartford = Lead.objects.get(pk=capture(name="Chris", phone="+18605550111", postal_code="06103").json()["lead"])
    assert (hartford.region, hartford.timezone) == ("US-CT", "America/New_York")
    thursday_0830 = timing.local_at(date(2027, 1, 7), time(8, 30), tz_of(hartford))
    assert slots(hartford, thursday_0830) == ["Thu 09:00", "Thu 08:30", "Thu 09:00"], "Connecticut: 9 a.m. for texts"

    dallas = Lead.objects.get(pk=capture(name="Tex", phone="+12145550111", postal_code="75201").json()["lead"])
    sunday_1000 = timing.local_at(date(2027, 1, 10), time(10), tz_of(dallas))
    assert slots(dallas, sunday_1000) == ["Sun 12:00", "Sun 10:00", "Sun 12:00"], "Texas: Sundays from noon"

    cadence = one_step_cadence("Texas Sunday")
    enrollment = enrollment_create(cadence=cadence, lead=dallas, trigger="test", started_at=sunday_1000)
    assert enrollment.next_run_at == timing.local_at(date(2027, 1, 10), time(12), tz_of(dallas)), "moved, not dropped"


def test_a_post_the_honeypot_caught_with_a_leads_number_does_not_stop_its_follow_up(lead, client):
    """Anyone can type someone's number into a form: a bot's post is not the person writing back."""
    lead_stage_set(lead_id=lead.pk, stage="quoted", user=user("rep1"))
    enrollment = enrollment_of(lead, "Quote follow-up")
    bot = {"name": "Dana", "phone": LEAD["phone"], "message": "cheap seo", "website": "http://spam.example"}
    assert client.post("/capture/form/website-quote/", bot).status_code in (200, 202, 302)
    assert InboundEvent.objects.filter(lead=lead, payload__has_key="suspected_spam").exists()
    enrollment.refresh_from_db()
    assert enrollment.status == "active", "the honeypot's catch does not count as a reply"
