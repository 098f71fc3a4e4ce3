"""Facebook Lead Ads and Google Ads lead forms: signed deliveries through the webhook, the task, the lead they make."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.test import Client

from approvals.models import Action
from approvals.selectors import action_queue
from audit import reports
from integrations.models import InboundWebhook, LeadSource
from leads.models import InboundEvent, Lead
from leads.selectors import lead_timeline
from tests.conftest import user
from tests.fakes.http_server import LocalJsonServer

pytestmark = pytest.mark.django_db
APP_SECRET = "fb-app-secret"
PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str):
    return json.loads((PAYLOADS / name).read_text())


# The Graph API's Lead nodes the fake serves, by leadgen id (tests/integrations/payloads/facebook/).
GRAPH_LEADS = {lead["id"]: lead for lead in map(payload, sorted((PAYLOADS / "facebook").glob("*.json")))}


FORM_LOCALES = {"8": "en_GB", "9": "de_DE"}


@pytest.fixture
def graph(settings):
    """The Graph API's lead endpoint: GET /<leadgen_id>?access_token=… answers the form's field_data."""
    answers = {
        "4471": [
            {"name": "full_name", "values": ["Rosa Diaz"]},
            {"name": "email", "values": ["rosa@example.com"]},
            {"name": "phone_number", "values": ["+15128670500"]},
            {"name": "zip_code", "values": ["30301"]},
            {"name": "what_do_you_need", "values": ["Full roof replacement"]},
        ],
        "4473": [
            {"name": "full_name", "values": ["Sam Hart"]},
            {"name": "email", "values": ["sam.hart@example.com"]},
            {"name": "phone_number", "values": ["020 7946 0958"]},
        ],
    }

    def respond(method, path, headers, body):
        leadgen_id, _, query = path.lstrip("/").partition("?")
        if "access_token=page-token" not in query:
            return 400, {"error": {"message": "Invalid OAuth access token.", "code": 190}}
        if "fields=locale" in query:  # a lead form: GET /<form_id>?fields=locale
            return 200, {"id": leadgen_id, "locale": FORM_LOCALES.get(leadgen_id, "en_US")}
        if leadgen_id in GRAPH_LEADS:
            return 200, GRAPH_LEADS[leadgen_id]
        if leadgen_id not in answers:
            return 404, {"error": {"message": "Unsupported get request.", "code": 100}}
        return 200, {"id": leadgen_id, "created_time": "2026-11-24T10:00:00+0000", "field_data": answers[leadgen_id]}

    with LocalJsonServer(respond) as server:
        settings.FACEBOOK_GRAPH_URL = server.url
        yield server


@pytest.fixture
def facebook(demo):
    return LeadSource.objects.create(
        slug="facebook",
        name="Facebook",
        kind="facebook",
        secret=APP_SECRET,
        verify_token="my-verify-token",
        access_token="page-token",
    )


def fb_body(*leadgen_ids, form_id: str = "7") -> bytes:
    changes = [
        {"field": "leadgen", "value": {"leadgen_id": i, "page_id": "99", "form_id": form_id}} for i in leadgen_ids
    ]
    return json.dumps({"object": "page", "entry": [{"id": "99", "time": 1764000000, "changes": changes}]}).encode()


def fb_post(body: bytes, secret: str = APP_SECRET):
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return Client().post(
        "/integrations/webhooks/facebook/",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature},
    )


def test_facebook_verify_token_handshake(facebook):
    url = "/integrations/webhooks/facebook/"
    ok = Client().get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "my-verify-token", "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = Client().get(url, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403


def test_a_signed_facebook_lead_is_fetched_from_the_graph_api_and_captured(
    facebook, graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = fb_post(fb_body("4471"))
    assert response.status_code == 200 and response.json() == {"stored": 1, "duplicates": 0}
    lead = Lead.objects.get(email="rosa@example.com")
    assert lead.name == "Rosa Diaz" and lead.phone == "+15128670500" and lead.postal_code == "30301"
    event = lead.events.get()
    assert event.channel == "ad" and event.source == "facebook" and event.external_id == "4471"
    assert event.message == "What do you need: Full roof replacement"
    assert graph.calls[0][1].startswith("/4471?")


def fb_capture(leadgen_id: str, django_capture_on_commit_callbacks, form_id: str = "7") -> InboundEvent:
    """A signed leadgen webhook through the endpoint, then the queued task: the event it captured."""
    with django_capture_on_commit_callbacks(execute=True):
        response = fb_post(fb_body(leadgen_id, form_id=form_id))
    assert response.json() == {"stored": 1, "duplicates": 0}
    row = InboundWebhook.objects.get(external_id=leadgen_id)
    assert row.status == "processed", row.error
    return row.event


def test_a_facebook_form_asking_first_and_last_name_gives_a_named_lead_with_every_answer(
    facebook, graph, django_capture_on_commit_callbacks
):
    event = fb_capture("5501", django_capture_on_commit_callbacks)
    lead = event.lead
    assert (lead.name, lead.email, lead.phone) == ("Ana Lima", "ana.lima@example.com", "+15128670503")
    assert (lead.postal_code, lead.country, event.country) == ("78704", "US", "US")
    # Every other standard field and custom question, in the form's order, every answer of a multi-answer one.
    assert event.message.splitlines() == [
        "Work email: ana@limaroofing.example",
        "Street address: 1200 Barton Springs Rd",
        "City: Austin",
        "State: TX",
        "Which services do you need?: Roof repair, Gutters, Skylights",
        "When should we call?: Weekday evenings",
    ]
    answers = {a["key"]: a for a in event.payload["answers"]}
    assert answers["which_services_do_you_need?"] == {
        "key": "which_services_do_you_need?",
        "label": "Which services do you need?",
        "values": ["Roof repair", "Gutters", "Skylights"],
    }
    assert "first_name" not in answers and "email" not in answers
    # A birth date is the business's to keep, not a model's or a draft's to read.
    assert answers["date_of_birth"] == {
        "key": "date_of_birth",
        "label": "Date of birth",
        "values": ["04/12/1985"],
        "sensitive": True,
    }
    assert "1985" not in event.message
    assert event.payload["field_data"] == GRAPH_LEADS["5501"]["field_data"]
    entry = next(e for e in lead_timeline(lead=lead) if e.kind == "event")
    assert "Which services do you need?: Roof repair, Gutters, Skylights" in entry.body


def test_a_facebook_b2b_form_with_work_contacts_only_is_reached_at_work_in_its_country(
    facebook, graph, django_capture_on_commit_callbacks
):
    event = fb_capture("5502", django_capture_on_commit_callbacks)
    lead = event.lead
    assert (lead.name, lead.email) == ("Oliver Hughes", "o.hughes@hughesbuild.example")
    # "United Kingdom" is GB, and the number written the British way is read as a British number.
    assert (event.country, lead.country, lead.phone) == ("GB", "GB", "+442079460958")
    assert (lead.company, lead.postal_code) == ("Hughes Build Ltd", "SW1A 1AA")
    assert event.message.splitlines() == ["Job title: Operations Director", "How many sites do you manage?: 6-20"]


def test_a_facebook_lead_with_a_typed_phone_keeps_every_profile_answer_and_skips_blank_ones(
    facebook, graph, django_capture_on_commit_callbacks
):
    event = fb_capture("5503", django_capture_on_commit_callbacks)
    lead = event.lead
    assert (lead.name, lead.phone, lead.email, lead.country) == ("Marc Tremblay", "+16139962121", "", "CA")
    assert event.message.splitlines() == [
        "Province: ON",
        "Gender: male",
        "Marital status: married",
        "Relationship status: married",
        "Military status: veteran",
        "Preferred contact days: Monday, Friday",
    ]


def test_a_country_answer_that_names_no_iso_country_stays_readable_and_the_forms_locale_is_the_hint(
    facebook, graph, django_capture_on_commit_callbacks
):
    event = fb_capture("5504", django_capture_on_commit_callbacks, form_id="9")
    assert event.country == "DE", "the form's locale, de_DE"
    assert event.message.splitlines() == ["Country: Deutschland", "City: Köln"]


def test_facebook_replays_and_forgeries_store_nothing_new(facebook, graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        fb_post(fb_body("4471"))
        replay = fb_post(fb_body("4471"))
    assert replay.json() == {"stored": 0, "duplicates": 1}
    assert fb_post(fb_body("4472"), secret="not-the-app-secret").status_code == 403
    unsigned = Client().post("/integrations/webhooks/facebook/", data=fb_body("4473"), content_type="application/json")
    assert unsigned.status_code == 403
    assert InboundWebhook.objects.count() == 1 and InboundEvent.objects.count() == 1


def test_a_lead_the_graph_api_will_not_give_is_kept_as_failed_with_its_answer(
    facebook, graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        fb_post(fb_body("9999"))
    row = InboundWebhook.objects.get()
    assert row.status == "failed" and "Graph API answered 404" in row.error
    assert not Lead.objects.exists()


def test_malformed_facebook_bodies_are_refused_without_a_500(facebook):
    assert fb_post(b"not json").status_code == 400
    assert fb_post(json.dumps({"object": "user"}).encode()).status_code == 400
    assert fb_post(json.dumps({"object": "page", "entry": [{"changes": "x"}]}).encode()).status_code == 400
    assert not InboundWebhook.objects.exists()


@pytest.fixture
def google(demo):
    return LeadSource.objects.create(slug="google-ads", name="Google Ads", kind="google", secret="g-key-123")


def google_body(**overrides) -> dict:
    return {
        "lead_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789",
        "api_version": "1.0",
        "form_id": 40000000000,
        "campaign_id": 20000000000,
        "google_key": "g-key-123",
        "is_test": False,
        "user_column_data": [
            {"column_name": "Full Name", "string_value": "Sam Okafor", "column_id": "FULL_NAME"},
            {"column_name": "User Phone", "string_value": "+15128670501", "column_id": "PHONE_NUMBER"},
            {"column_name": "Postal Code", "string_value": "30301", "column_id": "POSTAL_CODE"},
            {"column_name": "Project type", "string_value": "Gutters", "column_id": "SERVICE"},
        ],
        **overrides,
    }


def test_a_google_ads_lead_is_captured_with_its_key(google, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/integrations/webhooks/google-ads/", google_body(), content_type="application/json")
    assert response.status_code == 200
    lead = Lead.objects.get(phone="+15128670501")
    assert lead.name == "Sam Okafor" and "Project type: Gutters" in lead.events.get().message


def test_google_wrong_keys_missing_ids_and_test_leads(google, django_capture_on_commit_callbacks):
    client = Client()
    url = "/integrations/webhooks/google-ads/"
    assert client.post(url, google_body(google_key="guess"), content_type="application/json").status_code == 403
    assert client.post(url, google_body(lead_id=""), content_type="application/json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        test = client.post(url, google_body(is_test=True), content_type="application/json")
    assert test.status_code == 200
    assert InboundWebhook.objects.get().status == "ignored" and not Lead.objects.exists()


def google_capture(body: dict, django_capture_on_commit_callbacks) -> InboundWebhook:
    """A Google lead form delivery through the endpoint, then the queued task: its stored row."""
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/integrations/webhooks/google-ads/", body, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"stored": 1, "duplicates": 0}
    return InboundWebhook.objects.get(external_id=body["lead_id"])


def test_a_google_form_with_split_names_and_every_standard_column_makes_a_full_lead(
    google, django_capture_on_commit_callbacks
):
    row = google_capture(payload("google/lead_split_name.json"), django_capture_on_commit_callbacks)
    assert row.status == "processed", row.error
    event, lead = row.event, row.event.lead
    assert (lead.name, lead.email, lead.phone) == ("Priya Raman", "priya.raman@example.com", "+15128670504")
    assert (lead.company, lead.postal_code, lead.country, event.country) == ("Raman Homes", "78701", "US", "US")
    assert event.message.splitlines() == [
        "Work Email: priya@ramanhomes.example",
        "Work Phone: +15128670505",
        "Job Title: Owner",
        "Street address: 500 E 7th St",
        "City: Austin",
        "Region: Texas",
        "Which service are you interested in?: Roof replacement",
        "When are you looking to make a purchase?: Within a month",
        "How old is your roof?: Over 20 years",
    ]
    assert event.payload["answers"][-1] == {
        "key": "QUESTION_1234567",
        "label": "How old is your roof?",
        "values": ["Over 20 years"],
    }
    assert event.payload["answers"][-2]["sensitive"] is True and "X1234567" not in event.message
    assert event.payload["gcl_id"] == "CjwKCAiA-gclid-0001"


def test_a_google_form_asking_only_work_contacts_makes_a_lead_and_names_unlabelled_columns(
    google, django_capture_on_commit_callbacks
):
    row = google_capture(payload("google/lead_work_only.json"), django_capture_on_commit_callbacks)
    assert row.status == "processed", row.error
    event, lead = row.event, row.event.lead
    assert (lead.name, lead.email, lead.phone) == ("Oliver Hughes", "o.hughes@hughesbuild.example", "+442079460958")
    assert (lead.company, event.country) == ("Hughes Build Ltd", "GB")
    # A column Google sent without its column_name is named from its id; a destination country is not the lead's.
    assert event.message.splitlines() == ["Company size: 51-200", "What is your destination country?: Spain"]


def test_a_google_lead_in_the_older_schema_without_column_ids_is_read_by_column_name(
    google, django_capture_on_commit_callbacks
):
    row = google_capture(payload("google/lead_by_column_name.json"), django_capture_on_commit_callbacks)
    assert row.status == "processed", row.error
    lead = row.event.lead
    assert (lead.name, lead.email, lead.phone, lead.postal_code) == (
        "Dana Whitfield",
        "dana.whitfield@example.com",
        "+15128670506",
        "30301",
    )
    assert row.event.message == ""


def test_a_google_test_lead_is_in_no_report_and_no_queue(google, django_capture_on_commit_callbacks):
    real = google_capture(payload("google/lead_split_name.json"), django_capture_on_commit_callbacks)
    test = google_capture(payload("google/test_lead.json"), django_capture_on_commit_callbacks)
    assert test.status == "ignored" and "test lead" in test.error and test.event is None
    assert not Lead.objects.filter(email="test@example.com").exists()
    assert InboundEvent.objects.count() == 1
    # The real lead is counted and waits in the queue; the test lead is neither.
    period = reports.Period.last_days(1)
    assert reports.funnel(period)[0].leads == 1
    assert reports.speed_to_lead(period).overall.leads == 1
    assert Action.objects.exists()
    assert {a.lead_id for a in Action.objects.all()} == {real.event.lead_id}
    assert {a.lead_id for a in action_queue(user=user("manager"))} <= {real.event.lead_id}


def test_a_facebook_phone_written_nationally_is_read_in_the_forms_locale(
    facebook, graph, django_capture_on_commit_callbacks
):
    """No country question, a .com email: the form's locale (en_GB, from the Graph API) says where the number is."""
    with django_capture_on_commit_callbacks(execute=True):
        fb_post(fb_body("4473", form_id="8"))
    lead = Lead.objects.get(email="sam.hart@example.com")
    assert (lead.phone, lead.contact_problems) == ("+442079460958", {})
    assert InboundEvent.objects.get(lead=lead).country == "GB"
