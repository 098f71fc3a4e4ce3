"""The generic JSON lead source (marketplaces): a manager's JSONPath field map, through the webhook and the task."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from integrations.models import InboundWebhook, LeadSource
from leads.models import InboundEvent, Lead

pytestmark = pytest.mark.django_db
PAYLOADS = Path(__file__).parent / "payloads"


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
    assert row.status == "failed"
    assert "no value at email ($.customer.contact.email) or phone ($.customer.contact.phone)" in row.error
    assert not Lead.objects.exists()


BATCH_MAP = {
    "external_id": "$.leadId",
    "name": ["$.customer.name.first", "$.customer.name.last"],
    "email": "$.customer.contact.emails[*].address",
    "phone": "$.customer.contact.phones[0].number",
    "company": "$.company",
    "postal_code": "$.job.zip",
    "country": "$.customer.country",
    "message": ["$.job.category", "$.job.tasks[*]"],
}


def signed_post(slug: str, body: bytes, secret: str = "shared-secret"):
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return Client().post(
        f"/integrations/webhooks/{slug}/", body, content_type="application/json", headers={"X-Signature-256": signature}
    )


def test_a_generic_list_of_leads_with_nested_arrays_and_missing_optional_paths_captures_each(
    marketplace, django_capture_on_commit_callbacks
):
    LeadSource.objects.filter(pk=marketplace.pk).update(field_map=BATCH_MAP)
    body = (PAYLOADS / "generic/marketplace_batch.json").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post("homeadvisor", body)
    assert response.json() == {"stored": 3, "duplicates": 0}
    assert list(InboundWebhook.objects.order_by("external_id").values_list("external_id", "status")) == [
        ("HA-101", "processed"),
        ("HA-102", "processed"),
        ("HA-103", "processed"),
    ]
    tess, ravi, mia = (InboundEvent.objects.get(external_id=i) for i in ("HA-101", "HA-102", "HA-103"))
    # A list of paths is joined; a wildcard or index into an array gives its first value to a contact field and
    # every value to the message.
    assert (tess.lead.name, tess.lead.email, tess.lead.phone) == ("Tess Ng", "tess.ng@example.com", "+15128670507")
    assert (tess.lead.company, tess.lead.postal_code, tess.country) == ("Ng Properties", "78704", "US")
    assert tess.message.splitlines() == ["Roofing", "Replace 20 squares of shingles", "Haul away old roof"]
    # Absent optional paths (no company, no email in an empty array, no phones, a null zip) are empty fields.
    assert (ravi.lead.name, ravi.lead.email, ravi.lead.phone, ravi.company) == ("Ravi Shah", "", "+15128670509", "")
    assert (mia.lead.email, mia.lead.phone, mia.postal_code, ravi.country) == ("mia@lopez.example", "", "", "")
    # A country answer that is no ISO 3166 name is not guessed: it stays readable in the message.
    assert (mia.country, mia.message) == ("", "Siding\nCountry: Estados Unidos")
    assert Lead.objects.count() == 3


def test_a_generic_mapping_that_finds_an_object_fails_the_row_with_the_field_and_path_and_is_fixable(
    marketplace, django_capture_on_commit_callbacks, admin_client
):
    LeadSource.objects.filter(pk=marketplace.pk).update(
        field_map={**BATCH_MAP, "phone": "$.customer.contact.phones", "email": "$.customer.contact.nowhere"}
    )
    body = json.dumps(json.loads((PAYLOADS / "generic/marketplace_batch.json").read_text())[1]).encode()
    with django_capture_on_commit_callbacks(execute=True):
        signed_post("homeadvisor", body)
    row = InboundWebhook.objects.get()
    assert row.status == "failed" and not Lead.objects.exists()
    reason = "'phone' ($.customer.contact.phones) finds an object, not a value: map a field inside it"
    assert reason in row.error
    listing = admin_client.get("/admin/integrations/inboundwebhook/?status__exact=failed").content.decode()
    assert "HA-102" in listing and "finds an object, not a value" in listing
    # The manager points the path inside the object and processes the delivery again from the admin.
    LeadSource.objects.filter(pk=marketplace.pk).update(field_map=BATCH_MAP)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/integrations/inboundwebhook/", {"action": "process_again", "_selected_action": [row.pk]}
        )
    row.refresh_from_db()
    assert row.status == "processed" and row.event.lead.phone == "+15128670509"


def test_a_generic_body_whose_external_id_path_finds_an_object_is_refused_naming_it(marketplace):
    LeadSource.objects.filter(pk=marketplace.pk).update(field_map={**BATCH_MAP, "external_id": "$.customer"})
    response = signed_post("homeadvisor", (PAYLOADS / "generic/marketplace_batch.json").read_bytes())
    assert response.status_code == 400 and "'external_id' ($.customer) finds an object" in response.json()["detail"]
    assert not InboundWebhook.objects.exists()


def test_the_admin_shows_what_is_wrong_with_a_field_map_and_saves_nothing(admin_client):
    form = {"name": "Angi", "slug": "angi", "kind": "generic", "channel": "marketplace", "secret": "s", "active": "on"}
    bad = {"emial": "$.email", "phone": "$$[", "name": ["$.first", 3], "company": ""}
    response = admin_client.post("/admin/integrations/leadsource/add/", {**form, "field_map": json.dumps(bad)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "&#x27;emial&#x27; is not one of: name, email, phone" in page
    assert "phone: &#x27;$$[&#x27; is not a JSONPath" in page
    assert "name: give a JSONPath" in page and "company: give a JSONPath" in page
    assert not LeadSource.objects.exists()
    good = {"email": "$.contact.email", "name": ["$.contact.first", "$.contact.last"]}
    response = admin_client.post("/admin/integrations/leadsource/add/", {**form, "field_map": json.dumps(good)})
    assert response.status_code == 302 and LeadSource.objects.get().field_map == good


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
