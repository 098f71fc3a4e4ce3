"""Booking in the conversation: times offered in the first answer, replies that pick, move or cancel, in English
and Spanish, under the autonomy dial; an unclear reply gets one question, then a person."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from approvals.models import Action
from approvals.services import action_approve
from leads.models import Appointment, Lead
from routing.booking.commit import booking_commit
from routing.models import BookingOffer
from tests.conftest import policy_set, user
from tests.routing.booking_setup import booking_team, reps_of

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2030, 1, 7)

pytestmark = pytest.mark.django_db


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CHICAGO)


@pytest.fixture
def estimate(demo):
    policy_set("first_response", mode="auto", min_confidence=0)
    policy_set("booking", mode="auto")
    return booking_team(3)


@pytest.fixture
def monday():
    with time_machine.travel(at(MONDAY, 7, 55), tick=True):
        yield


def first_contact(capture, message="Roof quote please, the shingles are leaking", phone="512 867 0101"):
    capture(name="Dana Diaz", phone=phone, postal_code="78701", message=message)
    lead = Lead.objects.get(phone="+1" + phone.replace(" ", ""))
    return lead


def reply(capture, lead, text):
    capture(channel="sms", source="twilio", phone=lead.phone, message=text)
    return Action.objects.filter(lead=lead, workflow="booking").order_by("-pk").first()


def test_the_first_answer_offers_three_open_times_and_a_link(estimate, capture, sms_outbox, monday):
    lead = first_contact(capture)
    body = sms_outbox[-1]["body"]
    assert "I can do Mon Jan 7 at 10:00 AM, Mon Jan 7 at 1:00 PM or Mon Jan 7 at 4:00 PM. Which works for you?" in body
    assert "/book/" in body
    offer = BookingOffer.objects.get(lead=lead)
    assert [datetime.fromisoformat(s).astimezone(CHICAGO).hour for s in offer.slots] == [10, 13, 16]


def test_a_spanish_lead_gets_the_times_in_spanish(estimate, capture, sms_outbox, monday):
    first_contact(capture, message="Hola, necesito un presupuesto para el techo de mi casa, tiene goteras")
    assert (
        "Puedo el lun 7 ene a las 10:00, el lun 7 ene a las 13:00 o el lun 7 ene a las 16:00. ¿Le viene bien alguna?"
        in sms_outbox[-1]["body"]
    )


def test_the_second_one_books_the_second_time_and_confirms(estimate, capture, sms_outbox, monday):
    lead = first_contact(capture)
    action = reply(capture, lead, "the second one")
    assert action.status == Action.Status.DONE and action.payload["booking"]["outcome"] == "booked"
    appointment = Appointment.objects.get(lead=lead)
    assert appointment.starts_at == at(MONDAY, 13) and appointment.host is not None
    assert sms_outbox[-1]["body"].startswith("You're booked: Mon Jan 7 at 1:00 PM with Est")
    assert BookingOffer.objects.get(lead=lead).status == BookingOffer.Status.BOOKED


def test_spanish_el_martes_a_las_3_books_tuesday_at_three(estimate, capture, sms_outbox, monday):
    lead = first_contact(capture, message="Hola, necesito un presupuesto para el techo de mi casa, tiene goteras")
    reply(capture, lead, "el martes a las 3 me va bien")
    assert Appointment.objects.get(lead=lead).starts_at == at(MONDAY.replace(day=8), 15)
    assert sms_outbox[-1]["body"].startswith("Listo: el mar 8 ene a las 15:00 con Est")


def test_in_draft_the_booking_waits_for_a_person_and_books_when_approved(
    estimate, capture, sms_outbox, monday, django_capture_on_commit_callbacks
):
    policy_set("booking", mode="draft")
    lead = first_contact(capture)
    action = reply(capture, lead, "Tuesday at 3 works")
    assert action.status == Action.Status.PENDING and not Appointment.objects.filter(lead=lead).exists()
    assert "Tue Jan 8 at 3:00 PM" in action.body
    with django_capture_on_commit_callbacks(execute=True):
        action_approve(action_id=action.pk, user=user("manager"))
    appointment = Appointment.objects.get(lead=lead)
    assert appointment.starts_at == at(MONDAY.replace(day=8), 15) and appointment.booked_by == user("manager")


def test_in_observe_no_times_are_offered_and_nothing_is_booked(estimate, capture, sms_outbox, monday):
    policy_set("booking", mode="observe")
    lead = first_contact(capture)
    assert "/book/" not in sms_outbox[-1]["body"] and not BookingOffer.objects.filter(lead=lead, status="open").exists()
    reply(capture, lead, "the second one")
    assert not Appointment.objects.filter(lead=lead).exists()


def test_a_gate_on_bookings_holds_one_for_a_manager(estimate, capture, monday):
    from approvals.models import Policy, PolicyGate

    gate = {"match": "all", "conditions": [{"field": "hours_ahead", "op": "lt", "value": 24}]}
    PolicyGate.objects.create(policy=Policy.objects.get(workflow="booking"), name="Same day", conditions=gate)
    lead = first_contact(capture)
    action = reply(capture, lead, "the first one")
    assert action.status == Action.Status.PENDING and "Same day" in action.escalation_reason


def test_an_unclear_reply_gets_one_question_then_goes_to_a_person(estimate, capture, sms_outbox, monday):
    lead = first_contact(capture)
    question = reply(capture, lead, "today works")
    assert question.status == Action.Status.DONE and "booking" not in question.payload
    assert sms_outbox[-1]["body"].startswith(
        "Just to be sure: Mon Jan 7 at 10:00 AM, Mon Jan 7 at 1:00 PM or Mon Jan 7 at 4:00 PM?"
    )
    before = Action.objects.filter(lead=lead, workflow="booking").count()
    reply(capture, lead, "yes today")
    assert Action.objects.filter(lead=lead, workflow="booking").count() == before  # nothing more sent
    assert BookingOffer.objects.filter(lead=lead, status="handed_over").exists()
    assert not Appointment.objects.filter(lead=lead).exists()


def test_tomorrow_morning_offers_tomorrow_mornings_open_times(estimate, capture, sms_outbox, monday):
    lead = first_contact(capture)
    reply(capture, lead, "tomorrow morning?")
    assert sms_outbox[-1]["body"].startswith("I can do Tue Jan 8 at 9:00 AM. Which works for you?")
    reply(capture, lead, "9 works")
    assert Appointment.objects.get(lead=lead).starts_at == at(MONDAY.replace(day=8), 9)


def test_a_reply_moves_and_cancels_the_booking(estimate, capture, sms_outbox, monday):
    lead = first_contact(capture)
    reply(capture, lead, "the first one")
    reply(capture, lead, "can we do Thursday instead?")
    assert sms_outbox[-1]["body"].startswith("I can do Thu Jan 10 at 9:00 AM, Thu Jan 10 at 12:00 PM or")
    reply(capture, lead, "the second one")
    appointment = Appointment.objects.get(lead=lead)
    assert appointment.starts_at == at(MONDAY.replace(day=10), 12) and appointment.sequence == 1
    assert sms_outbox[-1]["body"].startswith("Done, moved to Thu Jan 10 at 12:00 PM")
    reply(capture, lead, "please cancel my appointment")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert sms_outbox[-1]["body"].startswith("Your appointment on Thu Jan 10 at 12:00 PM is cancelled.")


def test_a_time_taken_meanwhile_gets_new_times_instead_of_a_confirmation(estimate, capture, sms_outbox, monday):
    lead = first_contact(capture)
    for i, _ in enumerate(reps_of(estimate)):
        other = Lead.objects.create(name=f"Other {i}", timezone="America/Chicago")
        booking_commit(lead_id=other.pk, booking_type_id=estimate.pk, start=at(MONDAY, 13), source="reply")
    action = reply(capture, lead, "the second one")
    assert action.payload["booking"]["outcome"] == "taken"
    assert sms_outbox[-1]["body"].startswith("Sorry, that time was just taken. I can do Mon Jan 7 at 10:00 AM,")
    assert not Appointment.objects.filter(lead=lead).exists()
    reply(capture, lead, "the first one")
    assert Appointment.objects.get(lead=lead).starts_at == at(MONDAY, 10)


@pytest.mark.parametrize(
    "text",
    [
        "Good morning! How much for a new roof?",
        "First time customer here",
        "One second, checking with my wife",
        "I live on the 2nd floor",
        "Last year you fixed my sink",
        "It's on Sun Valley Rd",
        "I sat down",
        "April 1st at 9",
    ],
)
def test_a_reply_about_something_else_books_nothing(estimate, capture, monday, text):
    lead = first_contact(capture)
    reply(capture, lead, text)
    assert not Appointment.objects.filter(lead=lead).exists()
    assert not Action.objects.filter(lead=lead, payload__booking__outcome="booked").exists()


def test_a_question_beside_a_time_waits_for_a_person_and_leaves_the_question_to_the_pipeline(estimate, capture, monday):
    from leads.models import InboundEvent
    from routing.booking.conversation import booking_reply

    lead = first_contact(capture)
    action = reply(capture, lead, "This morning I saw your ad. How much for a new roof?")
    assert action.status == Action.Status.PENDING and action.confidence < 0.7
    assert not Appointment.objects.filter(lead=lead).exists()
    event = InboundEvent.objects.filter(lead=lead).order_by("-pk").first()
    assert booking_reply(lead, event) is False  # not swallowed: the pipeline goes on to its own answer


def test_a_greeting_with_a_question_is_left_to_the_pipeline(estimate, capture, monday):
    from leads.models import InboundEvent
    from routing.booking.conversation import booking_reply

    lead = first_contact(capture)
    assert reply(capture, lead, "Good morning! How much for a new roof?") is None
    event = InboundEvent.objects.filter(lead=lead).order_by("-pk").first()
    assert booking_reply(lead, event) is False


@pytest.mark.parametrize("text", ["Hoy no puedo", "Can't do this afternoon"])
def test_a_time_that_does_not_work_books_nothing_and_goes_to_a_person(estimate, capture, monday, text):
    from audit.models import Decision

    lead = first_contact(capture)
    assert reply(capture, lead, text) is None
    assert not Appointment.objects.filter(lead=lead).exists()
    assert Decision.objects.filter(lead=lead, step="book", outcome="escalated").exists()


@pytest.mark.parametrize("text", ["What's your cancellation policy?", "Is there a cancellation fee?"])
def test_asking_about_cancelling_leaves_the_meeting_booked(estimate, capture, monday, text):
    lead = first_contact(capture)
    reply(capture, lead, "the first one")
    reply(capture, lead, text)
    assert Appointment.objects.get(lead=lead).status == Appointment.Status.BOOKED


def test_a_quoted_cancel_line_in_an_email_reply_does_nothing(estimate, capture, monday):
    lead = first_contact(capture)
    reply(capture, lead, "the first one")
    before = Action.objects.filter(lead=lead, workflow="booking").count()
    reply(capture, lead, "Thanks, see you then!\n\n> You're booked.\n> To move or cancel, reply here")
    assert Appointment.objects.get(lead=lead).status == Appointment.Status.BOOKED
    assert Action.objects.filter(lead=lead, workflow="booking").count() == before


@pytest.mark.parametrize(
    "text, hour",
    [("I can't make it Tuesday, can we do Thursday at 3?", 15), ("no puedo ir el martes, mejor el jueves a las 4", 16)],
)
def test_a_time_declined_with_another_named_moves_the_meeting(estimate, capture, monday, text, hour):
    lead = first_contact(capture)
    reply(capture, lead, "Tuesday at 10 works")
    reply(capture, lead, text)
    appointment = Appointment.objects.get(lead=lead)
    assert appointment.status == Appointment.Status.BOOKED and appointment.starts_at == at(MONDAY.replace(day=10), hour)


def test_a_lone_cancel_is_an_opt_out_not_a_cancelled_meeting(estimate, capture, monday):
    lead = first_contact(capture)
    reply(capture, lead, "the first one")
    reply(capture, lead, "CANCEL")
    lead.refresh_from_db()
    assert lead.opted_out
    assert not Action.objects.filter(lead=lead, payload__booking__op="cancel").exists()


def test_a_reply_and_a_page_pick_give_the_lead_one_meeting(estimate, capture, monday):
    from django.test import Client

    from routing.booking.offers import link_for

    lead = first_contact(capture)
    url = link_for(BookingOffer.objects.get(lead=lead)).removeprefix("http://localhost:8000")
    reply(capture, lead, "the first one")
    Client().post(url, {"do": "book", "start": at(MONDAY, 16).isoformat()})
    booked = Appointment.objects.filter(lead=lead, status=Appointment.Status.BOOKED)
    assert [a.starts_at for a in booked] == [at(MONDAY, 16)]


def test_a_rejected_first_answer_closes_its_offer(estimate, capture, monday):
    from approvals.services import action_reject

    policy_set("first_response", mode="draft")
    lead = first_contact(capture)
    first = Action.objects.get(lead=lead, workflow="first_response")
    assert first.status == Action.Status.PENDING and first.payload["offer"]
    action_reject(action_id=first.pk, user=user("manager"), reason="wrong tone")
    reply(capture, lead, "the first one")
    assert not Appointment.objects.filter(lead=lead).exists()
    assert BookingOffer.objects.get(lead=lead).status == BookingOffer.Status.CLOSED


def test_an_opt_out_closes_the_open_offer(estimate, capture, monday):
    lead = first_contact(capture)
    reply(capture, lead, "STOP")
    assert BookingOffer.objects.get(lead=lead).status == BookingOffer.Status.CLOSED
    lead.refresh_from_db()
    assert lead.opted_out


def test_a_reply_naming_a_time_off_the_grid_gets_the_nearest_open_times(estimate, capture, sms_outbox, monday):
    lead = first_contact(capture)
    reply(capture, lead, "Tuesday at 3:10")
    assert not Appointment.objects.filter(lead=lead).exists()
    assert sms_outbox[-1]["body"].startswith(
        "I can do Tue Jan 8 at 2:30 PM, Tue Jan 8 at 3:00 PM or Tue Jan 8 at 3:30 PM"
    )


def test_a_confirmation_over_the_sms_limit_after_the_booking_waits_for_a_shorter_text(
    estimate, capture, sms_outbox, monday, settings
):
    from approvals.models import SmsSettings

    lead = first_contact(capture)
    sent = len(sms_outbox)
    # The confirmation carries the full link (the proposal only "…"): a long address makes it cost 3 segments.
    settings.PUBLIC_BASE_URL = "https://" + "book" * 40 + ".example.com"
    row = SmsSettings.load()
    row.max_segments = 2
    row.save()
    action = reply(capture, lead, "the second one")
    assert action.status == Action.Status.PENDING and action.escalation_reason.startswith("too long")
    assert action.payload["booking"]["outcome"] == "booked" and action.body.startswith("You're booked")
    assert Appointment.objects.filter(lead=lead).count() == 1  # booked once; a shorter text is approved later
    assert len(sms_outbox) == sent


def test_texts_name_the_date_itself_not_today_or_tomorrow():
    from routing.booking.offers import when_text

    start = at(MONDAY.replace(day=8), 15)
    assert when_text(start, CHICAGO, "en") == "Tue Jan 8 at 3:00 PM"
    assert when_text(start, CHICAGO, "es") == "el mar 8 ene a las 15:00"
    assert when_text(start, CHICAGO, "en", now=at(MONDAY, 9)) == "tomorrow at 3:00 PM"  # the page, drawn now
