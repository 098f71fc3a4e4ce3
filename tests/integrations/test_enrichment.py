"""Enrichment fills what can be inferred, with its source, and never overwrites what the person said."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from audit.models import Decision
from integrations.enrichment import EmailDomainEnricher, LeadFacts, PhoneNumberEnricher
from leads.models import Lead

pytestmark = pytest.mark.django_db


def facts(**kwargs):
    return LeadFacts(**{"phone": "", "email": "", "postal_code": "", "country": "", **kwargs})


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


class FakeLookup:
    """Answers Twilio Lookup v2 like Twilio does, and keeps the paths and auth it was called with."""

    def __init__(self, status=200):
        self.calls = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                fake.calls.append((self.path, self.headers.get("Authorization", "")))
                number = self.path.split("/")[3].split("?")[0]
                body = {
                    "phone_number": number,
                    "country_code": "US",
                    "valid": True,
                    "line_type_intelligence": {"type": "nonFixedVoip", "carrier_name": "Google (Grand Central)"},
                    "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}",
                }
                if status != 200:
                    body = {"code": 20003, "message": "Authenticate", "status": status}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


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
    fake = FakeLookup()
    lookup_settings.TWILIO_API_URL = fake.url
    lead_id = capture(phone="+15128670400", message="roof quote").json()["lead"]
    path, auth = fake.calls[0]
    assert path.startswith("/v2/PhoneNumbers/+15128670400") and "Fields=line_type_intelligence" in path
    assert auth.startswith("Basic ")
    enrichment = Lead.objects.get(pk=lead_id).enrichment
    assert enrichment["phone_type"] == {"value": "nonFixedVoip", "source": "twilio lookup"}
    fake.server.shutdown()


def test_a_failed_lookup_is_recorded_and_the_lead_goes_on(lookup_settings, demo, capture):
    fake = FakeLookup(status=401)
    lookup_settings.TWILIO_API_URL = fake.url
    lead_id = capture(phone="+15128670401", message="roof quote", postal_code="30301").json()["lead"]
    decision = Decision.objects.get(lead_id=lead_id, step="enrich")
    assert decision.outcome == "failed" and "Twilio Lookup failed" in decision.output["errors"][0]
    assert Decision.objects.filter(lead_id=lead_id, step="route").exists()
    fake.server.shutdown()
