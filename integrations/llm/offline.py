"""The offline judge: the trained classifier, the person's consent words and the spam signals, with no network.

It is the ``embedding`` provider (LLM_PROVIDER=embedding, and the offline default on ``auto``: README
"Reasoning" has the figures that chose it), and the evidence and fallback of the openai provider.
"""

from dataclasses import replace

from integrations.llm.base import Conversation, Criteria, DraftRequest, Qualification
from integrations.llm.classifier import IntentClassifier
from integrations.llm.embedding import vectors_memo
from integrations.llm.evidence import Evidence, evidence_gather
from integrations.llm.extract import facts_read, opt_out_answer, qualification_score
from leads.choices import NOISE_INTENTS, SALES_INTENTS


def judged(
    result: Qualification, evidence: Evidence, conversation: Conversation, *, consent_review: str = ""
) -> Qualification:
    """``result`` with what every provider adds from the evidence: the language and the offline signals.

    A message too short to tell its language ("ok", "👍") keeps the conversation's.
    """
    extra = []
    if evidence.language.code:
        extra.append(f"language {evidence.language.code}")
    if evidence.language.mixed:
        extra.append(f"mixed languages {'+'.join(evidence.language.mixed)}")
    if consent_review:
        extra.append(f"consent review: {consent_review}")
    return replace(
        result,
        language=evidence.language.code or conversation.known.get("language", ""),
        consent_review=consent_review,
        signals=(*result.signals, *extra),
    )


class EmbeddingProvider:
    """Intent by the classifier trained on the managers' examples; opt-out by words; spam signals still win."""

    name = "embedding"

    def __init__(self, embedder, classifier: IntentClassifier):
        self.embedder = embedder
        self.classifier = classifier

    @classmethod
    def from_examples(cls, embedder, examples: list[tuple[str, str]]) -> "EmbeddingProvider":
        """A provider trained on (intent, text) pairs (the bench's and the tests' way in; the pipeline's is
        routing.reasoning, which keeps the vectors on the IntentExample rows)."""
        vectors = vectors_memo.embed(embedder, [text for _, text in examples])
        rows = [(intent, text, vector, True) for (intent, text), vector in zip(examples, vectors, strict=True)]
        return cls(embedder, IntentClassifier.build(rows))

    def evidence(self, conversation: Conversation, criteria: Criteria) -> Evidence:
        return evidence_gather(conversation, criteria, classifier=self.classifier, embedder=self.embedder)

    def qualify(self, conversation: Conversation, criteria: Criteria) -> Qualification:
        facts = facts_read(conversation, criteria)
        evidence = self.evidence(conversation, criteria)
        opted_out = opt_out_answer(conversation, facts, criteria, self.name)
        if opted_out is not None:
            return judged(opted_out, evidence, conversation)
        if not evidence.words:
            # Empty, emoji or digits only: nothing to judge by, so a person reads it (low confidence escalates).
            intent, confidence = conversation.intent_before or "other", 0.3
            why = "No words to judge by (empty, emoji or numbers only)"
        else:
            (intent, best), (runner_up, second) = evidence.ranked[0], evidence.ranked[1]
            why = f"Classified {intent.replace('_', ' ')} (p={best:.2f}, next {runner_up} {second:.2f})"
            # What the pipeline acts on is the group (a buyer, noise): its probability is the confidence.
            group = next((g for g in (SALES_INTENTS, NOISE_INTENTS) if intent in g), {intent})
            confidence = max(0.3, min(0.95, sum(p for i, p in evidence.ranked if i in group)))
            before = conversation.intent_before
            # A short reply in a sales conversation ("78704, by March") reads like nothing on its own.
            if before in SALES_INTENTS and intent not in NOISE_INTENTS | {"complaint", "existing_customer"}:
                intent, why = before, f"A reply in the same {before.replace('_', ' ')} conversation"
        result = qualification_score(
            intent=intent, facts=facts, criteria=criteria, confidence=confidence, provider=self.name, why=why
        )
        return judged(result, evidence, conversation)

    def draft(self, request: DraftRequest) -> str | None:
        """A classifier does not write. The template's text stands."""
        return None
