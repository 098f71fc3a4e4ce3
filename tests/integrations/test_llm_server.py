"""The openai provider against a real model server: llama.cpp's llama-server with a small instruct model.

Run by `make test-llm` (after `make llm-server`), which sets LLM_BASE_URL; skipped otherwise, so `make test`
never waits on a model. Every call goes through the real SDK to the real server; the one stand-in is a pass-through
proxy that spoils the model's first answer, to see a real model repair an answer off the schema.
"""

import json
import os
import urllib.request

import pytest

from integrations.llm import Conversation, DraftRequest, openai_provider_build
from integrations.llm.language import language_detect
from leads.choices import INTENTS, SALES_INTENTS
from routing.reasoning import criteria_active, offline_provider
from tests.fakes.openai_server import FakeOpenAI

SERVER = os.environ.get("LLM_BASE_URL", "")
pytestmark = [
    pytest.mark.llm,
    pytest.mark.django_db,
    pytest.mark.skipif(not SERVER, reason="no model server: `make llm-server`, then `make test-llm`"),
]
LEAK = "Hi, our roof is leaking into the kitchen since the storm, can someone come out today? ZIP 78704"


@pytest.fixture
def real(settings):
    """The openai provider as the pipeline builds it (joined to the offline judge), against the real server."""
    settings.LLM_PROVIDER, settings.LLM_BASE_URL, settings.LLM_MODEL = "openai", SERVER, "local"
    # A 1.5B model on 2 cores takes ~10 s a message (README "Reasoning"); one slow answer is not a failure here.
    settings.LLM_TIMEOUT, settings.LLM_MAX_RETRIES = 120.0, 0

    def build(mode: str, *, timeout: float = 120.0):
        settings.LLM_STRUCTURED_MODE, settings.LLM_TIMEOUT = mode, timeout
        return openai_provider_build().joined(offline_provider())

    return build


def qualify(provider, message: str = LEAK):
    return provider.qualify(Conversation(message=message, channel="sms"), criteria_active())


@pytest.mark.parametrize("mode", ["json_schema", "json_object"])
def test_the_model_answers_in_the_schema(real, mode):
    answer = qualify(real(mode))
    assert answer.provider == "openai" and not answer.fallback, answer.fallback
    assert answer.usage["mode"] == mode and answer.usage["tokens_in"] > 0 and answer.usage["tokens_out"] > 0
    assert answer.intent in INTENTS and answer.intent != "opt_out"


def test_tools_are_taken_and_answered_in_the_content_or_asked_again(real):
    answer = qualify(real("tools"))
    assert answer.provider == "openai" and not answer.fallback, answer.fallback
    # These models never emit tool_calls: the answer came in the content, or in json_object after prose.
    assert answer.usage.get("answered_in") == "content" or answer.usage["mode"] == "json_object", answer.usage


def test_auto_mode_settles_on_a_mode_the_server_takes(real):
    answer = qualify(real("auto"))
    assert answer.provider == "openai" and answer.usage["mode"] in ("json_schema", "json_object", "tools")


def test_a_server_slower_than_the_timeout_leaves_the_offline_judge_answering(real):
    answer = qualify(real("json_schema", timeout=0.05))
    assert answer.provider == "embedding" and "APITimeoutError" in answer.fallback
    assert answer.intent in SALES_INTENTS, "the lead is still qualified, by the offline judge"


def test_an_answer_off_the_schema_is_repaired_by_the_model(real, settings):
    """A proxy drops the first answer's ``confidence``: the provider names the problem and the model answers again."""
    spoiled = []

    def forward(body):
        request = urllib.request.Request(
            f"{SERVER}/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - the local test server
            answer = json.loads(response.read())
        if not spoiled:
            content = json.loads(answer["choices"][0]["message"]["content"])
            content.pop("confidence", None)
            answer["choices"][0]["message"]["content"] = json.dumps(content)
            spoiled.append(content)
        return 200, answer

    with FakeOpenAI() as proxy:
        proxy.handler = forward
        settings.LLM_BASE_URL = proxy.base_url
        answer = qualify(real("json_schema"))
    assert spoiled, "the first answer went through the proxy"
    assert answer.provider == "openai" and answer.usage["attempts"] == 2, answer.fallback
    assert "confidence" in proxy.requests[1]["messages"][-1]["content"], "the repair names the missing field"


def test_the_models_rewrite_is_in_the_leads_language_or_refused(real):
    provider = real("json_schema")
    request = DraftRequest(
        text="Hi Ana, thanks for reaching out to Acme Roofing. When would suit you for a short call?",
        channel="email",
        purpose="first_response",
        rep_name="Sam",
        business_name="Acme Roofing",
        conversation=("Hola, tengo una fuga en el techo de la cocina, ¿pueden venir hoy?",),
        language="es",
    )
    rewrite = provider.draft(request)
    assert rewrite is None or language_detect(rewrite).code in ("es", ""), rewrite
