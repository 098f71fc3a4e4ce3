"""The offline judge (classifier, language, consent words, spam signals) and a model that adds to it but can't
throw it away: languages, bad input, the evidence in the model's prompt, and the combination rule."""

import json
from pathlib import Path

import pytest

from approvals.models import Action, Policy
from integrations.llm import Conversation, Criteria, DraftRequest, provider_name
from integrations.llm.embedding import embedder_get
from integrations.llm.evaluation import labeled_load
from integrations.llm.language import language_detect
from integrations.llm.offline import EmbeddingProvider
from integrations.llm.rules import RulesProvider
from leads.choices import NOISE_INTENTS, SALES_INTENTS
from leads.models import Lead
from routing.models import IntentExample, LabelDefinition
from routing.reasoning import criteria_active, provider_get
from tests.conftest import policy_set
from tests.fakes.openai_server import FakeOpenAI, completion

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "routing/data/intent_examples.jsonl"
LEAKS = [
    ("tengo una fuga en el techo, pueden venir hoy?", "es"),
    ("Hola, se está saliendo el agua del calentador, ¿pueden venir mañana temprano?", "es"),
    ("Bonjour, j'ai une fuite d'eau sous l'évier, vous pouvez passer aujourd'hui ?", "fr"),
    ("Hallo, wir haben einen Wasserschaden im Keller, können Sie heute noch vorbeikommen?", "de"),
    ("Our roof is leaking into the kitchen, can someone come out today?", "en"),
]


@pytest.fixture(scope="module")
def judge():
    """The offline judge trained on the starter examples, as a fresh install seeds them."""
    rows = [json.loads(line) for line in EXAMPLES.read_text().splitlines() if line.strip()]
    return EmbeddingProvider.from_examples(embedder_get(), [(r["intent"], r["text"]) for r in rows])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        *LEAKS,
        ("Stopp", "de"),  # one word: the consent words know its language
        ("BAJA", "es"),
        ("👍🙏", ""),
        ("", ""),
        ("ok", ""),
    ],
)
def test_the_language_is_read_or_left_unknown(text, code):
    assert language_detect(text).code == code


def test_a_message_in_two_languages_says_so():
    reading = language_detect(
        "Hi, my mom only speaks Spanish so I'm asking for her. Ella quiere saber si ustedes arreglan techos de teja."
    )
    assert set(reading.mixed) == {"en", "es"} and reading.code in ("en", "es")


@pytest.mark.parametrize(("text", "code"), LEAKS)
def test_a_leak_in_any_language_is_a_buyer_never_an_opt_out(judge, text, code):
    """The embedding provider once judged 'tengo una fuga en el techo' an opt-out: a classifier can't say opt-out."""
    for provider in (judge, RulesProvider()):
        answer = provider.qualify(Conversation(message=text, channel="sms"), Criteria())
        assert answer.intent != "opt_out" and answer.intent not in NOISE_INTENTS, (provider.name, answer.reasoning)
        assert answer.language == code
    assert judge.qualify(Conversation(message=text), Criteria()).intent in SALES_INTENTS


def test_the_classifier_never_opts_anyone_out_and_the_words_always_do(judge):
    """Over every train message and the opt-out set: opt-out exactly where the person's words say it."""
    rows = labeled_load(DATA / "qualify_set.jsonl", split="train") + labeled_load(DATA / "optout_set.jsonl")
    for row in rows:
        answer = judge.qualify(Conversation(message=row.text), Criteria())
        assert (answer.intent == "opt_out") == (row.intent == "opt_out"), row.text


@pytest.mark.parametrize("text", ["", "   ", "👍", "😂😂😂", "🙏🙏", "12345", "?!"])
def test_nothing_to_read_goes_to_a_person(judge, text):
    answer = judge.qualify(Conversation(message=text), Criteria())
    assert answer.intent == "other" and answer.confidence <= 0.3
    assert answer.reasoning.startswith("No words to judge by")


def test_a_five_thousand_character_email_is_judged_by_its_opening(judge):
    opening = "Hi, we need a quote to replace the roof on our two-storey house, about 2,400 sq ft, ZIP 78704.\n\n"
    quoted = "> On Monday, Sales wrote:\n> Thanks for your interest, here is our brochure and our terms.\n" * 60
    email = (opening + quoted + "-- \nJane Doe\nSent from my phone\n")[:5000]
    assert len(email) == 5000
    answer = judge.qualify(Conversation(message=email, channel="email"), Criteria())
    assert answer.intent in SALES_INTENTS and answer.language == "en" and answer.postal_code == "78704"


def test_a_mixed_language_message_is_qualified_and_flagged(judge):
    text = "Hi, my mom only speaks Spanish so I'm asking for her. Ella quiere saber cuánto cuesta un techo nuevo."
    answer = judge.qualify(Conversation(message=text), Criteria())
    assert answer.intent in SALES_INTENTS and "mixed languages" in " ".join(answer.signals)


