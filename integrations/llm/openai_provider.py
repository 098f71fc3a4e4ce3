"""OpenAI or any OpenAI-compatible server (Azure, vLLM, Ollama, llama.cpp) through the openai SDK.

Every answer must fit a pydantic schema. Servers differ in how they take one: OpenAI takes
``response_format`` json_schema, llama.cpp's server only ``json_object`` with a schema, some only
tools. The mode is a setting; on ``auto`` the first mode a server refuses is skipped and the one
that works is remembered in the shared cache. ``tools`` falls back: a server that refuses tools is
asked in json_object; one that takes them and answers in the content instead of a tool call (small
local models behind llama.cpp do) has its content read, and when that is not the JSON asked for,
is asked once more in json_object. An answer that doesn't fit is asked for once more;
after that, or when the server fails past the SDK's own retries, the rules provider answers and
the Qualification says so.
"""

import copy
import logging
import time
from dataclasses import replace

import openai
from django.core.cache import cache
from pydantic import BaseModel, ValidationError

from integrations.llm.base import (
    Conversation,
    Criteria,
    DraftAnswer,
    DraftRequest,
    Qualification,
    QualificationAnswer,
)
from integrations.llm.evidence import evidence_gather, judgement_combine
from integrations.llm.extract import facts_read, opt_out_answer, qualification_score
from integrations.llm.language import language_detect
from integrations.llm.offline import judged
from integrations.llm.prompts import draft_messages, qualify_messages

logger = logging.getLogger(__name__)

MODES = ("json_schema", "json_object", "tools")
MODE_CACHE_SECONDS = 24 * 3600
MARKDOWN = str.maketrans("", "", "*_`#>")


class ProviderError(Exception):
    """The model could not give a usable answer (server error, timeout, refusal, answer off-schema)."""


