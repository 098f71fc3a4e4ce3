"""Reports against figures worked out by hand on a small fixture, on SQLite and on PostgreSQL.

The week of Thu Oct 1 - Wed Oct 7, 2026. Four real leads and a spam one, plus one lead the week before:

    lead  arrived (UTC)        channel  source  rep   answered after  stages                        last written
    L1    Oct 1 03:00 (Thu)    sms      twilio  rep1  30 s            new, contacted                Oct 1 03:00:30
    L2    Oct 1 10:00 (Thu)    sms      twilio  rep1  120 s           new, quoted                   Oct 1 10:02
    L3    Oct 3 22:00 (Sat)    form     web     rep2  600 s           new, qualified, appointment, won
    L4    Oct 2 12:00 (Fri)    form     web     rep2  never           new, quoted, lost
    L5    Oct 2 13:00          email    spam    -     never           new, spam
    L0    Sep 30 12:00         sms      twilio  rep1  10 s            new (outside the week)

Answered times, sorted: 30, 120, 600 s. p50 = 120; p90 = 120 + 0.8 x 480 = 504; p99 = 120 + 0.98 x 480 = 590.4.
"""

from datetime import date
from decimal import Decimal

import pytest

from approvals.models import Action
from audit import reports
from audit.models import Decision
from leads.models import Message
from routing.models import Assignment, Cadence, Enrollment, Rep, StepRun
from tests.audit.conftest import WEEK, at, make_lead
from tests.conftest import user

pytestmark = pytest.mark.django_db


def test_speed_to_lead_percentiles_shares_and_groups(week):
    report = reports.speed_to_lead(WEEK)
    overall = report.overall
    assert (overall.leads, overall.answered, overall.within_1m, overall.within_5m) == (4, 3, 1, 2)
    assert (overall.p50, overall.p90, overall.p99) == pytest.approx((120, 504, 590.4))
    assert (overall.share_1m, overall.share_5m) == (0.25, 0.5)
    channels = dict(report.by_channel)
    assert (channels["sms"].leads, channels["sms"].p50) == (2, pytest.approx(75))  # 30 and 120: halfway
    assert (channels["form"].leads, channels["form"].answered, channels["form"].p50) == (2, 1, pytest.approx(600))
    assert "email" not in channels, "spam is left out"
    assert {name: s.leads for name, s in report.by_rep} == {"Ana Rep": 2, "Ben Rep": 2}
    assert [(hour, s.leads) for hour, s in report.by_hour] == [("03:00", 1), ("10:00", 1), ("12:00", 1), ("22:00", 1)]
    assert [(day, s.leads) for day, s in report.by_weekday] == [("Thu", 2), ("Fri", 1), ("Sat", 1)]


def test_the_business_clock_decides_the_days_and_hours(week, settings):
    settings.TIME_ZONE = "America/New_York"  # EDT, UTC-4: L1's 03:00 UTC is Sep 30, 23:00 there
    week_ny = reports.Period.dates(date(2026, 10, 1), date(2026, 10, 7))
    report = reports.speed_to_lead(week_ny)
    assert report.overall.leads == 3
    assert [(hour, s.leads) for hour, s in report.by_hour] == [("06:00", 1), ("08:00", 1), ("18:00", 1)]
    assert [(day, s.leads) for day, s in report.by_weekday] == [("Thu", 1), ("Fri", 1), ("Sat", 1)]


def test_an_empty_period_has_zeros_and_no_percentiles(week):
    empty = reports.Period.dates(date(2026, 8, 1), date(2026, 8, 7))
    report = reports.speed_to_lead(empty)
    assert (report.overall.leads, report.overall.p50, report.overall.share_1m) == (0, None, None)
    assert report.by_channel == [] and report.by_hour == []
    (row,) = reports.funnel(empty)
    assert (row.leads, row.reached, row.conversion[0]) == (0, [0] * 6, None)
    assert reports.lost_leads(empty).rate is None


def test_the_funnel_counts_every_stage_a_lead_reached(week):
    (row,) = reports.funnel(WEEK)
    # new, contacted, qualified, quoted, appointment, won
    assert (row.leads, row.reached) == (5, [5, 4, 3, 3, 1, 1])
    assert (row.lost, row.unqualified, row.spam) == (1, 0, 1)
    assert row.conversion[-1] == pytest.approx(0.2)
    by_source = {r.key: r for r in reports.funnel(WEEK, by="source")}
    assert by_source["web"].reached == [2, 2, 2, 2, 1, 1]
    assert by_source["twilio"].reached == [2, 2, 1, 1, 0, 0]


def test_leaks_are_lists_of_leads(week):
    lead1, lead2 = week["L1"], week["L2"]
    Message.objects.create(lead=lead1, direction="in", channel="call", body="", status="missed")
    Message.objects.filter(lead=lead1).update(created_at=at(2, 9))
    Message.objects.create(lead=lead2, direction="in", channel="call", body="", status="missed")
    Message.objects.create(lead=lead2, direction="out", channel="sms", body="Sorry we missed you", status="sent")
    Message.objects.filter(lead=lead2, direction="in").update(created_at=at(2, 9))
    Message.objects.filter(lead=lead2, direction="out").update(created_at=at(2, 9, 1))
    rep = Rep.objects.get(user__username="rep1")
    Assignment.objects.create(lead=lead1, rep=rep, reason="test", breached_at=at(1, 4))
    names = {kind: sorted(lead.name for lead in reports.leak_leads(kind, WEEK)) for kind in reports.LEAKS}
    assert names == {
        "slow": ["L3", "L4"],
        "missed_calls": ["L1"],
        "quotes": ["L2"],
        "sla": ["L1"],
        "idle": ["L0", "L1", "L2"],
    }
    assert dict((kind, n) for kind, _, n in reports.leaks(WEEK))["slow"] == 2
    Enrollment.objects.create(cadence=Cadence.objects.get(name="Quote follow-up"), lead=lead2, started_at=at(1, 11))
    assert not reports.leak_leads("quotes", WEEK).exists(), "a quote a cadence follows up is no leak"


