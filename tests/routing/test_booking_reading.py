"""How a reply reads about a time: what names a pick, and what only looks like one (a greeting, an ordinal in a
sentence, "tarde", a negation, a weekday abbreviation in a street name, a question about cancelling)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from routing.booking.reading import reply_read

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2030, 1, 7, 7, 55, tzinfo=CHICAGO)  # a Monday
TUESDAY, THURSDAY = date(2030, 1, 8), date(2030, 1, 10)


def read(text: str, language: str = "en"):
    return reply_read(text, now=NOW, language=language)


@pytest.mark.parametrize(
    "text, language",
    [
        ("Good morning! How much for a new roof?", "en"),
        ("First time customer here", "en"),
        ("One second, checking with my wife", "en"),
        ("I live on the 2nd floor", "en"),
        ("Last year you fixed my sink", "en"),
        ("Perdón por contestar tarde, cuánto cuesta?", "es"),
        ("It's on Sun Valley Rd", "en"),
        ("I sat down", "en"),
        ("What's your cancellation policy?", "en"),
        ("Is there a cancellation fee?", "en"),
        ("Thanks, see you then!\n\n> You're booked: Tue Jan 8 at 3:00 PM.\n> To move or cancel, reply here", "en"),
        ("CANCEL", "en"),
    ],
)
def test_replies_about_something_else_name_no_time(text, language):
    reading = read(text, language)
    assert reading.intent == "" and not reading.names_a_time


@pytest.mark.parametrize(
    "text", ["Good morning! How much for a new roof?", "Perdón por contestar tarde, cuánto cuesta?", "Is there a fee?"]
)
def test_a_question_about_something_else_is_marked_as_asking(text):
    assert read(text).asks


def test_a_part_of_the_day_alone_is_too_weak_to_act_on():
    reading = read("This morning I saw your ad")
    assert reading.part == "morning" and reading.unsure


@pytest.mark.parametrize("text, language", [("Hoy no puedo", "es"), ("Can't do tomorrow morning", "en")])
def test_a_time_that_does_not_work_is_declined_not_picked(text, language):
    reading = read(text, language)
    assert reading.intent == "decline" and not reading.names_a_time


@pytest.mark.parametrize(
    "text, day, at",
    [
        ("April 1st at 9", date(2030, 4, 1), time(9)),
        ("March 3rd at 2pm", date(2030, 3, 3), time(14)),
        ("the 3rd of March at 2pm", date(2030, 3, 3), time(14)),
    ],
)
def test_an_ordinal_beside_a_month_is_a_day_not_an_offered_time(text, day, at):
    reading = read(text)
    assert (reading.intent, reading.index, reading.day, reading.at) == ("pick", None, day, at)


@pytest.mark.parametrize(
    "text, language, day, at",
    [
        ("I can't make it Tuesday, can we do Thursday at 3?", "en", THURSDAY, time(15)),
        ("no puedo ir el martes, mejor el jueves a las 4", "es", THURSDAY, time(16)),
    ],
)
def test_a_time_declined_with_another_named_is_a_move_there(text, language, day, at):
    reading = read(text, language)
    assert (reading.intent, reading.day, reading.at) == ("move", day, at) and not reading.unsure


@pytest.mark.parametrize(
    "text, language, index, day, at, part",
    [
        ("Tuesday at 3 works", "en", None, TUESDAY, time(15), ""),
        ("the second one", "en", 1, None, None, ""),
        ("2", "en", 1, None, None, ""),
        ("option 3", "en", 2, None, None, ""),
        ("tomorrow morning?", "en", None, TUESDAY, None, "morning"),
        ("el martes a las 3", "es", None, TUESDAY, time(15), ""),
        ("la segunda", "es", 1, None, None, ""),
        ("Sat at 10", "en", None, date(2030, 1, 12), time(10), ""),
        ("next sun", "en", None, date(2030, 1, 13), None, ""),
        ("el jueves por la tarde", "es", None, THURSDAY, None, "afternoon"),
    ],
)
def test_picks_still_read(text, language, index, day, at, part):
    reading = read(text, language)
    assert reading.intent == "pick" and not reading.unsure
    assert (reading.index, reading.day, reading.at, reading.part) == (index, day, at, part)


def test_a_pick_that_also_asks_something_is_unsure():
    reading = read("Tuesday at 3 works, how much is it?")
    assert reading.day == TUESDAY and reading.asks and reading.unsure


@pytest.mark.parametrize(
    "text, language",
    [("please cancel my appointment", "en"), ("I can't make it", "en"), ("cancela la cita por favor", "es")],
)
def test_a_cancel_names_its_object(text, language):
    assert read(text, language).intent == "cancel"


@pytest.mark.parametrize("text", ["Can I cancel my appointment?", "How do I cancel it?"])
def test_a_question_about_cancelling_does_not_cancel(text):
    assert read(text).intent != "cancel"
