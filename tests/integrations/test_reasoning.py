"""The offline providers (rules, embedding), the criteria they read, and reps' corrections."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from integrations.llm import Conversation, Criteria, RulesProvider
from integrations.llm.criteria import budget_bands_parse, intent_phrases_parse
from integrations.llm.evaluation import NOISE_GROUP, OPT_OUT_GROUP, labeled_load, provider_evaluate, stratified
from routing.models import IntentExample, QualificationCriteria
from routing.reasoning import intent_classifier, provider_get
from tests.conftest import user_client

DATA = Path(__file__).resolve().parent.parent / "data"
rules = RulesProvider()


def test_the_criteria_text_is_parsed_and_every_mistake_names_its_line():
    assert intent_phrases_parse("quote_request: bid, Ballpark\n\nappointment: stop by") == (
        ("quote_request", ("bid", "ballpark")),
        ("appointment", ("stop by",)),
    )
    bands = budget_bands_parse("small: 0-5,000\nlarge: 5000+")
    assert [(b.name, b.low, b.high) for b in bands] == [("small", 0, 5000), ("large", 5000, None)]
    with pytest.raises(ValueError, match="Line 2: start with an intent"):
        intent_phrases_parse("quote_request: bid\nbuy_now: cash")
    with pytest.raises(ValueError, match="Line 1: the upper bound"):
        budget_bands_parse("small: 500-100")
    with pytest.raises(ValueError, match="Line 2: bands must be in increasing order"):
        budget_bands_parse("a: 0-5000\nb: 4000-9000")


@pytest.mark.django_db
def test_invalid_criteria_cant_be_saved():
    row = QualificationCriteria(
        name="x", budget_bands="cheap", required_facts="budget, vibe", qualify_threshold=40, clarify_threshold=60
    )
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert set(caught.value.message_dict) == {"budget_bands", "required_facts", "clarify_threshold"}


def test_the_managers_criteria_change_the_answer():
    message = "Could I get a ballpark for new gutters? Around $7,500. ZIP 78704, by March"
    plain = rules.qualify(Conversation(message=message), Criteria())
    tuned = Criteria(
        services=("gutter",),
        service_area=("787",),
        intent_phrases=(("quote_request", ("ballpark",)),),
        budget_bands=budget_bands_parse("small: 0-5000\nmedium: 5000-20000"),
        required_facts=("budget", "postal_code", "timeline"),
    )
    answer = rules.qualify(Conversation(message=message), tuned)
    assert answer.intent == "quote_request"
    assert answer.score > plain.score and answer.status == "qualified"
    assert (answer.budget_amount, answer.budget_band, answer.timeline) == (7500, "medium", "by march")
    assert "asks for 'gutter'" in answer.reasoning
    outside = rules.qualify(Conversation(message=message, postal_code="10001"), tuned)
    assert outside.status == "unqualified" and "outside the service area" in outside.reasoning


@pytest.mark.parametrize(
    ("message", "reachable", "intent", "signal"),
    [
        ("great deal http://a.example http://b.example", True, "spam", "2 links"),
        ("asdkjh qwrtz zxcvbn plmkj", True, "spam", "gibberish"),
        ("Claim your gift card now", True, "spam", "spam phrasing"),
        ("sdfg kjhkjh 4411", True, "spam", "gibberish"),
        ("Estimado amigo, usted ha heredado 3 millones de dólares de un pariente lejano.", True, "spam", "heredado"),
        ("Je vous envoie un chèque et vous me remboursez la différence par virement.", True, "spam", "différence"),
        ("Rechnung fällig. Öffnen Sie den Anhang, um Mahngebühren zu vermeiden: rechnung_17.zip", True, "spam", "zip"),
        ("about your car's extended warranty, press 1 to speak to an agent", True, "spam", "spam phrasing"),
    ],
)
def test_spam_signals_hold_whatever_the_words(message, reachable, intent, signal):
    answer = rules.qualify(Conversation(message=message, reachable=reachable), Criteria())
    assert answer.intent == intent and answer.status == "spam" and answer.score == 0
    assert signal in answer.reasoning


@pytest.mark.parametrize(
    "message",
    [
        "Opt out of the extended warranty, just the install please",
        "Plans attached as plans.zip — can you quote the framing?",
        "We need a Node.js developer for our booking page, and a quote for hosting",
        "The alert on the property panel says power failure, please call",
        "Ihr Konto? No, our account number is 4471 — the invoice is wrong",
    ],
)
def test_a_person_is_not_spam_for_a_word_the_scams_also_use(message):
    answer = rules.qualify(Conversation(message=message), Criteria())
    assert answer.intent != "spam", answer.reasoning


def test_missing_facts_mean_clarification_and_a_reply_keeps_what_was_said():
    criteria = Criteria(required_facts=("budget", "postal_code"), services=("roof",))
    first = rules.qualify(Conversation(message="I need a new roof"), criteria)
    assert first.status == "needs_clarification" and first.missing == ("budget", "postal_code")
    reply = rules.qualify(
        Conversation(message="78704", history=("I need a new roof",), intent_before="new_project", known={}),
        criteria,
    )
    assert reply.intent == "new_project" and reply.missing == ("budget",)
    last = rules.qualify(
        Conversation(message="maybe 15k", postal_code="78704", intent_before="new_project"),
        criteria,
    )
    assert last.status == "qualified" and last.budget_amount == 15000


def test_the_rules_provider_meets_its_targets_on_the_labeled_set():
    rows = labeled_load(DATA / "qualify_labeled.jsonl")
    assert len(rows) >= 120
    result = provider_evaluate(rules, rows, Criteria())
    assert result.recall(NOISE_GROUP) >= 0.95 and result.recall(OPT_OUT_GROUP) >= 0.95
    assert result.accuracy >= 0.85


@pytest.mark.django_db
def test_the_embedding_provider_classifies_by_the_trained_examples(settings):
    settings.LLM_PROVIDER = "embedding"
    provider = provider_get()
    assert provider.name == "embedding"
    assert IntentExample.objects.count() >= 450 and IntentExample.objects.filter(vector__isnull=True).count() == 0
    assert set(IntentExample.objects.values_list("vector_model", flat=True)) == {"use-multilingual-v3"}
    for message, intent in (
        ("Are you guys hiring? I do drywall", "job_seeker"),
        ("We can put your company on page one of Google", "vendor_pitch"),
        ("What would you charge to repaint my fence?", "quote_request"),
        ("¿Están contratando? Tengo experiencia en pintura", "job_seeker"),
        ("Combien coûte le remplacement d'une chaudière ?", "quote_request"),
        ("please stop texting me", "opt_out"),  # by the words, not the classifier
    ):
        assert provider.qualify(Conversation(message=message), Criteria()).intent == intent, message
    assert "opt_out" not in provider.classifier.labels, "only a person's words opt out"


@pytest.mark.django_db
def test_a_broken_model_path_falls_back_to_the_rules_provider(settings, tmp_path, caplog):
    settings.LLM_PROVIDER = "embedding"
    settings.LLM_EMBEDDING_MODEL_PATH = str(tmp_path / "missing.onnx")
    assert provider_get().name == "rules"
    assert "llm.embedding_unavailable" in caplog.text


@pytest.mark.django_db
def test_a_reps_correction_becomes_an_example_and_retrains_the_classifier(demo, capture):
    lead_id = capture(phone="+15128670071", message="Need roofers for a commercial crew, paid weekly").json()["lead"]
    before = intent_classifier()
    client = user_client("manager")
    response = client.post(f"/portal/leads/{lead_id}/relabel/", {"intent": "job_seeker"})
    assert response.status_code == 302
    example = IntentExample.objects.get(source="correction")
    assert (example.intent, example.lead_id, example.text) == (
        "job_seeker",
        lead_id,
        "Need roofers for a commercial crew, paid weekly",
    )
    after = intent_classifier()
    assert after is not before
    assert after.intents.count("job_seeker") == before.intents.count("job_seeker") + 1
    # A lead's own words train the classifier but are never shown to a model as a worked example.
    index = after.texts.index("Need roofers for a commercial crew, paid weekly")
    assert after.shareable[index] is False
    noise = client.get("/portal/leads/?stage=noise")
    assert f"/portal/leads/{lead_id}/" in noise.content.decode()
    refused = client.post(f"/portal/leads/{lead_id}/relabel/", {"intent": "buy_now"})
    assert refused.status_code == 422 and "Choose one of" in refused.content.decode()


def test_a_limited_bench_run_keeps_every_intents_share_and_the_same_rows():
    rows = labeled_load(DATA / "qualify_set.jsonl", split="test")
    sample = stratified(rows, 40)
    assert len(sample) == 40 and sample == stratified(rows, 40)
    assert {r.intent for r in sample} == {r.intent for r in rows}, "every intent is in the sample"
    assert stratified(rows, 0) == rows and stratified(rows, 1000) == rows
