"""The pipeline's reasoning inputs: the active criteria, the configured provider, a lead's conversation.

The embedding provider's centroids are built from IntentExample rows; each example's vector is
computed once and stored, and the centroids are a ``config.versions.Snapshot``, rebuilt when an
example is saved or deleted.
"""

import logging

from django.conf import settings

from config.versions import SETTINGS_KEY, Snapshot
from integrations.llm import Conversation, Criteria, RulesProvider, openai_provider_build, provider_name
from leads.choices import NOISE_INTENTS
from leads.models import InboundEvent, Lead
from routing.models import IntentExample, QualificationCriteria
from routing.selectors import criteria_get_active

logger = logging.getLogger(__name__)

EXAMPLES_VERSION_KEY = "reasoning:examples-version"
HISTORY_MESSAGES = 5


def _criteria_build() -> Criteria:
    row = criteria_get_active()
    return row.as_criteria() if row is not None else Criteria()


_criteria = Snapshot(SETTINGS_KEY, _criteria_build, (QualificationCriteria,))


def criteria_active() -> Criteria:
    """The active QualificationCriteria row as plain data (defaults when none is set up)."""
    return _criteria.get()


def embedder():
    """The embedding model named by settings (the packaged all-MiniLM-L6-v2 int8 by default)."""
    from integrations.llm import embedding

    return embedding.embedder_get(
        settings.LLM_EMBEDDING_MODEL_PATH or embedding.default_model_path(),
        settings.LLM_EMBEDDING_TOKENIZER_PATH or embedding.default_tokenizer_path(),
    )


def _centroids_build():
    import numpy as np

    from integrations.llm.embedding import Centroids

    model = embedder()
    rows = list(IntentExample.objects.only("id", "intent", "text", "vector"))
    todo = [row for row in rows if not row.vector]
    for start in range(0, len(todo), 64):
        batch = todo[start : start + 64]
        for row, vector in zip(batch, model.embed([r.text for r in batch]), strict=True):
            row.vector = vector.tobytes()
            # update(), not save(): storing a vector must not bump the version being built.
            IntentExample.objects.filter(pk=row.pk, text=row.text).update(vector=row.vector)
    return Centroids.build([(row.intent, np.frombuffer(bytes(row.vector), dtype=np.float32)) for row in rows])


_centroids = Snapshot(EXAMPLES_VERSION_KEY, _centroids_build, (IntentExample,))


def intent_centroids():
    """Centroids over every IntentExample; vectors missing from rows are computed now and stored."""
    return _centroids.get()


def provider_get():
    """The configured reasoning provider; an embedding provider that can't load falls back to rules, loudly."""
    name = provider_name()
    if name == "openai":
        return openai_provider_build()
    if name == "embedding":
        from integrations.llm.embedding import EmbeddingProvider, ModelUnavailable

        try:
            return EmbeddingProvider(embedder(), intent_centroids())
        except ModelUnavailable as exc:
            logger.error("llm.embedding_unavailable", extra={"error": str(exc)})
            return RulesProvider()
    return RulesProvider()


def conversation_for(lead: Lead, *, message: str, channel: str, event: InboundEvent | None = None) -> Conversation:
    """The lead's own conversation up to ``event`` (or now): earlier inbound messages and the facts learned so far."""
    earlier: list[str] = []
    if lead.pk is not None:
        events = lead.events.exclude(message="")
        if event is not None:
            events = events.filter(received_at__lte=event.received_at).exclude(pk=event.pk)
        earlier = list(events.order_by("-received_at", "-id").values_list("message", flat=True)[:HISTORY_MESSAGES])
    previous = lead.qualification or {}
    intent_before = previous.get("intent", "")
    known = {k: previous[k] for k in ("budget_amount", "budget_text", "timeline") if previous.get(k)}
    return Conversation(
        message=message,
        history=tuple(reversed(earlier)),
        postal_code=lead.postal_code,
        channel=channel,
        reachable=bool(lead.phone or lead.email),
        known=known,
        intent_before="" if intent_before in NOISE_INTENTS else intent_before,
    )