def test_follow_up_completion(week):
    cadence = Cadence.objects.get(name="Quote follow-up")
    enrollment = Enrollment.objects.create(cadence=cadence, lead=week["L2"], started_at=at(1, 11))
    done = Action.objects.create(lead=week["L2"], workflow="follow_up", kind="send_sms", status="done")
    pending = Action.objects.create(lead=week["L2"], workflow="follow_up", kind="send_sms", status="pending")
    for position, (status, action) in enumerate(
        [("proposed", done), ("proposed", pending), ("skipped", None), ("failed", None)]
    ):
        StepRun.objects.create(enrollment=enrollment, position=position, status=status, action=action)
    StepRun.objects.update(created_at=at(2, 10))
    Enrollment.objects.create(cadence=cadence, lead=week["L1"], started_at=at(1, 4), next_run_at=at(3, 10))
    figures = reports.follow_up(WEEK)
    assert (figures.due, figures.done, figures.waiting, figures.skipped, figures.failed) == (5, 1, 1, 1, 1)
    assert (figures.overdue, figures.completion, figures.idle_leads) == (1, 0.2, 3)


def test_ai_quality_per_workflow_with_model_latency_and_cost(week):
    lead, rep = week["L1"], user("rep1")
    made = [
        Action(lead=lead, workflow="first_response", kind="send_sms", status="done"),  # sent by the policy alone
        Action(lead=lead, workflow="first_response", kind="send_sms", status="done", decided_by=rep),
        Action(lead=lead, workflow="first_response", kind="send_sms", status="done", decided_by=rep, edited=True),
        Action(lead=lead, workflow="first_response", kind="send_sms", status="rejected", decided_by=rep),
        Action(
            lead=lead,
            workflow="first_response",
            kind="send_sms",
            status="pending",
            escalated=True,
            escalation_reason="confidence 0.40 < 0.70",
        ),  # fmt: skip
        Action(lead=lead, workflow="first_response", kind="send_sms", status="shadow"),
        Action(lead=lead, workflow="follow_up", kind="send_sms", status="done", proposed_by=rep, decided_by=rep),
    ]
    Action.objects.bulk_create(made)
    Action.objects.update(created_at=at(2, 10))
    for ms in (100, 200, 300, 400):
        Decision.objects.create(step="qualify", lead=lead, model="gpt-4o-mini", duration_ms=ms, tokens_in=1000,
                                tokens_out=100)  # fmt: skip
    Decision.objects.filter(model="gpt-4o-mini").update(created_at=at(2, 10))
    quality = reports.ai_quality(WEEK)
    (first,) = quality.workflows  # a person's own message is not the system's proposal
    assert (first.proposed, first.sent_alone, first.approved_unchanged, first.edited, first.rejected) == (6, 1, 1, 1, 1)
    assert (first.waiting, first.shadow, first.escalated, first.decided) == (1, 1, 1, 3)
    assert quality.reasons == [("confidence 0.40 < 0.70", 1)]
    (model,) = quality.models
    assert (model.model, model.calls, model.avg_ms, model.tokens_in, model.tokens_out) == (
        "gpt-4o-mini",
        4,
        250,
        4000,
        400,
    )
    assert model.p95_ms == pytest.approx(385)  # 300 + 0.85 x 100
    assert model.cost == Decimal("0.0008")  # 4 x 0.00015 + 0.4 x 0.0006 = 0.00084


def test_roi_compares_the_baseline_with_now_and_shows_its_arithmetic(week):
    september = reports.Period.dates(date(2026, 9, 1), date(2026, 9, 7))
    for n, answered in enumerate((10, None, None, None)):  # one in four answered in time: 3 of 4 lost
        make_lead(f"B{n}", at(2, 9 + n, month=9), channel="sms", source="twilio", answered_after=answered,
                  stages=("new", "won") if answered else ("new",), written=at(2, 9, month=9))  # fmt: skip
    result = reports.roi(
        baseline=september,
        current=WEEK,
        close_rate=Decimal("20"),
        deal_value=Decimal("5000"),
        monthly_cost=Decimal("500"),
    )
    assert (result.baseline.leads, result.baseline.slow, result.baseline.rate) == (4, 3, 0.75)
    # Now: L3 answered late and L4 never (2 slow); L1 and L2 were answered in time and written to within a week.
    assert (result.current.leads, result.current.slow, result.current.unfollowed, result.current.rate) == (4, 2, 0, 0.5)
    assert result.recovered == pytest.approx(1.0)  # (0.75 - 0.5) x 4
    assert result.monthly_value == Decimal("4285.71")  # 1 x 20% x 5000 x 30 / 7
    assert result.net == Decimal("3785.71")
    assert "(75.0% lost before − 50.0% lost now) × 4 leads = 1.0 recovered" in result.formula
