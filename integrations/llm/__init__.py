"""The model behind the pipeline's judgement: openai (any compatible server), embedding (offline) or rules."""

from functools import lru_cache

from django.conf import settings

from integrations.llm.base import Conversation, Criteria, DraftRequest, Qualification
from integrations.llm.rules import RulesProvider

# The offline default on ``auto``, chosen by bench/qualify.py's figures (README "Reasoning").
OFFLINE_DEFAULT = "embedding"


def provider_name() -> str:
    """The configured provider: LLM_PROVIDER, or on ``auto`` openai when a key or base URL is set, else
    OFFLINE_DEFAULT."""
    name = settings.LLM_PROVIDER
    if name == "auto":
        return "openai" if (settings.OPENAI_API_KEY or settings.LLM_BASE_URL) else OFFLINE_DEFAULT
    return name


@lru_cache(maxsize=4)
def _openai_provider(model, api_key, base_url, mode, timeout, max_retries):
    from integrations.llm.openai_provider import OpenAIProvider

    return OpenAIProvider(
        model=model,
        fallback=RulesProvider(),
        api_key=api_key,
        base_url=base_url,
        mode=mode,
        timeout=timeout,
        max_retries=max_retries,
    )


def openai_provider_build():
    """The OpenAIProvider the settings describe, with the rules provider as its fallback (routing.reasoning joins
    it to the offline judge when that loads: ``OpenAIProvider.joined``).

    One per process and settings: the SDK client keeps its HTTP connections open between calls.
    """
    return _openai_provider(
        settings.LLM_MODEL,
        settings.OPENAI_API_KEY,
        settings.LLM_BASE_URL,
        settings.LLM_STRUCTURED_MODE,
        settings.LLM_TIMEOUT,
        settings.LLM_MAX_RETRIES,
    )


__all__ = [
    "Conversation",
    "Criteria",
    "DraftRequest",
    "Qualification",
    "RulesProvider",
    "openai_provider_build",
    "provider_name",
]