def test_a_reply_too_short_to_tell_keeps_the_conversations_language(judge):
    answer = judge.qualify(Conversation(message="ok 👍", known={"language": "es"}), Criteria())
    assert answer.language == "es"


@pytest.mark.django_db
def test_the_offline_default_answers_a_spanish_leak_through_the_pipeline(demo, capture, settings):
    """``auto`` without a key is the embedding provider (README's figures chose it): qualified, Spanish, no hold."""
    settings.LLM_PROVIDER = "auto"
    assert provider_name() == "embedding"
    message = "Hola, tengo una fuga en el techo, pueden venir hoy?"
    lead_id = capture(phone="+15128670301", message=message).json()["lead"]
    lead = Lead.objects.get(pk=lead_id)
    assert lead.qualification["provider"] == "embedding" and lead.qualification["language"] == "es"
    assert lead.qualification["intent"] in SALES_INTENTS and not lead.opted_out and lead.consent_hold == ""
    assert lead.actions.exists(), "answered as any buyer"


@pytest.mark.django_db
def test_an_emoji_only_message_waits_for_a_person(demo, capture, settings):
    settings.LLM_PROVIDER = "embedding"
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0.7)
    lead = Lead.objects.get(pk=capture(phone="+15128670302", message="👍👍").json()["lead"])
    assert lead.qualification["intent"] == "other" and not lead.opted_out
    action = lead.actions.get(workflow="first_response")
    assert action.status == Action.Status.PENDING and action.escalated


# -- the model adds to the evidence ------------------------------------------------------------------------------


@pytest.fixture
def model(settings, db):
    with FakeOpenAI() as server:
        settings.LLM_PROVIDER, settings.LLM_BASE_URL, settings.OPENAI_API_KEY = "openai", server.base_url, "sk-test"
        settings.LLM_MODEL, settings.LLM_MAX_RETRIES, settings.LLM_STRUCTURED_MODE = "fake-model", 0, "json_schema"
        server.answer = {"intent": "quote_request", "confidence": 0.9, "reasoning": "Asks for a price."}
        server.handler = lambda body: (200, completion(json.dumps(server.answer)))
        yield server


def ask(text: str):
    return provider_get().qualify(Conversation(message=text, channel="sms"), criteria_active())


def test_the_prompt_carries_definitions_examples_and_the_offline_findings(model):
    LabelDefinition.objects.filter(intent="vendor_pitch").update(definition="A roofer's supplier selling shingles.")
    LabelDefinition.objects.get(intent="vendor_pitch").save()  # through save(): the criteria snapshot hears it
    IntentExample.objects.create(intent="spam", text="WIN A FREE ROOF click the link", source="correction")
    ask("Necesito un presupuesto para cambiar el techo de mi casa")
    system, user = (m["content"] for m in model.requests[0]["messages"])
    assert "- vendor_pitch: A roofer's supplier selling shingles." in system
    assert "- job_seeker: A person asking for a job" in system, "an unedited label keeps its default"
    examples = json.loads(user.split("Labeled examples from the business: ")[1].split("\n")[0])
    assert examples and all(set(e) == {"message", "intent"} for e in examples)
    assert any(e["intent"] in ("quote_request", "new_project") for e in examples)
    assert all("FREE ROOF" not in e["message"] for e in examples), "a correction is a lead's words: never sent"
    facts = json.loads(user.split("Offline findings on the latest message: ")[1].split("\n")[0])
    assert facts["language"] == "es" and facts["consent_words"] == "none"
    assert facts["classifier"][0][0] in SALES_INTENTS and facts["keyword_rules"]
    assert user.index("Offline findings") < user.index("<inbound>"), "the findings are ours, outside the data block"


def test_a_model_cannot_make_a_sure_vendor_pitch_a_quote_request(model):
    pitch = "We can put your company on page one of Google"
    assert provider_get().fallback.evidence(Conversation(message=pitch), Criteria()).sure_noise == "vendor_pitch"
    answer = ask(pitch)
    assert answer.intent == "vendor_pitch" and answer.status == "unqualified"
    assert "the model said quote_request" in answer.reasoning


def test_a_model_can_still_name_a_buyer_the_classifier_was_unsure_of(model):
    model.answer = {"intent": "new_project", "confidence": 0.8, "reasoning": "Wants a deck built."}
    answer = ask("Deck. 20x12. Cedar. Spring.")
    assert answer.intent == "new_project" and answer.provider == "openai"


def test_a_models_opt_out_alone_is_no_opt_out(model):
    model.answer = {"intent": "opt_out", "confidence": 0.95, "reasoning": "They want no contact."}
    answer = ask("tengo una fuga en el techo, pueden venir hoy?")
    assert answer.intent != "opt_out" and answer.intent in SALES_INTENTS
    assert answer.consent_review and answer.confidence <= 0.4, "held for a person, and not sure"


