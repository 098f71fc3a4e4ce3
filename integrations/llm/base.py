from dataclasses import dataclass, field

INTENTS = (
    "new_project",
    "quote_request",
    "appointment",
    "question",
    "existing_customer",
    "complaint",
    "job_seeker",
    "vendor_pitch",
    "spam",
    "opt_out",
    "other",
)
# Intents that never reach a rep's queue.
NOISE_INTENTS = frozenset({"spam", "job_seeker", "vendor_pitch", "opt_out"})


@dataclass(frozen=True)
class Criteria:
    """The manager's qualification criteria, as plain data the providers read."""

    services: tuple[str, ...] = ()
    service_area: tuple[str, ...] = ()
    disqualifiers: tuple[str, ...] = ()
    qualify_threshold: int = 50


@dataclass(frozen=True)
class Qualification:
    """What reasoning says about one inbound message: a fixed schema, whatever the provider."""

    intent: str
    score: int
    confidence: float
    qualified: bool
    reasoning: str
    urgency: str = "normal"
    budget_amount: float | None = None
    budget_text: str = ""
    fit: bool | None = None
    missing: tuple[str, ...] = ()
    provider: str = "rules"
    signals: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {
            "intent": self.intent,
            "score": self.score,
            "confidence": self.confidence,
            "qualified": self.qualified,
            "reasoning": self.reasoning,
            "urgency": self.urgency,
            "budget_amount": self.budget_amount,
            "budget_text": self.budget_text,
            "fit": self.fit,
            "missing": list(self.missing),
            "provider": self.provider,
            "signals": list(self.signals),
        }