class OpenAIProvider:
    """Qualifies and rewrites drafts with a chat-completions model; falls back to ``fallback`` on failure.

    The model is given the offline evidence (``fallback.evidence`` when the fallback is the offline judge):
    the facts, and the business's labeled examples nearest to the message as worked examples.
    """

    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        fallback,
        api_key: str = "",
        base_url: str = "",
        mode: str = "auto",
        timeout: float = 10.0,
        max_retries: int = 2,
    ):
        if mode not in ("auto", *MODES):
            raise ValueError(f"LLM_STRUCTURED_MODE must be auto or one of {', '.join(MODES)}, not {mode!r}")
        self.model = model
        self.fallback = fallback
        self.mode = mode
        self.base_url = base_url
        # The SDK retries connection errors, 408, 409, 429 and 5xx itself, with exponential backoff.
        self.client = openai.OpenAI(
            api_key=api_key or "not-needed",
            base_url=base_url or None,
            timeout=timeout,
            max_retries=max_retries,
        )

    def joined(self, fallback) -> "OpenAIProvider":
        """This provider (same client and connections) with ``fallback`` as its evidence and fallback."""
        joined = copy.copy(self)
        joined.fallback = fallback
        return joined

    # -- structured calls -------------------------------------------------------------------------

    @property
    def _mode_key(self) -> str:
        return f"llm:mode:{self.base_url}:{self.model}"

    def _modes(self) -> tuple[str, ...]:
        if self.mode != "auto":
            return (self.mode,)
        remembered = cache.get(self._mode_key)
        return (remembered, *[m for m in MODES if m != remembered]) if remembered in MODES else MODES

    def _request(self, mode: str, messages: list[dict], schema: type[BaseModel]):
        json_schema = schema.model_json_schema()
        name = schema.__name__
        if mode == "json_schema":
            extra = {"response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}}}
        elif mode == "json_object":
            extra = {"response_format": {"type": "json_object", "schema": json_schema}}
        else:
            extra = {
                "tools": [{"type": "function", "function": {"name": name, "parameters": json_schema}}],
                "tool_choice": {"type": "function", "function": {"name": name}},
            }
        return self.client.chat.completions.create(model=self.model, messages=messages, temperature=0, **extra)

    @staticmethod
    def _content(mode: str, response) -> tuple[str, bool]:
        """The answer's JSON text, and whether it came as a tool call."""
        choice = response.choices[0].message
        calls = (choice.tool_calls or []) if mode == "tools" else []
        if calls:
            return calls[0].function.arguments or "", True
        return choice.content or "", False

    def _call(self, messages: list[dict], schema: type[BaseModel]):
        """One structured answer: (parsed, usage dict). Raises ProviderError when none can be had."""
        started = time.perf_counter()
        tokens_in = tokens_out = 0
        attempts = 0
        modes = list(self._modes())
        mode = modes.pop(0)
        problem = ""
        answered_in = ""
        while True:
            attempts += 1
            try:
                response = self._request(mode, messages, schema)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                # A server that refuses this way of asking for JSON: try the next mode (auto only). A server that
                # refuses tools or a named tool_choice (llama.cpp) may still take JSON in the content.
                if not modes and mode == "tools":
                    modes = ["json_object"]
                if not modes:
                    raise ProviderError(f"the server refused the request: {exc.message}") from exc
                logger.info("llm.mode_refused", extra={"mode": mode, "model": self.model})
                mode = modes.pop(0)
                continue
            except openai.APIError as exc:
                raise ProviderError(f"{type(exc).__name__}: {getattr(exc, 'message', exc)}") from exc
            if response.usage is not None:
                tokens_in += response.usage.prompt_tokens or 0
                tokens_out += response.usage.completion_tokens or 0
            content, by_tool = self._content(mode, response)
            if mode == "tools" and not by_tool:
                # The server took the tools and ignored them, answering in the content (small local models do).
                answered_in = "content"
            try:
                parsed = schema.model_validate_json(content)
            except ValidationError as exc:
                if problem:
                    raise ProviderError(f"the answer did not fit the schema twice: {problem}") from exc
                problem = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
                if answered_in == "content":
                    # Tools ignored and prose in the content: ask again in the mode that holds the content to JSON.
                    logger.info("llm.tools_ignored", extra={"model": self.model})
                    mode = "json_object"
                messages = [
                    *messages,
                    {"role": "assistant", "content": content[:2000]},
                    {
                        "role": "user",
                        "content": f"That answer did not match the schema ({problem}). Answer again "
                        "with only the JSON object.",
                    },
                ]
                continue
            if self.mode == "auto":
                cache.set(self._mode_key, mode, MODE_CACHE_SECONDS)
            usage = {
                "tokens_in": tokens_in,
                "tokens_out": tokens_out,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "attempts": attempts,
                "mode": mode,
            }
            if answered_in and mode == "tools":
                usage["answered_in"] = answered_in
            return parsed, usage

    # -- the provider interface -------------------------------------------------------------------

    def _evidence(self, conversation: Conversation, criteria: Criteria):
        gather = getattr(self.fallback, "evidence", None)
        return gather(conversation, criteria) if gather else evidence_gather(conversation, criteria)

    def qualify(self, conversation: Conversation, criteria: Criteria) -> Qualification:
        facts = facts_read(conversation, criteria)
        evidence = self._evidence(conversation, criteria)
        opted_out = opt_out_answer(conversation, facts, criteria, self.name)
        if opted_out is not None:
            return judged(opted_out, evidence, conversation)
        if not evidence.words:
            # Nothing a model could read either: the offline judge says so, and a person reads it.
            return self.fallback.qualify(conversation, criteria)
        examples = [(n.text, n.intent) for n in evidence.neighbours if n.shareable]
        messages = qualify_messages(
            conversation, criteria, QualificationAnswer.model_json_schema(), facts=evidence.facts(), examples=examples
        )
        try:
            answer, usage = self._call(messages, QualificationAnswer)
        except ProviderError as exc:
            logger.warning("llm.failed", extra={"model": self.model, "error": str(exc)[:300]})
            answer = self.fallback.qualify(conversation, criteria)
            return answer.with_fallback(f"{self.name} failed: {exc}; the {answer.provider} provider answered")
        facts = replace(
            facts,
            budget_amount=answer.budget_amount if answer.budget_amount else facts.budget_amount,
            budget_text=answer.budget_text or facts.budget_text,
            timeline=answer.timeline.lower() or facts.timeline,
            postal_code=facts.postal_code or answer.postal_code,
            service=facts.service or next((s for s in criteria.services if s in answer.service.lower()), ""),
        )
        judgement = judgement_combine(
            intent=answer.intent,
            confidence=answer.confidence,
            why=answer.reasoning.strip().rstrip("."),
            evidence=evidence,
        )
        result = qualification_score(
            intent=judgement.intent,
            facts=facts,
            criteria=criteria,
            confidence=judgement.confidence,
            provider=self.name,
            why=judgement.why,
            urgency=answer.urgency,
        )
        return replace(
            judged(result, evidence, conversation, consent_review=judgement.consent_review),
            model=self.model,
            usage=usage,
        )

    def draft(self, request: DraftRequest) -> str | None:
        """The template's text rewritten for this conversation, or None when the model can't give a usable one."""
        limit = request.max_characters
        messages = draft_messages(request, limit, DraftAnswer.model_json_schema())
        try:
            answer, _usage = self._call(messages, DraftAnswer)
        except ProviderError as exc:
            logger.warning("llm.draft_failed", extra={"model": self.model, "error": str(exc)[:300]})
            return None
        body = answer.body.strip()
        if request.channel == "sms":
            body = " ".join(body.translate(MARKDOWN).split())
        if limit and len(body) > limit:
            return None
        written_in = language_detect(body).code
        if request.language and written_in and written_in != request.language:
            # The lead would get an answer in a language they did not write in: the template's text stands.
            logger.warning("llm.draft_wrong_language", extra={"model": self.model, "asked": request.language})
            return None
        return body or None
