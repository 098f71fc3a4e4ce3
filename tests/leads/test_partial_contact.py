"""Partial data never sinks a lead: one unusable contact field keeps the lead by the other, flagged for a manager
to fix; only an event with no usable way to reach the person is refused (API, form) or kept failed (webhooks)."""

import hashlib
import hmac
import json

import pytest
from django.contrib.admin import site
from django.forms.models import model_to_dict
from django.test import Client, RequestFactory

from approvals.models import Action
from integrations.models import InboundWebhook, LeadSource
from leads.models import InboundEvent, Lead
from leads.normalize import email_region, phone_regions
from tests.conftest import user
from tests.factories import LeadFactory
from tests.fakes.http_server import LocalJsonServer

pytestmark = pytest.mark.django_db

# The issue's number: a UK mobile written nationally, in Ofcom's drama range (07700 900000-900999), which is
# reserved and so never a valid number, whatever region it is read in.
DRAMA = "07700 900123"
# Enough for a first response (intent, budget, timeline), so the pipeline answers rather than asks.
ROOF_MESSAGE = "Need a quote to replace my roof, budget about $12k. Leaking after the storm!"


def test_the_issues_lead_is_captured_by_its_email_and_its_phone_flagged(demo, capture, sms_outbox):
    answer = capture(
        name="Priya Shah", email="priya@example.com", phone=DRAMA, postal_code="78701", message=ROOF_MESSAGE
    ).json()
    lead = Lead.objects.get(pk=answer["lead"])
    assert (lead.email, lead.phone) == ("priya@example.com", "")
    assert lead.contact_problems["phone"]["raw"] == DRAMA
    assert "not a valid phone number" in lead.contact_problems["phone"]["reason"]
    # The pipeline answered by the channel it has: email, to Priya.
    action = Action.objects.get(lead=lead, workflow="first_response")
    assert (action.kind, action.payload["to"]) == ("send_email", "priya@example.com")
    assert "Hi Priya" in action.body
    client = Client()
    client.force_login(user("manager"))
    page = client.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert f"phone not understood: {DRAMA}" in page


@pytest.mark.parametrize(
    ("fields", "phone"),
    [
        ({"email": "ian@example.co.uk"}, "+447911123456"),  # .co.uk -> GB
        ({"email": "ian@bbc.uk"}, "+447911123456"),  # .uk -> GB
        ({"email": "ian@gmail.com", "country": "GB"}, "+447911123456"),  # the event's country
        ({"email": "ian@gmail.com", "country": "UK"}, "+447911123456"),  # the word people write for GB
        ({"email": "ian@gmail.com", "phone": "+44 7911 123456"}, "+447911123456"),  # international: no guess
        ({"email": "jonas@example.de", "phone": "030 12345678"}, "+493012345678"),  # .de -> DE
        ({"email": "ana@example.com.mx", "phone": "55 1234 5678"}, "+525512345678"),  # .mx -> MX
    ],
)
def test_a_national_number_is_read_in_the_leads_country_before_the_default(demo, api, fields, phone):
    body = {"channel": "form", "source": "website", "phone": "07911 123456", **fields}
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 202, response.content
    lead = Lead.objects.get(pk=response.json()["lead"])
    assert (lead.phone, lead.contact_problems) == (phone, {})


def test_a_generic_tld_says_nothing_so_the_number_is_flagged_not_guessed(demo, api):
    assert email_region("ian@startup.io") == email_region("ian@example.com") == ""
    assert phone_regions(country="", email="ian@startup.io", default="US") == ("US",)
    assert phone_regions(country="DE", email="x@y.co.uk", default="US") == ("DE", "GB", "US")
    response = api.post(
        "/api/v1/events/", {"channel": "form", "source": "web", "email": "ian@startup.io", "phone": "07911 123456"}
    )
    lead = Lead.objects.get(pk=response.json()["lead"])
    assert (lead.email, lead.phone, lead.contact_problems["phone"]["raw"]) == ("ian@startup.io", "", "07911 123456")


def test_a_bad_email_with_a_good_phone_keeps_the_lead_by_phone(demo, api):
    body = {"channel": "form", "source": "web", "phone": "512-867-0310", "email": "dana@example,com"}
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 202
    lead = Lead.objects.get(pk=response.json()["lead"])
    assert (lead.phone, lead.email) == ("+15128670310", "")
    assert lead.contact_problems == {
        "email": {"raw": "dana@example,com", "reason": "'dana@example,com' is not an email address."}
    }
    assert InboundEvent.objects.get().email == "dana@example,com", "the event keeps what was sent"
    assert api.get(f"/api/v1/leads/{lead.pk}/").json()["contact_problems"] == lead.contact_problems


