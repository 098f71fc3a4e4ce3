"""The shapes every reasoning provider shares: criteria in, a Qualification out, whatever the model."""

from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from pydantic import BaseModel, Field

# The intent vocabulary is the leads' (leads.choices); every provider answers in it.
from leads.choices import INTENTS

FACTS = ("budget", "postal_code", "timeline")

Intent = Literal[INTENTS]  # the same list, as the type a model's answer must fit


class Status:
    QUALIFIED = "qualified"
    CLARIFY = "needs_clarification"
    UNQUALIFIED = "unqualified"
    SPAM = "spam"


@dataclass(frozen=True)
class BudgetBand:
    name: str
    low: float
    high: float | None  # None: open-ended


@dataclass(frozen=True)
class Criteria:
    """The manager's qualification criteria, as plain data every provider reads."""

    services: tuple[str, ...] = ()
    service_area: tuple[str, ...] = ()
    disqualifiers: tuple[str, ...] = ()
    # Extra phrases per intent, on top of the built-in patterns ("quote_request": ("bid", "ballpark")).
    intent_phrases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    budget_bands: tuple[BudgetBand, ...] = ()
    required_facts: tuple[str, ...] = ()
    weight_intent: int = 20
    weight_service: int = 20
    weight_budget: int = 10
    weight_timeline: int = 5
    weight_urgency: int = 10
    weight_area: int = 5
    base_score: int = 35
    qualify_threshold: int = 50
    clarify_threshold: int = 30
    spam_threshold: int = 60
    max_questions: int = 3
    voice: str = ""
    # What each intent means, in the manager's words (LabelDefinition rows): (intent, definition) pairs.
    label_definitions: tuple[tuple[str, str], ...] = ()

    def band_for(self, amount: float | None) -> str:
        if amount is None:
            return ""
        for band in self.budget_bands:
            if amount >= band.low and (band.high is None or amount < band.high):
                return band.name
        return ""


@dataclass(frozen=True)
class Conversation:
    """What a provider may see: this lead's own messages and facts, nothing of any other lead."""

    message: str
    history: tuple[str, ...] = ()  # earlier inbound messages of the same lead, oldest first
    postal_code: str = ""
    channel: str = ""
    reachable: bool = True  # the person left a phone or an email
    known: dict = field(default_factory=dict)  # facts learned: budget_amount, budget_text, timeline, language
    intent_before: str = ""  # the conversation's intent so far, if any


@dataclass(frozen=True)
class Qualification:
    """What reasoning says about one inbound message: a fixed schema, whatever the provider."""

    intent: str
    score: int
    confidence: float
    status: str
    reasoning: str
    urgency: str = "normal"
    budget_amount: float | None = None
    budget_band: str = ""
    budget_text: str = ""
    timeline: str = ""
    postal_code: str = ""
    fit: bool | None = None
    missing: tuple[str, ...] = ()
    provider: str = "rules"
    signals: tuple[str, ...] = ()
    # Set when another provider had to answer: why ("openai failed: timeout; the rules provider answered").
    fallback: str = ""
    model: str = ""
    usage: dict = field(default_factory=dict)
    # The lead's language as read from this message ("en", "es", "fr", "de"; "" when it can't tell).
    language: str = ""
    # Set when a person must weigh consent before anything is sent (a model read an opt-out the words don't say).
    consent_review: str = ""

    @property
    def qualified(self) -> bool:
        return self.status == Status.QUALIFIED

    def with_fallback(self, reason: str) -> "Qualification":
        return replace(self, fallback=reason, reasoning=f"{self.reasoning} ({reason})")

    def as_dict(self) -> dict:
        return {
            "intent": self.intent,
            "score": self.score,
            "confidence": self.confidence,
            "status": self.status,
            "qualified": self.qualified,
            "reasoning": self.reasoning,
            "urgency": self.urgency,
            "budget_amount": self.budget_amount,
            "budget_band": self.budget_band,
            "budget_text": self.budget_text,
            "timeline": self.timeline,
            "postal_code": self.postal_code,
            "fit": self.fit,
            "missing": list(self.missing),
            "provider": self.provider,
            "signals": list(self.signals),
            "fallback": self.fallback,
            "model": self.model,
            "usage": self.usage,
            "language": self.language,
            "consent_review": self.consent_review,
        }


@dataclass(frozen=True)
class DraftRequest:
    """A template's rendered text and what the provider may use to rewrite it within its intent."""

    text: str
    channel: str
    purpose: str
    rep_name: str
    business_name: str
    voice: str = ""
    conversation: tuple[str, ...] = ()
    # A person's wish for this rewrite (from the portal's Regenerate), trusted unlike the inbound text.
    instruction: str = ""
    # The lead's language ("es"): the rewrite is written in it, and a rewrite in another language is dropped.
    language: str = ""
    # The longest text the channel takes (an SMS: the GSM-7 characters its segment limit holds); None: no limit.
    max_characters: int | None = None


class QualificationAnswer(BaseModel):
    """The JSON a model must answer when qualifying; anything else is refused and retried once."""

    intent: Intent
    urgency: Literal["low", "normal", "high"] = "normal"
    budget_amount: float | None = Field(default=None, ge=0)
    budget_text: str = Field(default="", max_length=200)
    timeline: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20)
    service: str = Field(default="", max_length=100)
    spam_signals: list[str] = Field(default_factory=list, max_length=10)
    confidence: float = Field(ge=0, le=1)
    reasoning: str = Field(min_length=1, max_length=500)


class DraftAnswer(BaseModel):
    """The JSON a model must answer when rewriting a draft."""

    body: str = Field(min_length=1, max_length=2000)


class Provider(Protocol):
    name: str

    def qualify(self, conversation: Conversation, criteria: Criteria) -> Qualification: ...

    def draft(self, request: DraftRequest) -> str | None: ...
