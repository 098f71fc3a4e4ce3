"""The Booking report: time from capture to booked, booked share by source and channel, no-shows a rep marked;
and bookings in the ROI model."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from audit import reports
from leads.models import Appointment
from leads.services import appointment_book
from tests.audit.conftest import WEEK, at, make_lead
from tests.conftest import user, user_client


def book(lead, *, after_hours: float, starts_in_days: int = 2) -> Appointment:
    """Book for ``lead`` ``after_hours`` after it arrived, a meeting ``starts_in_days`` later."""
    moment = lead.created_at + timedelta(hours=after_hours)
    with time_machine.travel(moment, tick=False):
        return appointment_book(
            lead_id=lead.pk, user=None, starts_at=moment + timedelta(days=starts_in_days), host=user("rep1")
        )


@pytest.fixture
def booked_week(demo):
    leads = {
        "web1": make_lead("W1", at(1, 9), channel="form", source="website", owner=user("rep1")),
        "web2": make_lead("W2", at(2, 9), channel="form", source="website", owner=user("rep1")),
        "ads": make_lead("A1", at(3, 9), channel="sms", source="google-ads", owner=user("rep1")),
        "spam": make_lead("S1", at(3, 10), channel="sms", source="google-ads", stages=("new", "spam")),
    }
    book(leads["web1"], after_hours=1)
    book(leads["ads"], after_hours=3)
    return leads


def test_booked_share_and_time_to_book_overall_by_source_and_by_channel(booked_week):
    report = reports.booking_report(WEEK)
    overall = report.overall
    assert (overall.leads, overall.booked) == (3, 2)  # spam left out
    assert overall.share == pytest.approx(2 / 3)
    assert overall.p50 == pytest.approx(2 * 3600)  # 1 h and 3 h: the median is 2 h
    by_source = {row.key: (row.leads, row.booked) for row in report.by_source}
    assert by_source == {"website": (2, 1), "google-ads": (1, 1)}
    assert {row.key: row.share for row in report.by_channel} == {"form": 0.5, "sms": 1.0}


def test_a_rep_marks_a_no_show_on_the_lead_page_and_the_report_counts_it(booked_week):
    appointment = Appointment.objects.get(lead=booked_week["web1"])
    rep = user_client("rep1")
    url = f"/portal/leads/{appointment.lead_id}/appointments/{appointment.pk}/attendance/"
    with time_machine.travel(appointment.starts_at - timedelta(hours=1), tick=False):
        early = rep.post(url, {"attendance": "no_show"})
    assert early.status_code == 422 and Appointment.objects.get(pk=appointment.pk).attendance == ""
    with time_machine.travel(appointment.starts_at + timedelta(hours=2), tick=False):
        page = rep.get(f"/portal/leads/{appointment.lead_id}/")
        assert b'value="no_show"' in page.content
        marked = rep.post(url, {"attendance": "no_show"})
        assert marked.status_code == 302
        assert rep.post(url, {"attendance": "maybe"}).status_code == 422
        attendance = reports.booking_report(WEEK).attendance
    assert Appointment.objects.get(pk=appointment.pk).attendance == "no_show"
    assert (attendance.past, attendance.marked, attendance.no_shows, attendance.no_show_rate) == (1, 1, 1, 1.0)


def test_roi_counts_the_extra_bookings_against_the_baseline(booked_week):
    september = reports.Period.dates(date(2026, 9, 1), date(2026, 9, 7))
    for n in range(4):
        lead = make_lead(f"B{n}", at(2, 9 + n, month=9), channel="form", source="website")
        if n == 0:
            book(lead, after_hours=24)
    result = reports.roi(
        baseline=september,
        current=WEEK,
        close_rate=Decimal("20"),
        deal_value=Decimal("5000"),
        monthly_cost=Decimal("0"),
    )
    assert (result.booked_before.rate, result.booked_now.booked) == (0.25, 2)
    assert result.extra_bookings == pytest.approx((2 / 3 - 0.25) * 3)  # 1.25 more booked leads
    assert result.booking_value == Decimal("5357.14")  # 1.25 x 20% x 5000 x 30 / 7
    assert "booked now − 25.0% before) × 3 leads = 1.2 more booked" in result.booking_formula


def test_the_booking_report_page_and_its_csv(booked_week):
    manager = user_client("manager")
    page = manager.get("/portal/reports/booking/?from=2026-10-01&to=2026-10-07")
    assert page.status_code == 200 and b"Capture to booked" in page.content and b"No-shows" in page.content
    csv = manager.get("/portal/reports/booking/?from=2026-10-01&to=2026-10-07&format=csv").content.decode()
    assert "google-ads,1,1,1.0" in csv