@pytest.mark.parametrize(
    ("phone", "email", "phone_error", "email_error"),
    [
        ("12345", "not-an-email", "not a valid phone number", "not an email address"),
        ("", "", "Give a phone number or an email address", "Give a phone number or an email address"),
        ("12345", "", "not a valid phone number", "Give a phone number or an email address"),
        ("", "dana@", "Give a phone number or an email address", "not an email address"),
        ("\u200b", "\u00a0", "Give a phone number or an email address", "Give a phone number or an email address"),
    ],
)
def test_no_usable_way_to_reach_the_person_is_400_naming_both_fields(demo, api, phone, email, phone_error, email_error):
    body = {"channel": "form", "source": "web", "name": "Dana", "phone": phone, "email": email}
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert phone_error in " ".join(errors["phone"]) and email_error in " ".join(errors["email"])
    assert not InboundEvent.objects.exists() and not Lead.objects.exists()


def test_the_web_form_keeps_the_lead_by_the_good_field_and_refuses_only_when_none_is_usable(demo):
    client = Client(REMOTE_ADDR="203.0.113.30")
    url = "/capture/form/website-quote/"
    kept = client.post(url, {"name": "Owen", "phone": DRAMA, "email": "owen@example.com", "message": "Gutters"})
    assert kept.status_code == 202
    assert Lead.objects.get().contact_problems["phone"]["raw"] == DRAMA
    refused = client.post(url, {"name": "Owen", "phone": DRAMA, "email": "owen(at)example.com"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "<strong>phone</strong>" in html and "<strong>email</strong>" in html
    as_json = client.post(url, {"name": "Owen", "phone": "", "email": ""}, content_type="application/json")
    assert as_json.status_code == 400 and set(as_json.json()) == {"phone", "email"}
    assert InboundEvent.objects.count() == 1


def test_a_later_event_with_a_usable_phone_fills_it_and_clears_the_flag(demo, api):
    post = lambda **b: api.post("/api/v1/events/", {"channel": "form", "source": "web", **b}, format="json")  # noqa: E731
    first = post(name="Kim", email="kim@example.com", phone=DRAMA).json()
    post(email="kim@example.com", phone="also not a phone")
    assert Lead.objects.get().contact_problems["phone"]["raw"] == "also not a phone", "the latest raw value is shown"
    again = post(email="kim@example.com", phone="+44 7911 123457").json()
    assert again["lead"] == first["lead"]
    lead = Lead.objects.get()
    assert (lead.phone, lead.contact_problems) == ("+447911123457", {})


# Webhooks: the flag, the same way, whichever door.


@pytest.fixture
def graph(settings):
    """Facebook's Graph API lead endpoint, answering the field_data of one lead with a national UK number."""
    field_data = [
        {"name": "full_name", "values": ["Hannah Price"]},
        {"name": "email", "values": ["hannah@example.com"]},
        {"name": "phone_number", "values": [DRAMA]},
        {"name": "what_do_you_need", "values": ["New fascias"]},
    ]

    def respond(method, path, headers, body):
        leadgen_id = path.lstrip("/").partition("?")[0]
        return 200, {"id": leadgen_id, "created_time": "2026-11-24T10:00:00+0000", "field_data": field_data}

    with LocalJsonServer(respond) as server:
        settings.FACEBOOK_GRAPH_URL = server.url
        yield server


def test_a_facebook_lead_with_a_national_uk_phone_exists_with_its_email_and_the_flag(
    demo, graph, django_capture_on_commit_callbacks
):
    LeadSource.objects.create(
        slug="facebook", name="Facebook", kind="facebook", secret="fb-secret", access_token="page-token"
    )
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {"id": "99", "time": 1764000000, "changes": [{"field": "leadgen", "value": {"leadgen_id": "5510"}}]}
            ],
        }
    ).encode()
    signature = "sha256=" + hmac.new(b"fb-secret", body, hashlib.sha256).hexdigest()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/integrations/webhooks/facebook/",
            body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature},
        )
    assert response.status_code == 200
    assert InboundWebhook.objects.get().status == "processed"
    lead = Lead.objects.get(email="hannah@example.com")
    assert lead.phone == "" and lead.contact_problems["phone"]["raw"] == DRAMA
    assert Action.objects.get(lead=lead).kind == "send_email", "answered (or asked) by the email it has"


@pytest.fixture
def google(demo):
    return LeadSource.objects.create(slug="google-ads", name="Google Ads", kind="google", secret="g-key-123")


def google_lead(lead_id: str, **columns) -> dict:
    """A Google Ads lead form webhook body as Google documents it (user_column_data with column ids)."""
    names = {"FULL_NAME": "Full Name", "EMAIL": "User Email", "PHONE_NUMBER": "User Phone"}
    return {
        "lead_id": lead_id,
        "api_version": "1.0",
        "form_id": 40000000000,
        "campaign_id": 20000000000,
        "google_key": "g-key-123",
        "is_test": False,
        "user_column_data": [
            {"column_name": names[column_id], "string_value": value, "column_id": column_id}
            for column_id, value in columns.items()
        ],
    }


