"""The model behind the pipeline's judgement: openai (any compatible server), embedding (offline) or rules."""

from django.conf import settings

from integrations.llm.base import Conversation, Criteria, DraftRequest, Qualification
from integrations.llm.rules import RulesProvider

PROVIDERS = ("rules", "embedding", "openai")


def provider_name() -> str:
    """The configured provider: LLM_PROVIDER, or on ``auto`` openai when a key or base URL is set, else rules."""
    name = settings.LLM_PROVIDER
    if name == "auto":
        return "openai" if (settings.OPENAI_API_KEY or settings.LLM_BASE_URL) else "rules"
    return name


def openai_provider_build(fallback=None, http_client=None):
    """An OpenAIProvider from settings; ``fallback`` answers when the model can't (the rules provider by default)."""
    from integrations.llm.openai_provider import OpenAIProvider

    return OpenAIProvider(
        model=settings.LLM_MODEL,
        fallback=fallback or RulesProvider(),
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.LLM_BASE_URL,
        mode=settings.LLM_STRUCTURED_MODE,
        timeout=settings.LLM_TIMEOUT,
        max_retries=settings.LLM_MAX_RETRIES,
        http_client=http_client,
    )


__all__ = [
    "PROVIDERS",
    "Conversation",
    "Criteria",
    "DraftRequest",
    "Qualification",
    "RulesProvider",
    "openai_provider_build",
    "provider_name",
]
