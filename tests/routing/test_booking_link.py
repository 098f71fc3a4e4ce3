"""The self-scheduling link: a public page of open times on the lead's clock; it books, moves and cancels under the
dial; an altered link or one replayed after it expired is refused."""

import html
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from leads.models import Appointment, Lead
from routing.booking.commit import booking_commit
from routing.booking.offers import link_for, offer_create
from tests.conftest import policy_set
from tests.routing.booking_setup import booking_team, reps_of

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2030, 1, 7)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CHICAGO)


@pytest.fixture
def link(demo):
    policy_set("booking", mode="auto")
    estimate = booking_team(2)
    lead = Lead.objects.create(name="Dana", phone="+15128670101", timezone="America/Chicago")
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        offer = offer_create(lead, estimate, [], language="en")
        url = link_for(offer).removeprefix("http://localhost:8000")
    return lead, estimate, url


def test_the_page_shows_open_times_on_the_leads_clock_and_books_one(
    link, sms_outbox, django_capture_on_commit_callbacks
):
    lead, _, url = link
    client = Client(enforce_csrf_checks=False)
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        page = client.get(url)
        assert page.status_code == 200
        shown = text(page)
        assert "Times are on your clock (America/Chicago)" in shown and ">10:00 AM<" in shown and "Today" in shown
        with django_capture_on_commit_callbacks(execute=True):
            booked = client.post(url, {"do": "book", "start": at(MONDAY, 11).isoformat()})
    assert booked.status_code == 200 and "You're booked" in text(booked)
    assert Appointment.objects.get(lead=lead).starts_at == at(MONDAY, 11)
    assert sms_outbox[-1]["body"].startswith("You're booked: Mon Jan 7 at 11:00 AM with Est")


def test_a_taken_time_on_the_page_shows_the_times_open_now(link):
    lead, estimate, url = link
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        for rep in reps_of(estimate):
            other = Lead.objects.create(name=f"Other {rep.pk}", timezone="UTC")
            booking_commit(lead_id=other.pk, booking_type_id=estimate.pk, start=at(MONDAY, 11), source="link")
        taken = Client().post(url, {"do": "book", "start": at(MONDAY, 11).isoformat()})
    assert taken.status_code == 409 and "that time was just taken" in text(taken)
    assert not Appointment.objects.filter(lead=lead).exists()


def test_the_link_moves_and_cancels_the_booking(link):
    lead, _, url = link
    client = Client()
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        client.post(url, {"do": "book", "start": at(MONDAY, 11).isoformat()})
        moved = client.post(url, {"do": "book", "start": at(MONDAY, 14).isoformat()})
        assert "You're booked" in text(moved)
        appointment = Appointment.objects.get(lead=lead)
        assert appointment.starts_at == at(MONDAY, 14) and appointment.sequence == 1
        client.post(url, {"do": "cancel"})
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_in_draft_the_page_says_requested_and_nothing_is_booked_yet(link):
    lead, _, url = link
    policy_set("booking", mode="draft")
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        page = Client().post(url, {"do": "book", "start": at(MONDAY, 11).isoformat()})
    assert "Requested: we'll confirm shortly" in text(page)
    assert not Appointment.objects.filter(lead=lead).exists()


def test_a_link_replayed_after_it_expired_is_refused(link):
    lead, _, url = link
    with time_machine.travel(at(MONDAY, 7, 55) + timedelta(days=7, minutes=1), tick=False):
        assert Client().get(url).status_code == 410
        refused = Client().post(url, {"do": "book", "start": at(MONDAY + timedelta(days=8), 11).isoformat()})
    assert refused.status_code == 410 and "This link has expired" in text(refused)
    assert not Appointment.objects.filter(lead=lead).exists()


@pytest.mark.parametrize("change", ["offer", "expiry", "cut"])
def test_an_altered_or_cut_link_is_refused(link, change):
    import base64
    import json

    _, _, url = link
    token = url.strip("/").split("/")[-1]
    payload, stamp, signature = token.split(":")
    if change == "cut":
        forged = token[:-4]
    else:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data["o" if change == "offer" else "e"] += 1 if change == "offer" else 10**6
        forged_payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
        forged = f"{forged_payload}:{stamp}:{signature}"
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        page = Client().get(f"/book/{forged}/")
    assert page.status_code == 404 and "This link doesn't work" in text(page)


def test_a_time_that_cannot_be_read_is_a_400_naming_it(link):
    _, _, url = link
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        page = Client().post(url, {"do": "book", "start": "tuesday-ish"})
    assert page.status_code == 400 and "That time could not be read" in text(page)


def test_the_same_pick_posted_twice_makes_one_action_and_one_meeting(link, sms_outbox):
    from approvals.models import Action

    lead, _, url = link
    client = Client()
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        first = client.post(url, {"do": "book", "start": at(MONDAY, 11).isoformat()})
        again = client.post(url, {"do": "book", "start": at(MONDAY, 11).isoformat()})
    assert "You're booked" in text(first) and "You're booked" in text(again)
    assert Action.objects.filter(lead=lead, workflow="booking").count() == 1
    assert Appointment.objects.filter(lead=lead).count() == 1


def test_an_opted_out_lead_gets_a_plain_message_and_nothing_is_booked_or_requested(link):
    from approvals.models import Action
    from leads.services.consent import Evidence, consent_opt_out

    lead, _, url = link
    consent_opt_out(channel="sms", how="person", lead=lead, evidence=Evidence(words="stop"))
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        page = Client().post(url, {"do": "book", "start": at(MONDAY, 11).isoformat()})
    assert page.status_code == 403 and "You asked us not to contact you" in text(page)
    assert "Requested" not in text(page) and "You're booked" not in text(page)
    assert not Appointment.objects.filter(lead=lead).exists()
    assert not Action.objects.filter(lead=lead, workflow="booking").exists()


def test_a_start_off_the_grid_posted_to_the_page_books_nothing(link):
    lead, _, url = link
    with time_machine.travel(at(MONDAY, 7, 55), tick=False):
        page = Client().post(url, {"do": "book", "start": at(MONDAY, 15, 7).isoformat()})
        late = Client().post(url, {"do": "book", "start": (at(MONDAY, 15) + timedelta(seconds=1)).isoformat()})
    assert page.status_code == 409 and late.status_code == 409
    assert not Appointment.objects.filter(lead=lead).exists()