def test_a_google_ads_lead_with_an_unreadable_phone_exists_with_its_email_and_the_flag(
    google, django_capture_on_commit_callbacks
):
    body = google_lead("G-1", FULL_NAME="Tom Reed", EMAIL="tom@example.com", PHONE_NUMBER="+1 555 0100")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/integrations/webhooks/google-ads/", body, content_type="application/json")
    assert response.status_code == 200
    lead = Lead.objects.get(email="tom@example.com")
    assert lead.contact_problems["phone"]["raw"] == "+1 555 0100"
    assert InboundWebhook.objects.get().status == "processed"


def test_a_google_ads_lead_with_no_usable_contact_is_kept_failed_naming_both_fields(
    google, django_capture_on_commit_callbacks
):
    body = google_lead("G-2", FULL_NAME="Tom Reed", EMAIL="tom at example", PHONE_NUMBER="0100")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/integrations/webhooks/google-ads/", body, content_type="application/json")
    row = InboundWebhook.objects.get()
    assert row.status == "failed"
    assert "'phone'" in row.error and "'email'" in row.error and "tom at example" in row.error
    assert not Lead.objects.exists()


# The manager's fix, on the lead page and in the admin.


@pytest.fixture
def flagged(demo, capture):
    """A lead the pipeline has already qualified and routed (its history has begun), with its phone flagged."""
    answer = capture(channel="ad", source="facebook", name="Priya", email="p@example.com", phone=DRAMA).json()
    return Lead.objects.get(pk=answer["lead"])


def test_a_manager_corrects_the_phone_with_history_and_the_flag_clears(client, flagged):
    client.force_login(user("manager"))
    response = client.post(f"/portal/leads/{flagged.pk}/contact/", {"phone": "+44 7911\u00a0123456 ", "email": ""})
    assert response.status_code == 302
    lead = Lead.objects.get(pk=flagged.pk)
    assert (lead.phone, lead.email, lead.contact_problems) == ("+447911123456", "p@example.com", {})
    record = lead.history.latest()
    assert record.history_user.username == "manager"
    assert "corrected by manager" in record.history_change_reason and DRAMA in record.history_change_reason
    page = client.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert f"phone not understood: {DRAMA}" not in page, "the flag is gone; the timeline keeps why"
    assert "<del>–</del> → <ins>+447911123456</ins>" in page, "the timeline shows the change"


def test_the_correction_is_validated_and_refused_to_reps(client, flagged):
    other = LeadFactory(phone="+447911123458")
    client.force_login(user("manager"))
    bad = client.post(f"/portal/leads/{flagged.pk}/contact/", {"phone": "07700 900124"})
    assert bad.status_code == 422 and "not a valid phone number" in bad.content.decode()
    taken = client.post(f"/portal/leads/{flagged.pk}/contact/", {"phone": "+44 7911 123458"})
    assert taken.status_code == 422 and f"phone of lead {other.pk}" in taken.content.decode()
    Lead.objects.filter(pk=flagged.pk).update(owner=user("rep1"))
    client.force_login(user("rep1"))
    refused = client.post(f"/portal/leads/{flagged.pk}/contact/", {"phone": "+44 7911 123456"})
    assert refused.status_code == 403
    assert Lead.objects.get(pk=flagged.pk).contact_problems["phone"]["raw"] == DRAMA
    assert "Correct phone or email" not in client.get(f"/portal/leads/{flagged.pk}/").content.decode()


def test_the_admin_shows_the_flag_filters_by_it_and_reads_a_typed_phone_as_capture_does(admin_client, flagged):
    LeadFactory(name="Nothing Wrong")
    listing = admin_client.get("/admin/leads/lead/?contact_problem=yes").content.decode()
    assert f"phone: {DRAMA}" in listing and "Nothing Wrong" not in listing
    page = admin_client.get(f"/admin/leads/lead/{flagged.pk}/change/").content.decode()
    assert f"phone not understood: {DRAMA}" in page
    # The admin's own form (as its change view builds it) reads a typed number as capture does.
    request = RequestFactory().get("/")
    request.user = user("manager")
    form_class = site._registry[Lead].get_form(request, flagged)
    data = {**model_to_dict(flagged), "country": "GB", "phone": "07911\u00a0123456", "email": " P@Example.com"}
    form = form_class(data={k: "" if v is None else v for k, v in data.items()}, instance=flagged)
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["phone"], form.cleaned_data["email"]) == ("+447911123456", "p@example.com")
