"""Enrichment fills what can be inferred, with its source, and never overwrites what the person said."""

import pytest

from audit.models import Decision
from integrations.enrichment import ContactFacts, EmailDomainEnricher, PhoneNumberEnricher
from leads.models import Lead
from tests.fakes.http_server import LocalJsonServer

pytestmark = pytest.mark.django_db


def facts(**kwargs):
    return ContactFacts(**{"phone": "", "email": "", "postal_code": "", "country": "", **kwargs})


def test_phone_numbers_give_type_country_and_time_zone():
    found = PhoneNumberEnricher().enrich(facts(phone="+442079460000"))
    assert found["phone_type"] == "landline" and found["country"] == "GB" and found["timezone"] == "Europe/London"
    assert PhoneNumberEnricher().enrich(facts(phone="not a number")) == {}


@pytest.mark.parametrize(
    ("email", "company"),
    [
        ("dana@acme-roofing.com", "Acme Roofing"),
        ("ops@mail.brightside-homes.co.uk", "Brightside Homes"),
        ("someone@gmail.com", None),
    ],
)
def test_a_business_domain_names_the_company_and_free_mail_does_not(email, company):
    assert EmailDomainEnricher().enrich(facts(email=email)).get("company") == company


def test_the_pipeline_fills_empty_fields_only_and_records_the_sources(demo, capture):
    lead_id = capture(
        phone="+12125550123", email="kim@harbor-dental.com", company="Harbor Dental Group", message="Quote please"
    ).json()["lead"]
    lead = Lead.objects.get(pk=lead_id)
    assert lead.company == "Harbor Dental Group"  # what the person typed stays
    assert lead.enrichment["company"] == {"value": "Harbor Dental", "source": "email domain"}
    assert lead.timezone == "America/New_York" and lead.enrichment["timezone"]["source"] == "phonenumbers"
    decision = Decision.objects.get(lead=lead, step="enrich")
    assert "timezone" in decision.output["filled"] and "company" not in decision.output["filled"]


def lookup_answer(status=200):
    """A Twilio Lookup v2 answer for the number in the request's path, as Twilio sends it."""

    def respond(method, path, headers, body):
        number = path.split("/")[3].split("?")[0]
        if status != 200:
            return status, {"code": 20003, "message": "Authenticate", "status": status}
        return 200, {
            "phone_number": number,
            "country_code": "US",
            "valid": True,
            "line_type_intelligence": {"type": "nonFixedVoip", "carrier_name": "Google (Grand Central)"},
            "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}",
        }

    return respond


@pytest.fixture
def lookup_settings(settings):
    from integrations.twilio_client import _client

    _client.cache_clear()
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.ENRICHMENT_PROVIDERS = ["integrations.enrichment.TwilioLookupEnricher"]
    yield settings
    _client.cache_clear()


def test_twilio_lookup_through_the_real_sdk(lookup_settings, demo, capture):
    with LocalJsonServer(lookup_answer()) as fake:
        lookup_settings.TWILIO_API_URL = fake.url
        lead_id = capture(phone="+15128670400", message="roof quote").json()["lead"]
    method, path, headers, _ = fake.calls[0]
    auth = headers.get("Authorization", "")
    assert (
        method == "GET" and path.startswith("/v2/PhoneNumbers/+15128670400") and "Fields=line_type_intelligence" in path
    )
    assert auth.startswith("Basic ")
    enrichment = Lead.objects.get(pk=lead_id).enrichment
    assert enrichment["phone_type"] == {"value": "nonFixedVoip", "source": "twilio lookup"}


def test_a_failed_lookup_is_recorded_and_the_lead_goes_on(lookup_settings, demo, capture):
    with LocalJsonServer(lookup_answer(status=401)) as fake:
        lookup_settings.TWILIO_API_URL = fake.url
        lead_id = capture(phone="+15128670401", message="roof quote", postal_code="30301").json()["lead"]
    decision = Decision.objects.get(lead_id=lead_id, step="enrich")
    assert decision.outcome == "failed" and "Twilio Lookup failed" in decision.output["errors"][0]
    assert Decision.objects.filter(lead_id=lead_id, step="route").exists()


def test_a_zip_codes_time_zone_beats_the_phone_numbers_area_code(demo, capture):
    lead_id = capture(phone="+14155550188", postal_code="78704", message="roof quote").json()["lead"]
    lead = Lead.objects.get(pk=lead_id)
    assert (lead.region, lead.timezone) == ("US-TX", "America/Chicago")
    assert lead.enrichment["timezone"] == {"value": "America/Los_Angeles", "source": "phonenumbers"}
