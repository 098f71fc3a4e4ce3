"""Parsing the manager's criteria text (intent phrases, budget bands, required facts); errors name the line."""

import re

from integrations.llm.base import FACTS, BudgetBand, Criteria
from leads.choices import INTENTS

__all__ = ["INTENTS", "Criteria", "budget_bands_parse", "intent_phrases_parse", "required_facts_parse"]

BAND = re.compile(r"^(?P<name>[\w -]+?)\s*:\s*(?P<low>\d[\d,]*)\s*(?:(?P<plus>\+)|-\s*(?P<high>\d[\d,]*))$")


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate((text or "").splitlines(), start=1) if line.strip()]


def intent_phrases_parse(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``quote_request: bid, ballpark`` lines → ((intent, phrases), ...); raises ValueError naming the line."""
    parsed = []
    for number, line in _lines(text):
        intent, colon, phrases = line.partition(":")
        intent = intent.strip().lower()
        if not colon or intent not in INTENTS:
            raise ValueError(f"Line {number}: start with an intent and a colon, one of {', '.join(INTENTS)}.")
        words = tuple(p.strip().lower() for p in phrases.split(",") if p.strip())
        if not words:
            raise ValueError(f"Line {number}: name at least one phrase after '{intent}:'.")
        parsed.append((intent, words))
    return tuple(parsed)


def budget_bands_parse(text: str) -> tuple[BudgetBand, ...]:
    """``small: 0-5000`` / ``large: 20000+`` lines → bands, in order; overlapping or reversed bands are refused."""
    bands = []
    for number, line in _lines(text):
        match = BAND.match(line)
        if not match:
            raise ValueError(f"Line {number}: write a band as 'name: 0-5000' or 'name: 20000+'.")
        low = float(match["low"].replace(",", ""))
        high = None if match["plus"] else float(match["high"].replace(",", ""))
        if high is not None and high <= low:
            raise ValueError(f"Line {number}: the upper bound must be above the lower one.")
        if bands and (bands[-1].high is None or low < bands[-1].high):
            raise ValueError(f"Line {number}: bands must be in increasing order without overlapping.")
        bands.append(BudgetBand(match["name"].strip(), low, high))
    return tuple(bands)


def required_facts_parse(text: str) -> tuple[str, ...]:
    """``budget, postal_code`` → ('budget', 'postal_code'); unknown facts are refused."""
    facts = tuple(part.strip().lower() for part in (text or "").replace("\n", ",").split(",") if part.strip())
    unknown = [f for f in facts if f not in FACTS]
    if unknown:
        raise ValueError(f"Unknown fact {unknown[0]!r}; use any of: {', '.join(FACTS)}.")
    return facts
