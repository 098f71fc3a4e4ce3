"""The model behind the pipeline's judgement. Offline, the rules provider answers."""

from integrations.llm.base import Criteria, Qualification
from integrations.llm.rules import RulesProvider


def get_provider() -> RulesProvider:
    """The configured reasoning provider (only the rules provider until an LLM provider is configured)."""
    return RulesProvider()


__all__ = ["Criteria", "Qualification", "RulesProvider", "get_provider"]
