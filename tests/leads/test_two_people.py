"""Two people, one phone (or one email): each keeps a lead of their own, linked by what they share, answered by
name on their own channel; the same person on a known address still attaches to their lead."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from approvals.models import Action
from leads.identity import event_match, names_agree
from leads.models import InboundEvent, Lead
from tests.conftest import user

OFFICE = "+15128670700"
FORM_URL = "/capture/form/website-quote/"


@pytest.fixture
def form(django_capture_on_commit_callbacks):
    """Post the demo web form as a browser would, and run the pipeline it queues (django-q2's task, inline)."""
    client = Client(REMOTE_ADDR="203.0.113.40")

    def _post(**data):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(FORM_URL, {"postal_code": "78701", **data})
        assert response.status_code == 202, response.content
        return Lead.objects.get(pk=response.json()["lead"])

    return _post


@pytest.fixture
def manager(client):
    client.force_login(user("manager"))
    return client


@pytest.mark.django_db
def test_alex_then_blake_from_one_office_line_are_two_leads_each_answered_by_name(demo, form, manager):
    alex = form(
        name="Alex Rivera", phone="(512) 867-0700", email="alex@rivera-roofing.com",
        message="Re-roof our office, budget about $30k, soon please",
    )  # fmt: skip
    blake = form(
        name="Blake Chen", phone="512.867.0700", email="blake.chen@gmail.com",
        message="Gutter repair at my house, budget $800, this month",
    )  # fmt: skip
    assert alex.pk != blake.pk and Lead.objects.count() == 2
    assert (alex.phone, alex.email) == (OFFICE, "alex@rivera-roofing.com")
    # The number stays Alex's; Blake is reached on his own address.
    assert (blake.name, blake.phone, blake.email) == ("Blake Chen", "", "blake.chen@gmail.com")
    assert (blake.linked_to, blake.linked_by) == (alex, "phone")
    assert InboundEvent.objects.get(lead=blake).phone == "512.867.0700", "what Blake typed is kept"

    to_alex = Action.objects.get(lead=alex, workflow="first_response")
    to_blake = Action.objects.get(lead=blake, workflow="first_response")
    assert (to_alex.kind, to_alex.payload["to"]) == ("send_sms", OFFICE) and "Hi Alex" in to_alex.body
    assert (to_blake.kind, to_blake.payload["to"]) == ("send_email", "blake.chen@gmail.com")
    assert "Hi Blake" in to_blake.body and "Alex" not in to_blake.body

    alex_page = manager.get(f"/portal/leads/{alex.pk}/").content.decode()
    blake_page = manager.get(f"/portal/leads/{blake.pk}/").content.decode()
    assert f'Same phone ({OFFICE}) as <a href="/portal/leads/{blake.pk}/">Blake Chen</a>' in alex_page
    assert f'Same phone ({OFFICE}) as <a href="/portal/leads/{alex.pk}/">Alex Rivera</a>' in blake_page
    assert f"lead {alex.pk} holds the same phone, but this is another person" in blake_page


@pytest.mark.django_db
def test_what_comes_next_from_each_goes_to_the_right_lead(demo, form, capture):
    alex = form(name="Alex Rivera", phone=OFFICE, email="alex@rivera-roofing.com", message="Re-roof, $30k")
    blake = form(name="Blake Chen", phone=OFFICE, email="blake.chen@gmail.com", message="Gutters, $800")
    # Blake's next form (same office line, his email) is his; a text or a call from the line is the number's.
    assert form(name="Blake", phone=OFFICE, email="Blake.Chen@gmail.com", message="Also a downspout") == blake
    by_sms = capture(channel="sms", source="twilio-sms", phone=OFFICE, message="Is Tuesday ok?").json()
    assert by_sms["lead"] == alex.pk
    by_mail = capture(channel="email", source="mail", email="blake.chen@gmail.com", name="Blake Chen").json()
    assert by_mail["lead"] == blake.pk
    assert Lead.objects.count() == 2
    assert Lead.objects.get(pk=alex.pk).email == "alex@rivera-roofing.com", "nothing of Blake's lands on Alex"


@pytest.mark.django_db
def test_same_email_different_phone_and_name_is_another_person_answered_by_text(demo, form, manager):
    alex = form(name="Alex Rivera", phone="512-867-0710", email="office@rivera-roofing.com", message="Roof, $30k")
    blake = form(name="Blake Chen", phone="512-867-0711", email="office@rivera-roofing.com", message="Gutters, $800")
    assert alex.pk != blake.pk
    assert (blake.phone, blake.email, blake.linked_to, blake.linked_by) == ("+15128670711", "", alex, "email")
    to_blake = Action.objects.get(lead=blake)
    assert (to_blake.kind, to_blake.payload["to"]) == ("send_sms", "+15128670711") and "Hi Blake" in to_blake.body
    page = manager.get(f"/portal/leads/{alex.pk}/").content.decode()
    assert f'Same email (office@rivera-roofing.com) as <a href="/portal/leads/{blake.pk}/">Blake Chen</a>' in page


@pytest.mark.django_db
def test_a_phone_only_lead_then_another_name_with_an_email_is_not_filled_into_it(demo, form):
    alex = form(name="Alex Rivera", phone=OFFICE, message="Re-roof, $30k")
    blake = form(name="Blake Chen", phone=OFFICE, email="blake.chen@gmail.com", message="Gutters, $800")
    assert blake.pk != alex.pk and Lead.objects.get(pk=alex.pk).email == ""
    assert (blake.email, blake.linked_to) == ("blake.chen@gmail.com", alex)


@pytest.mark.django_db
def test_blake_known_by_email_then_giving_the_office_line_stays_blake_linked_to_alex(demo, form, capture):
    alex = form(name="Alex Rivera", phone=OFFICE, email="alex@rivera-roofing.com", message="Re-roof, $30k")
    blake = Lead.objects.get(
        pk=capture(channel="email", email="blake.chen@gmail.com", name="Blake Chen").json()["lead"]
    )
    again = form(name="Blake Chen", phone=OFFICE, email="blake.chen@gmail.com", message="Gutters, $800")
    assert again == blake and Lead.objects.count() == 2
    blake.refresh_from_db()
    assert (blake.phone, blake.linked_to, blake.linked_by) == ("", alex, "phone")


@pytest.mark.django_db
def test_the_same_person_still_attaches(demo, form, capture):
    dana = form(name="Dana Whitfield", phone="512-867-0720", message="Roof, $12k")
    # Same phone and a first email: filled in. Same phone and a second address under the same name: the same
    # person, the first address kept. A text with no name: the number's lead.
    assert form(name="Dana", phone="512-867-0720", email="dana@example.com", message="My email") == dana
    assert form(name="dana whitfield", phone="512-867-0720", email="dana@work.example", message="Work") == dana
    assert capture(channel="sms", phone="+15128670720", message="Thanks").json()["lead"] == dana.pk
    # Same email, no phone yet: the phone is filled in.
    kim = Lead.objects.get(pk=capture(channel="email", email="kim@example.com", name="Kim Lee").json()["lead"])
    assert form(name="Kim", phone="512-867-0721", email="kim@example.com", message="Call me") == kim
    dana.refresh_from_db()
    kim.refresh_from_db()
    assert (dana.email, kim.phone, Lead.objects.count()) == ("dana@example.com", "+15128670721", 2)
    assert dana.linked_to is None and kim.linked_to is None


@pytest.mark.django_db
def test_keeping_two_people_apart_costs_no_query_more_than_a_new_lead(demo, api):
    def post(**body):
        return api.post("/api/v1/events/", {"channel": "form", "source": "web", **body}, format="json")

    post(name="Alex Rivera", phone=OFFICE, email="alex@rivera-roofing.com")
    with CaptureQueriesContext(connection) as new_person:
        post(name="Casey Moss", phone="+15128670730", email="casey@example.com")
    with CaptureQueriesContext(connection) as second_person:
        post(name="Blake Chen", phone=OFFICE, email="blake.chen@gmail.com")
    assert Lead.objects.count() == 3
    assert len(second_person) <= len(new_person)


# The rules themselves, pure.


def _lead(phone="", email="", name=""):
    return SimpleNamespace(phone=phone, email=email, name=name)


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("Dana", "dana Whitfield", True),
        ("Dr. Dána Whitfield", "Dana W.", True),
        ("J. Smith", "John Smith", True),
        ("Alex Rivera", "Blake Chen", False),
        ("John Smith", "Jane Smith", False),
        ("Dana Whitfield", "Dana Moss", False),
        ("", "Blake", None),
        ("Mr.", "Blake", None),
    ],
)
def test_names_agree(a, b, agree):
    assert names_agree(a, b) is agree


def test_event_match_cases():
    alex = _lead(OFFICE, "alex@x.com", "Alex")
    match = event_match([alex], phone=OFFICE, email="blake@y.com", name="Blake")
    assert (match.lead, match.phone, match.email, match.linked_to, match.linked_by) == (
        None,
        "",
        "blake@y.com",
        alex,
        "phone",
    )
    assert event_match([alex], phone=OFFICE, email="", name="Blake").lead is alex, "a text from the line"
    assert event_match([alex], phone=OFFICE, email="a2@x.com", name="").lead is None, "an unknown second address"
    carol = _lead("+15128670740", "office@x.com", "Carol")
    both_taken = event_match([alex, carol], phone=OFFICE, email="office@x.com", name="Blake")
    assert (both_taken.lead, both_taken.email, both_taken.linked_to) == (alex, "", carol), "kept visible, linked"
