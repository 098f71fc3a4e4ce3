"""The pipeline's reasoning inputs: the active criteria and label definitions, the configured provider, a lead's
conversation.

The offline judge's classifier is trained on IntentExample rows; each example's vector is computed
once per embedding model and stored, and the classifier is a ``config.versions.Snapshot``, retrained
when an example is saved or deleted.
"""

import logging
from dataclasses import replace

from django.conf import settings

from config.versions import SETTINGS_KEY, Snapshot
from integrations.llm import Conversation, Criteria, RulesProvider, openai_provider_build, provider_name
from leads.choices import NOISE_INTENTS
from leads.models import InboundEvent, Lead
from routing.models import IntentExample, LabelDefinition, QualificationCriteria
from routing.selectors import criteria_get_active

logger = logging.getLogger(__name__)

EXAMPLES_VERSION_KEY = "reasoning:examples-version"
HISTORY_MESSAGES = 5


def _criteria_build() -> Criteria:
    row = criteria_get_active()
    criteria = row.as_criteria() if row is not None else Criteria()
    definitions = tuple(LabelDefinition.objects.values_list("intent", "definition"))
    return replace(criteria, label_definitions=tuple((i, d.strip()) for i, d in definitions if d.strip()))


_criteria = Snapshot(SETTINGS_KEY, _criteria_build, (QualificationCriteria, LabelDefinition))


def criteria_active() -> Criteria:
    """The active QualificationCriteria row and the label definitions as plain data (defaults when none)."""
    return _criteria.get()


def embedder():
    """The embedding model named by settings: the multilingual model unless LLM_EMBEDDING_MODEL_PATH names one."""
    from integrations.llm import embedding

    return embedding.embedder_get(settings.LLM_EMBEDDING_MODEL_PATH, settings.LLM_EMBEDDING_TOKENIZER_PATH)


def _classifier_build():
    import numpy as np

    from integrations.llm.classifier import IntentClassifier
    from integrations.llm.embedding import vectors_memo

    model = embedder()
    rows = list(IntentExample.objects.only("id", "intent", "text", "vector", "vector_model", "lead_id", "source"))
    todo = [row for row in rows if not row.vector or row.vector_model != model.name]
    for row, vector in zip(todo, vectors_memo.embed(model, [r.text for r in todo]), strict=True):
        row.vector, row.vector_model = vector.tobytes(), model.name
        # update(), not save(): storing a vector must not bump the version being built.
        IntentExample.objects.filter(pk=row.pk, text=row.text).update(vector=row.vector, vector_model=model.name)
    return IntentClassifier.build(
        [
            (
                row.intent,
                row.text,
                np.frombuffer(bytes(row.vector), dtype=np.float32),
                # A rep's correction is a lead's own words: it trains the classifier but is never sent to a model.
                row.lead_id is None and row.source != IntentExample.Source.CORRECTION,
            )
            for row in rows
        ]
    )


_classifier = Snapshot(EXAMPLES_VERSION_KEY, _classifier_build, (IntentExample,))


def intent_classifier():
    """The classifier over every IntentExample; vectors missing from rows (or another model's) are computed now."""
    return _classifier.get()


def offline_provider():
    """The offline judge (the embedding provider); the rules provider, loudly, when its model can't load."""
    from integrations.llm.embedding import ModelUnavailable
    from integrations.llm.offline import EmbeddingProvider

    try:
        return EmbeddingProvider(embedder(), intent_classifier())
    except ModelUnavailable as exc:
        logger.error("llm.embedding_unavailable", extra={"error": str(exc)})
        return RulesProvider()


def provider_get():
    """The configured reasoning provider. The openai provider is given the offline judge as its evidence and
    fallback; an offline judge that can't load leaves the rules provider in its place."""
    name = provider_name()
    if name == "openai":
        return openai_provider_build().joined(offline_provider())
    if name == "embedding":
        return offline_provider()
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
    known = {k: previous[k] for k in ("budget_amount", "budget_text", "timeline", "language") if previous.get(k)}
    if lead.language:
        known.setdefault("language", lead.language)
    return Conversation(
        message=message,
        history=tuple(reversed(earlier)),
        postal_code=lead.postal_code,
        channel=channel,
        reachable=bool(lead.phone or lead.email),
        known=known,
        intent_before="" if intent_before in NOISE_INTENTS else intent_before,
    )