def test_a_model_answer_off_the_label_set_leaves_the_offline_judge_answering(model):
    model.answer = {"intent": "hot_lead", "confidence": 0.9, "reasoning": "Very keen."}
    answer = ask("Quiero cambiar las ventanas de toda la casa")
    assert len(model.requests) == 2, "asked once more, then the offline judge"
    assert answer.provider == "embedding" and "openai failed" in answer.fallback
    assert answer.intent in SALES_INTENTS and answer.language == "es"


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("Hola Ana, gracias por escribirnos. ¿Le parece bien si pasamos hoy a las 4 para ver la fuga?", True),
        ("Hi Ana, thanks for reaching out. Can we come by at 4 today to look at the leak?", False),
    ],
)
def test_the_rewrite_is_in_the_leads_language_or_the_template_stands(model, body, kept):
    model.handler = lambda request: (200, completion(json.dumps({"body": body})))
    request = DraftRequest(
        text="Hi {name}, thanks for contacting us. When can we visit?",
        channel="email",
        purpose="first_response",
        rep_name="Ana",
        business_name="Acme Roofing",
        language="es",
    )
    rewrite = provider_get().draft(request)
    assert (rewrite == body) is kept and (rewrite is None) is not kept
    assert "Write it in Spanish, the customer's language." in model.requests[0]["messages"][0]["content"]


@pytest.mark.django_db
def test_a_manager_reads_and_edits_the_label_definitions_in_the_admin(admin_client, admin_user):
    assert LabelDefinition.objects.count() == 11, "one seeded definition per intent"
    listing = admin_client.get("/admin/routing/labeldefinition/").content.decode()
    assert "A business selling its services or products to us" in listing
    row = LabelDefinition.objects.get(intent="job_seeker")
    edited = {"intent": "job_seeker", "definition": "Anyone asking to work for us, as staff or as a subcontractor."}
    assert admin_client.post(f"/admin/routing/labeldefinition/{row.pk}/change/", edited).status_code == 302
    assert dict(criteria_active().label_definitions)["job_seeker"] == edited["definition"]
    assert row.history.get().history_user == admin_user, "every edit is kept with who made it"


# -- bad input through the pipeline, with a model that answers the worst -------------------------------------------

LONG_EMAIL = (
    "Hi, we need a quote to replace the roof on our two-storey house, about 2,400 sq ft, ZIP 78704.\n\n"
    + "> On Monday, Sales wrote:\n> Thanks for your interest, here is our brochure and our terms.\n" * 70
)[:5000]
BAD_INPUT = [
    pytest.param({"message": ""}, id="empty"),
    pytest.param({"message": "🙏🙏😂"}, id="emoji-only"),
    pytest.param({"message": LONG_EMAIL, "channel": "email"}, id="5000-character-email"),
    pytest.param(
        {"message": "Hi, my mom only speaks Spanish. Ella quiere saber cuánto cuesta un techo nuevo, zip 78704."},
        id="mixed-languages",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("body", BAD_INPUT)
@pytest.mark.parametrize(
    "worst",
    [
        {"intent": "opt_out", "confidence": 0.99, "reasoning": "They want no contact."},
        {"intent": "hot_lead", "confidence": 0.9, "reasoning": "Very keen."},
    ],
    ids=["model-says-opt-out", "model-off-the-label-set"],
)
def test_bad_input_is_qualified_escalated_or_refused_with_a_reason_never_opted_out(demo, capture, model, body, worst):
    """Whatever the message and whatever the model says, only the person's own words opt out."""
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0.7)
    model.answer = worst
    lead = Lead.objects.get(pk=capture(phone="+15128670501", **body).json()["lead"])
    assert not lead.opted_out and lead.qualification["intent"] != "opt_out"
    reasoning = lead.qualification["reasoning"]
    action = lead.actions.filter(workflow__in=("first_response", "clarifying_question")).first()
    held = lead.consent_hold or (action is not None and action.status == Action.Status.PENDING and action.escalated)
    qualified = lead.qualification["status"] in ("qualified", "needs_clarification") and action is not None
    refused = bool(lead.qualification["fallback"]) or reasoning.startswith("No words to judge by")
    assert held or qualified or refused, (lead.qualification, action and action.escalation_reason)
    if worst["intent"] == "opt_out" and body["message"].strip(" 🙏😂"):
        assert lead.consent_hold, "a model's opt-out on words that don't say it holds the lead for a person"
    if worst["intent"] == "hot_lead" and body["message"].strip(" 🙏😂"):
        assert "openai failed" in lead.qualification["fallback"], "an answer off the label set is refused"
