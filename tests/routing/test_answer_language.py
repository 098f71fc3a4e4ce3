"""The first answer in the lead's language: captured, qualified, stored on the lead, drafted from the manager's
variant in that language (or the business's default when none), and a model's rewrite held to it."""

import json

import pytest

from approvals.models import MessageTemplate, Policy
from leads.models import Lead
from tests.conftest import policy_set
from tests.fakes.openai_server import FakeOpenAI, completion

pytestmark = pytest.mark.django_db

SPANISH_LEAK = "Hola, tengo una fuga en el techo de la cocina, ¿pueden venir hoy?"
FRENCH_LEAK = "Bonjour, j'ai une fuite d'eau sous l'évier, vous pouvez passer aujourd'hui ?"
ENGLISH_LEAK = "Our roof is leaking into the kitchen, can someone come out today?"


@pytest.fixture
def send(capture):
    """Capture a message through the API with a ZIP code (the demo's one required fact), the pipeline run."""
    policy_set("first_response", mode=Policy.Mode.DRAFT)

    def _send(**body):
        return capture(postal_code="78704", **body).json()["lead"]

    return _send


def first_answer(lead_id: int):
    lead = Lead.objects.get(pk=lead_id)
    return lead, lead.actions.get(workflow="first_response")


@pytest.fixture
def offline(demo, settings):
    settings.LLM_PROVIDER = "embedding"


def test_a_spanish_text_is_answered_with_the_spanish_variant(offline, send):
    lead, action = first_answer(send(phone="+15128670401", name="Ana", message=SPANISH_LEAK))
    assert lead.language == "es" and lead.qualification["language"] == "es"
    template = MessageTemplate.objects.get(pk=action.payload["template"])
    assert (template.name, template.language) == ("First response (SMS, Spanish)", "es")
    assert action.payload["language"] == "es"
    assert action.payload["body"].startswith("Hola Ana, gracias por escribir a")


def test_a_spanish_email_gets_the_spanish_subject_and_body(offline, send):
    _, action = first_answer(send(email="ana@example.com", name="Ana", message=SPANISH_LEAK))
    assert action.payload["subject"].startswith("Su solicitud a") and "Gracias por contactar" in action.payload["body"]


def test_an_english_text_is_answered_in_english(offline, send):
    lead, action = first_answer(send(phone="+15128670402", name="Dana", message=ENGLISH_LEAK))
    assert lead.language == "en" and action.payload["language"] == "en"
    assert action.payload["body"].startswith("Hi Dana, thanks for reaching out")


def test_a_language_without_a_variant_falls_back_to_the_default_language(offline, send):
    lead, action = first_answer(send(phone="+15128670403", name="Luc", message=FRENCH_LEAK))
    assert lead.language == "fr", "the lead's language is kept even when no template has it"
    assert action.payload["language"] == "en" and action.payload["body"].startswith("Hi Luc, thanks")


def test_the_business_default_language_is_a_setting(offline, send, settings):
    settings.BUSINESS_LANGUAGE = "es"
    _, action = first_answer(send(phone="+15128670404", name="Luc", message=FRENCH_LEAK))
    assert action.payload["language"] == "es" and action.payload["body"].startswith("Hola Luc")


def test_a_variant_a_manager_writes_in_the_admin_answers_the_next_lead(offline, send, admin_client):
    added = {
        "name": "First response (SMS, French)",
        "workflow": "first_response",
        "channel": "sms",
        "language": "fr",
        "asks_for": "",
        "subject": "",
        "body": "Bonjour {{ first_name }}, merci de votre message. Pouvons-nous vous appeler aujourd'hui ?",
        "active": "on",
    }
    response = admin_client.post("/admin/approvals/messagetemplate/add/", added)
    assert response.status_code == 302, response.content.decode()[:2000]
    _, action = first_answer(send(phone="+15128670405", name="Luc", message=FRENCH_LEAK))
    assert action.payload["language"] == "fr" and action.payload["body"].startswith("Bonjour Luc, merci")


def test_a_short_reply_keeps_the_leads_language(offline, send):
    lead_id = send(phone="+15128670406", name="Ana", message=SPANISH_LEAK)
    send(phone="+15128670406", message="ok 👍")
    assert Lead.objects.get(pk=lead_id).language == "es"


# -- a model's rewrite ---------------------------------------------------------------------------------------------


@pytest.fixture
def model(demo, settings):
    """A model that qualifies every message as a quote request and rewrites drafts with ``server.rewrite``."""
    with FakeOpenAI() as server:
        settings.LLM_PROVIDER, settings.LLM_BASE_URL, settings.OPENAI_API_KEY = "openai", server.base_url, "sk-test"
        settings.LLM_MODEL, settings.LLM_MAX_RETRIES, settings.LLM_STRUCTURED_MODE = "fake-model", 0, "json_schema"
        settings.LLM_REWRITE_DRAFTS = True
        server.rewrite = ""

        def answer(body):
            schema = body["response_format"]["json_schema"]["name"]
            if schema == "DraftAnswer":
                return 200, completion(json.dumps({"body": server.rewrite}))
            qualified = {"intent": "quote_request", "confidence": 0.9, "reasoning": "Asks for a visit about a leak."}
            return 200, completion(json.dumps(qualified))

        server.handler = answer
        yield server


def drafts_asked(server) -> list[str]:
    return [
        r["messages"][0]["content"]
        for r in server.requests
        if r["response_format"]["json_schema"]["name"] == "DraftAnswer"
    ]


def test_the_models_rewrite_is_asked_for_and_written_in_the_leads_language(model, send):
    model.rewrite = "Hola Ana, gracias por escribirnos. ¿Podemos pasar hoy a las 4 para ver la fuga del techo?"
    lead, action = first_answer(send(phone="+15128670407", name="Ana", message=SPANISH_LEAK))
    assert "Write it in Spanish, the customer's language." in drafts_asked(model)[0]
    assert action.payload["rewritten_by"] == "openai" and action.payload["body"] == model.rewrite
    assert action.payload["language"] == "es" and lead.language == "es"


def test_a_rewrite_in_the_wrong_language_is_refused_and_the_variant_stands(model, send):
    model.rewrite = "Hi Ana, thanks for reaching out. Can we come by at 4 today to look at the roof leak?"
    _, action = first_answer(send(phone="+15128670408", name="Ana", message=SPANISH_LEAK))
    assert drafts_asked(model), "the model was asked"
    assert action.payload["rewritten_by"] == "" and action.payload["language"] == "es"
    assert action.payload["body"].startswith("Hola Ana, gracias por escribir a")
