"""What the offline readers say about a message, gathered once: the facts a model is given, and the rule that
lets a model add to them but never throw them away.

The readers: the person's consent words (leads.consent_words), the language (integrations.llm.language),
spam signals (links, spam phrasing, gibberish), the keyword rules' hit, and the trained classifier's
ranking with the nearest labeled examples. Each is cheap (a few ms together) and runs whichever provider
answers.
"""

from dataclasses import dataclass

from integrations.llm.base import Conversation, Criteria
from integrations.llm.classifier import IntentClassifier, Neighbour
from integrations.llm.extract import WORD, own_words, spam_signals
from integrations.llm.language import LanguageReading, language_detect
from integrations.llm.rules import rules_intent
from leads.choices import NOISE_INTENTS, SALES_INTENTS
from leads.consent_words import ConsentReading, consent_reading

# A classifier this sure of noise (spam, vendor and job seeker together) is not overruled by a model. Measured by
# 5-fold cross-validation on the train split (vectors and character n-grams): 72 of 341 messages reached 0.6, and
# all 72 were noise (at 0.5: 90, of which 1 was a person).
SURE_NOISE = 0.6
NOISE = NOISE_INTENTS - {"opt_out"}


@dataclass(frozen=True)
class Evidence:
    """The offline readers' findings on one message; ``ranked`` and ``neighbours`` are empty without a classifier."""

    language: LanguageReading
    consent: ConsentReading
    spam_score: int
    spam_signals: tuple[str, ...]
    rules_intent: str
    rules_because: str
    words: int
    ranked: tuple[tuple[str, float], ...] = ()
    neighbours: tuple[Neighbour, ...] = ()

    @property
    def best(self) -> tuple[str, float]:
        """The offline intent and how sure: the classifier's first choice, else the rules' (never opt_out)."""
        if self.ranked:
            return self.ranked[0]
        return (self.rules_intent if self.rules_intent != "opt_out" else "other"), 0.5

    @property
    def noise_probability(self) -> float:
        """The classifier's probability that the message is noise (spam, vendor, job seeker), 0 without one."""
        return sum(p for intent, p in self.ranked if intent in NOISE)

    @property
    def sure_noise(self) -> str:
        """The noise intent the classifier is sure of (its likeliest one), or ""."""
        if self.noise_probability < SURE_NOISE:
            return ""
        return next(intent for intent, _ in self.ranked if intent in NOISE)

    def facts(self) -> dict:
        """The findings as the JSON a model is given (plain values; no other lead's words)."""
        return {
            "language": self.language.code or "unknown",
            "languages_mixed": list(self.language.mixed),
            "consent_words": f"{self.consent.kind}: {self.consent.words}" if self.consent.kind else "none",
            "spam_signals": list(self.spam_signals),
            "keyword_rules": f"{self.rules_intent} ({self.rules_because})",
            "classifier": [[intent, round(p, 2)] for intent, p in self.ranked[:3]],
        }


def evidence_gather(
    conversation: Conversation, criteria: Criteria, *, classifier: IntentClassifier | None = None, embedder=None
) -> Evidence:
    """Every offline reader's answer on ``conversation.message``. The classifier needs its ``embedder``."""
    text = conversation.message
    score, signals = spam_signals(conversation)
    rules, because = rules_intent(conversation, criteria)
    words = len(WORD.findall(text))
    ranked: tuple = ()
    neighbours: tuple = ()
    if classifier is not None and words:
        words_own = own_words(text)
        vector = embedder.embed([words_own])[0]
        ranked = tuple(classifier.rank(vector, words_own))
        neighbours = tuple(classifier.neighbours(vector))
    return Evidence(
        language=language_detect(own_words(text)),
        consent=consent_reading(text),
        spam_score=score,
        spam_signals=tuple(signals),
        rules_intent=rules,
        rules_because=because,
        words=words,
        ranked=ranked,
        neighbours=neighbours,
    )


@dataclass(frozen=True)
class Judgement:
    intent: str
    confidence: float
    why: str
    # Why a person must weigh consent before anything is sent ("" when nothing to weigh).
    consent_review: str = ""


def judgement_combine(*, intent: str, confidence: float, why: str, evidence: Evidence) -> Judgement:
    """A model's answer joined to the offline evidence: the model adds, it does not take away.

    - Opt-out is the person's words' alone: a model's opt-out on words that do not say it keeps the offline
      intent, holds consent for a person, and is not sure (DESIGN "A model's guess alone never opts anyone out").
    - Noise the classifier is sure of (SURE_NOISE) stays noise when a model calls it a buyer: vendors dressed as
      quote requests were the model's commonest mistake (README "Reasoning").
    - Spam signals over the threshold still make spam (the shared scorer, integrations.llm.extract).
    - Otherwise the model's answer stands, and where it differs from the offline one the reasoning says so.
    """
    offline, sure = evidence.best
    if intent == "opt_out" and evidence.consent.kind != "opt_out":
        review = "the model read an opt-out in words that do not say so; a person decides"
        return Judgement(offline, min(confidence, 0.4), f"{why}; {review}, offline reading {offline}", review)
    noise = evidence.sure_noise
    if noise and intent not in NOISE_INTENTS:
        sure = evidence.noise_probability
        return Judgement(noise, sure, f"Offline evidence: {noise} (noise p={sure:.2f}); the model said {intent}: {why}")
    if evidence.ranked and offline != intent and (intent in SALES_INTENTS) != (offline in SALES_INTENTS):
        why = f"{why} (offline: {offline} p={sure:.2f})"
    return Judgement(intent, confidence, why)
