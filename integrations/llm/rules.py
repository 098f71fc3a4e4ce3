"""Deterministic, offline qualification: keywords and patterns. The fallback of last resort."""

import re

from integrations.llm.base import NOISE_INTENTS, Criteria, Qualification

# Ordered: the first intent whose pattern matches wins, so opt-outs and noise are checked first.
INTENT_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (intent, re.compile(pattern, re.IGNORECASE))
    for intent, pattern in (
        ("opt_out", r"^\s*(stop|stopall|unsubscribe|cancel|end|quit)\s*$|\b(remove me|do not (contact|text))\b"),
        ("spam", r"\b(viagra|casino|crypto|bitcoin|forex|backlinks?|guaranteed (ranking|traffic)|click here)\b"),
        ("vendor_pitch", r"\b(seo services|our agency|we offer|lead generation services|partnership opportunit)"),
        ("job_seeker", r"\b(hiring|job opening|my resume|cv attached|apply for|looking for (a )?(job|work))\b"),
        ("complaint", r"\b(complain|complaint|unhappy|terrible|refund|still (broken|leaking))\b"),
        ("existing_customer", r"\b(my (invoice|account|order)|last (job|visit)|you (did|installed|fixed))\b"),
        ("appointment", r"\b(appointment|schedule|book(ing)?|come (out|by)|site visit|available (on|this))\b"),
        ("quote_request", r"\b(quote|estimate|pricing|price|how much|cost)\b"),
        ("new_project", r"\b(need|looking for|want|interested in|replace|install|repair|buy|sell|project)\b"),
        ("question", r"\?"),
    )
)
URGENT = re.compile(r"\b(asap|urgent|emergency|today|right away|immediately|leak(ing)?)\b", re.IGNORECASE)
MONEY = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(k)?\b|\b(\d+(?:\.\d+)?)\s?(k)\b", re.IGNORECASE)
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


def _budget(text: str) -> tuple[float | None, str]:
    match = MONEY.search(text)
    if not match:
        return None, ""
    digits = (match.group(1) or match.group(3)).replace(",", "")
    thousands = match.group(2) or match.group(4)
    return float(digits) * (1000 if thousands else 1), match.group(0).strip()


class RulesProvider:
    """Qualifies by keywords, money patterns and the manager's criteria; same input, same answer."""

    name = "rules"

    def qualify(self, *, message: str, postal_code: str, criteria: Criteria) -> Qualification:
        text = message or ""
        lowered = text.lower()
        signals: list[str] = []
        intent = next((name for name, pattern in INTENT_PATTERNS if pattern.search(text)), "other")
        if intent not in ("spam", "opt_out") and len(LINK.findall(text)) >= 2:
            intent = "spam"
            signals.append("several links")
        signals.append(f"intent {intent}")

        disqualifier = next((d for d in criteria.disqualifiers if d in lowered), None)
        service = next((s for s in criteria.services if s in lowered), None)
        in_area = None
        if criteria.service_area and postal_code:
            in_area = any(postal_code.upper().startswith(p.upper()) for p in criteria.service_area)
        budget_amount, budget_text = _budget(text)
        urgency = "high" if URGENT.search(text) else "normal"

        if intent in NOISE_INTENTS or disqualifier:
            score = 0
        else:
            score = 35
            score += 20 if intent in ("quote_request", "appointment", "new_project") else 0
            score += 20 if service else 0
            score += 10 if budget_amount else 0
            score += 10 if urgency == "high" else 0
            score += {True: 5, False: -30, None: 0}[in_area]
            score = max(0, min(100, score))
        if service:
            signals.append(f"asks for '{service}'")
        if disqualifier:
            signals.append(f"disqualifier '{disqualifier}'")
        if in_area is False:
            signals.append(f"postal code {postal_code} outside the service area")
        if budget_text:
            signals.append(f"budget {budget_text}")
        if urgency == "high":
            signals.append("urgent wording")

        missing = tuple(
            name
            for name, absent in (("budget", budget_amount is None), ("postal_code", not postal_code))
            if absent and intent not in NOISE_INTENTS
        )
        fit = False if (disqualifier or in_area is False) else (True if service else None)
        qualified = score >= criteria.qualify_threshold
        # Confidence grows with how many independent signals agree; keyword matching is never certain.
        confidence = round(min(0.9, 0.4 + 0.1 * (len(signals) - 1) + (0.2 if intent in NOISE_INTENTS else 0)), 2)
        verdict = "qualified" if qualified else "not qualified"
        reasoning = f"Looks like {intent.replace('_', ' ')} ({', '.join(signals[1:]) or 'few signals'}); "
        reasoning += f"score {score} vs threshold {criteria.qualify_threshold}: {verdict}."
        return Qualification(
            intent=intent,
            score=score,
            confidence=confidence,
            qualified=qualified,
            reasoning=reasoning,
            urgency=urgency,
            budget_amount=budget_amount,
            budget_text=budget_text,
            fit=fit,
            missing=missing,
            provider=self.name,
            signals=tuple(signals),
        )
