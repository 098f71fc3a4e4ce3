"""`seed_demo --history DAYS`: a business's days before and after automation, in every report and the Autonomy page.

One 21-day history (ending at a fixed hour, so its rows are always the same) is seeded once for the module and read
by these tests (the command's own behaviour: test_seed_demo_command.py). The 90-day history is seeded once, by the
browser tour (tests/e2e/test_demo_tour.py).
"""

import re
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from approvals.models import Action, Policy, Workflow
from approvals.selectors import autonomy_overview
from approvals.services import action_approve
from audit import reports
from audit.models import Decision, ReportSettings
from leads.models import InboundEvent, Lead
from routing.demo.rows import MARK
from routing.demo.seed import MIN_WAITING
from routing.models import Assignment, Enrollment, Rep
from tests.conftest import policy_set, user_client
from tests.routing.seeding import UNTIL, seed


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """The 21-day history, seeded once and rolled back after the module's tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = seed("--until", UNTIL, days=21)
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def periods(history, db):
    settings_row = ReportSettings.load()
    baseline = reports.baseline_period(settings_row)
    after = reports.Period.dates(baseline.last_day + timedelta(days=1), datetime.fromisoformat(UNTIL).date())
    return baseline, after


def test_a_five_rep_business_with_every_channel_and_several_sources(history, db):
    assert Rep.objects.filter(active=True).count() == 5
    generated = Lead.objects.filter(events__external_id__startswith=MARK).distinct()
    assert set(generated.values_list("channel", flat=True)) == {
        "form", "call", "sms", "email", "chat", "ad", "marketplace", "api",
    }  # fmt: skip
    assert generated.values("source").distinct().count() >= 8
    assert re.search(r"History seeded in \d+\.\d s\.", history)
    assert re.search(r"[\d,]+ leads, [\d,]+ inbound events", history)


def test_every_report_has_the_period_and_speed_to_lead_before_and_after(periods):
    baseline, after = periods
    before_speed, after_speed = reports.speed_to_lead(baseline).overall, reports.speed_to_lead(after).overall
    assert before_speed.p50 > 3600, "before automation a rep answered in hours"
    assert after_speed.p50 < 60, "after it the first answer goes in seconds"
    assert (before_speed.share_5m or 0) < 0.2 < after_speed.share_5m
    for period in (baseline, after):
        (funnel,) = reports.funnel(period)
        assert funnel.leads and funnel.reached[1] and funnel.reached[3], "contacted and quoted leads in each"
        assert funnel.reached[0] == funnel.leads, "every lead, noise and calls too, reached New as capture saved it"
        assert reports.ai_quality(period).workflows and reports.ai_quality(period).models
    leaks_before = dict((kind, n) for kind, _, n in reports.leaks(baseline))
    leaks_after = dict((kind, n) for kind, _, n in reports.leaks(after))
    assert leaks_before["missed_calls"] > 0 and leaks_before["slow"] > leaks_after["slow"]
    assert leaks_before["sla"] > 0
    assert reports.follow_up(baseline).due == 0, "no cadence ran before automation"
    assert reports.follow_up(after).done > 0
    roi = reports.roi(baseline=baseline, current=after, close_rate=20, deal_value=5000, monthly_cost=500)
    assert roi.baseline.rate > roi.current.rate


def test_every_report_page_draws_its_chart_and_fills_its_tables(periods):
    baseline, after = periods
    manager = user_client("manager")
    window = f"from={baseline.first_day}&to={after.last_day}"
    charts = {
        "speed": "Speed to lead by week",
        "funnel": "The funnel",
        "leaks": "Leaks by week",
        "ai": "What happened to each workflow",
        "follow-up": None,
        "roi": None,
    }
    for name, chart in charts.items():
        page = manager.get(f"/portal/reports/{name}/?{window}").content.decode()
        assert "Nothing in this period" not in page, name
        if chart:
            assert "<title id=" in page and chart in page, name
    speed = manager.get(f"/portal/reports/speed/?from={after.first_day}&to={after.last_day}").content.decode()
    assert "Baseline</text>" in speed, "the weeks before automation are shaded and named"


def test_the_autonomy_page_offers_to_graduate_one_workflow(periods):
    # Three weeks hold too few decisions for the default window of 200 (the 90-day tour checks that one): the
    # window shrinks to its least, and the rates people showed still pass exactly one workflow.
    Policy.objects.update(graduation_window=10)
    rows = {row.workflow: row.stats for row in autonomy_overview()}
    assert [w for w, stats in rows.items() if stats.eligible] == [Workflow.APPOINTMENT_REMINDER]
    assert rows[Workflow.FOLLOW_UP].decided == 10 and rows[Workflow.FOLLOW_UP].rate < 0.95
    assert rows[Workflow.FOLLOW_UP].edited and rows[Workflow.FOLLOW_UP].unchanged
    assert rows[Workflow.FIRST_RESPONSE].verdict == "already on auto"
    page = user_client("manager").get("/portal/autonomy/").content.decode()
    assert page.count("Graduate to auto") == 1
    assert "/portal/autonomy/appointment_reminder/graduate/" in page


def test_the_history_is_on_the_business_clock_with_nights_and_weekends(history, db):
    hours, weekdays = set(), set()
    for arrived in Lead.objects.filter(events__external_id__startswith=MARK).values_list("created_at", flat=True):
        local = timezone.localtime(arrived, reports.business_tz())
        hours.add(local.hour)
        weekdays.add(local.weekday())
    assert {5, 6} <= weekdays
    assert hours & {22, 23, 0, 1, 2, 3, 4, 5}, "some leads arrive at night"
    assert hours & set(range(9, 17))


def test_nothing_is_left_for_the_live_worker_to_redo(history, db):
    end = datetime.fromisoformat(UNTIL)
    assert not Action.objects.filter(status__in=["proposed", "approved", "executing"]).exists()
    assert not InboundEvent.objects.filter(processed_at=None).exists()
    # Steps due at the very hour it ends go to the live sweep, which runs them within its minute.
    assert not Enrollment.objects.filter(status="active", next_run_at__lt=end).exists()
    assert Enrollment.objects.filter(status="active").exists(), "cadences still running go on live"
    assert not Assignment.objects.filter(sla_due_at__lt=end - timedelta(minutes=1)).exists()
    assert not Lead.objects.filter(created_at__gt=end).exists()
    assert not Decision.objects.filter(created_at__gt=end + timedelta(days=1)).exists()
    assert Action.objects.filter(status="pending").exists(), "the queue has drafts waiting"


def test_the_policies_and_baseline_are_as_automation_left_them(history, db):
    assert Policy.objects.get(workflow=Workflow.FIRST_RESPONSE).mode == Policy.Mode.AUTO
    assert Policy.objects.get(workflow=Workflow.FOLLOW_UP).mode == Policy.Mode.DRAFT
    switched = Decision.objects.filter(step=Decision.Step.POLICY, actor__username="manager")
    assert switched.filter(workflow=Workflow.MISSED_CALL, reasoning__contains="observe → auto").exists()
    assert ReportSettings.load().baseline_start is not None


def test_a_policy_changed_later_still_counts_the_history(periods):
    policy_set(Workflow.FOLLOW_UP, graduation_window=10, graduation_bar=0.5)
    rows = {row.workflow: row.stats for row in autonomy_overview()}
    assert rows[Workflow.FOLLOW_UP].eligible, "the history's decisions are what the page reads"


def _shape(action: Action) -> dict:
    """What reports, the queue and the Autonomy page read of an answer: the action, its message, its lead, its log."""
    lead, message = action.lead, action.message
    steps = list(action.decisions.order_by("created_at", "id").values_list("step", flat=True))
    return {
        "action": {
            "workflow": action.workflow,
            "kind": action.kind,
            "status": action.status,
            "payload": sorted(action.payload),
            "by_person": (action.proposed_by_id is not None, action.decided_by_id is not None),
            "edited": (action.edited, action.edit_distance),
            "escalated": action.escalated,
            "review_by": action.review_by,
            "attempts": action.attempts,
            "event": action.event_id == lead.events.order_by("received_at").first().pk,
        },
        "message": {
            "direction": message.direction,
            "channel": message.channel,
            "status": message.status,
            "to": message.to == lead.phone,
            "body": message.body == action.body,
            "provider_id": bool(message.provider_id),
            "sent_at": message.sent_at is not None and message.created_at <= message.sent_at,
        },
        "lead": {
            "answered": lead.first_response_at == message.sent_at or lead.first_response_at < message.sent_at,
            "written": lead.last_outbound_at is not None and lead.last_outbound_at >= message.sent_at,
            "owned": lead.owner_id is not None and lead.assignments.exists(),
            "reported": bool(lead.channel and lead.source and lead.score is not None and lead.funnel_rank >= 2),
        },
        "log": steps,
        "pipeline": list(
            Decision.objects.filter(lead=lead, created_at__lte=lead.created_at + timedelta(seconds=5))
            .exclude(step__in=[Decision.Step.TOUCH, Decision.Step.SLA])
            .order_by("created_at", "id")
            .values_list("step", flat=True)
        ),
    }


def _generated(**filters) -> Action:
    return (
        Action.objects.filter(
            lead__events__external_id__startswith=MARK,
            lead__channel="form",
            lead__phone__gt="",
            status=Action.Status.DONE,
            **filters,
        )
        .order_by("-created_at")
        .first()
    )


def test_a_generated_answer_has_the_rows_the_services_write(history, capture, django_capture_on_commit_callbacks):
    """The same story told by the services (capture, the pipeline, the executor; a rep's approval) and by the
    history: reports, the queue and the Autonomy page read the same rows either way."""
    form = {"channel": "form", "source": "website-quote", "postal_code": "78704", "message": "Roof quote please"}
    capture(name="Auto Answered", phone="5127770101", **form)
    served_auto = Action.objects.get(lead__phone="+15127770101")
    generated_auto = _generated(workflow=Workflow.FIRST_RESPONSE, decided_by=None, escalated=False)
    assert _shape(served_auto) == _shape(generated_auto)

    policy_set(Workflow.FIRST_RESPONSE, mode=Policy.Mode.DRAFT)
    capture(name="Rep Approved", phone="5127770102", **form)
    served = Action.objects.get(lead__phone="+15127770102")
    with django_capture_on_commit_callbacks(execute=True):
        action_approve(action_id=served.pk, user=served.lead.owner)
    served.refresh_from_db()
    generated = _generated(workflow=Workflow.FIRST_RESPONSE, decided_by__isnull=False, edited=False, escalated=False)
    served_shape, generated_shape = _shape(served), _shape(generated)
    # Before automation a rep got to the draft minutes or hours later: the SLA sweep may have moved the lead meanwhile.
    assert served_shape.pop("pipeline")[:4] == generated_shape.pop("pipeline")[:4] == [
        "enrich", "qualify", "route", "propose",
    ]  # fmt: skip
    assert served_shape == generated_shape


@pytest.mark.parametrize("until", ["2026-11-24T14:00:00+00:00", "2026-11-29T03:00:00+00:00"])
def test_the_visitor_finds_drafts_waiting_at_any_hour(db, until):
    """In office hours the story's reps would have emptied the queue (this history ending on a Tuesday at 14:00 left
    nothing waiting): what started waiting in the last hours is left for the person on duty, the demo's visitor."""
    seed("--until", until, days=3)
    waiting = Action.objects.filter(status="pending", lead__events__external_id__startswith=MARK).distinct()
    assert waiting.count() >= MIN_WAITING
    assert not waiting.filter(decided_by__isnull=False).exists()
