import hashlib
import hmac
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from integrations.models import InboundWebhook, LeadSource
from leads.models import InboundEvent, Lead
from tests.fakes.http_server import LocalJsonServer

pytestmark = pytest.mark.django_db
APP_SECRET = "fb-app-secret"


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
        ]
    }

    def respond(method, path, headers, body):
        leadgen_id, _, query = path.lstrip("/").partition("?")
        if "access_token=page-token" not in query:
            return 400, {"error": {"message": "Invalid OAuth access token.", "code": 190}}
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


def fb_body(*leadgen_ids) -> bytes:
    changes = [{"field": "leadgen", "value": {"leadgen_id": i, "page_id": "99", "form_id": "7"}} for i in leadgen_ids]
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
    assert "what do you need: Full roof replacement" in event.message
    assert graph.calls[0][1].startswith("/4471?")


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


@pytest.fixture
def marketplace(demo):
    return LeadSource.objects.create(
        slug="homeadvisor",
        name="HomeAdvisor",
        kind="generic",
        channel="marketplace",
        secret="shared-secret",
        field_map={
            "external_id": "$.leadId",
            "name": "$.customer.name",
            "email": "$.customer.contact.email",
            "phone": "$.customer.contact.phone",
            "message": "$.job.description",
            "postal_code": "$.job.zip",
        },
    )


def marketplace_lead(lead_id="HA-1"):
    return {
        "leadId": lead_id,
        "customer": {"name": "Tess Ng", "contact": {"email": "tess@example.com", "phone": "512-867-0502"}},
        "job": {"description": "Replace 20 squares of shingles", "zip": "30301"},
    }


def test_a_generic_source_maps_fields_by_jsonpath(marketplace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/integrations/webhooks/homeadvisor/",
            [marketplace_lead("HA-1"), marketplace_lead("HA-1")],
            content_type="application/json",
            headers={"X-Nightshift-Secret": "shared-secret"},
        )
    assert response.json() == {"stored": 1, "duplicates": 1}
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.phone) == ("Tess Ng", "tess@example.com", "+15128670502")
    event = lead.events.get()
    assert event.channel == "marketplace" and event.external_id == "HA-1"
    assert event.message == "Replace 20 squares of shingles"


def test_a_generic_source_accepts_an_hmac_signature_instead_of_the_secret(
    marketplace, django_capture_on_commit_callbacks
):
    body = json.dumps(marketplace_lead("HA-2")).encode()
    signature = "sha256=" + hmac.new(b"shared-secret", body, hashlib.sha256).hexdigest()
    with django_capture_on_commit_callbacks(execute=True):
        ok = Client().post(
            "/integrations/webhooks/homeadvisor/",
            body,
            content_type="application/json",
            headers={"X-Signature-256": signature},
        )
    assert ok.status_code == 200 and Lead.objects.count() == 1
    forged = Client().post(
        "/integrations/webhooks/homeadvisor/", body, content_type="application/json", headers={"X-Signature-256": "x"}
    )
    assert forged.status_code == 403


def test_a_generic_lead_missing_contact_fields_is_kept_failed_with_the_reason(
    marketplace, django_capture_on_commit_callbacks
):
    incomplete = {"leadId": "HA-3", "customer": {"name": "No Contact"}}
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            "/integrations/webhooks/homeadvisor/",
            incomplete,
            content_type="application/json",
            headers={"X-Nightshift-Secret": "shared-secret"},
        )
    row = InboundWebhook.objects.get()
    assert row.status == "failed" and "phone" in row.error
    assert not Lead.objects.exists()


def test_unknown_or_inactive_sources_are_refused(marketplace):
    assert Client().post("/integrations/webhooks/nope/", {}, content_type="application/json").status_code == 404
    LeadSource.objects.filter(pk=marketplace.pk).update(active=False)
    response = Client().post(
        "/integrations/webhooks/homeadvisor/",
        marketplace_lead(),
        content_type="application/json",
        headers={"X-Nightshift-Secret": "shared-secret"},
    )
    assert response.status_code == 404
    assert not InboundWebhook.objects.exists()


def test_the_field_map_is_validated_in_the_admin_model(db):
    source = LeadSource(slug="x", name="X", kind="generic", secret="s", field_map={"emial": "$.email", "phone": "$$["})
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    text = str(caught.value)
    assert "'emial' is not one of" in text and "not a JSONPath" in text
