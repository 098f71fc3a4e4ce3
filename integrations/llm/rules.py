"""Deterministic, offline qualification by keywords and patterns: the baseline and the fallback of last resort."""

import re
from dataclasses import replace
from functools import lru_cache

from integrations.llm.base import Conversation, Criteria, DraftRequest, Qualification
from integrations.llm.extract import facts_read, qualification_score
from integrations.llm.language import language_detect
from leads.choices import NOISE_INTENTS
from leads.consent_words import consent_reading

# Ordered: the first intent whose pattern matches wins, so noise is checked before buying signals.
INTENT_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "spam",
        r"\b(viagra|casino|free spins|crypto|bitcoin|forex|backlinks|guaranteed ranking|click here|you have won|"
        r"hot singles|verify your password|prince)\b",
    ),
    (
        "vendor_pitch",
        r"\b(seo|our (agency|team can|virtual assistants|platform helps)|we (help|offer|supply|build|provide) "
        r"\w+|lead generation|exclusive (homeowner )?leads|partnership opportunity|page one|ranking on google|"
        r"staffing firm|processing fees|wholesale|catalog|proposal|reaching out from|i'?d love to show you|"
        r"let'?s connect|pre-vetted)\b",
    ),
    (
        "job_seeker",
        r"\b(are you hiring|hiring\?|(a|any|for) job|job (opening|posting)s?|\w+ role|resume|résumé|cv|apply for|"
        r"position|openings?|apprentice|helpers?|"
        r"looking for (work|a job|employment)|subcontractors?|busco trabajo|trabajo de|join your team|"
        r"years of \w+ experience|moving my license|can start immediately)\b",
    ),
    (
        "complaint",
        r"\b(complain(t)?|unhappy|disappointed|terrible|unacceptable|worse|money back|refund|double charged|"
        r"never (showed|arrived|called)|nobody has called|outage|is down|still (broken|leaking)|already leaking|"
        r"left nails|drips|streaks|mal servicio|no vino)\b",
    ),
    (
        "existing_customer",
        r"\b(my (invoice|account|order|subscription|records)|our (account|subscription|renewal)|the invoice|"
        r"current customer|you (did|installed|replaced|fixed) our|you did our|you installed|last (summer|year|"
        r"month|visit|job)|warranty|renewal|order number|account manager|export our data|add (two|\d+) more users|"
        r"update the credit card|tenant|lease|closed on our|your tech was here|been using your)\b",
    ),
    (
        "appointment",
        r"\b(appointment|schedule|reschedule|book(ing)?( me| a)?|come (out|by|today)|site visit|showing|tour|"
        r"demo|set up a time|available (on|this|saturday|sunday|monday|tuesday|wednesday|thursday|friday)|"
        r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)|tomorrow at|pueden venir|termin)\b",
    ),
    (
        "quote_request",
        r"\b(quote|estimate|pricing|price|how much|cost|costs|charge|bid|commission|fee|devis|cuánto|cuesta|"
        r"kostet|was kostet|presupuesto|precio|ballpark)\b",
    ),
    (
        "new_project",
        r"\b(need|needs|looking (to|for)|want|wants|interested in|replace|replacing|install|remodel|renovat|build|"
        r"buy|sell|selling|list our|relocat|planning|thinking of|evaluating|rental|necesito|request:)\w*",
    ),
    (
        "question",
        r"\?|\b(do you|are you|does your|is your|is there|hablan)\b",
    ),
)
GREETING_ONLY = re.compile(r"^\W*(thanks?( you)?|ok(ay)?|great|cool|sounds good|👍)\W*$", re.IGNORECASE)


@lru_cache(maxsize=16)
def compile_patterns(intent_phrases: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern], ...]:
    """The built-in patterns, each widened by the manager's extra phrases for that intent (compiled once per set)."""
    extra = dict(intent_phrases)
    compiled = []
    for intent, pattern in INTENT_PATTERNS:
        phrases = [re.escape(p) for p in extra.get(intent, ())]
        if phrases:
            pattern = rf"{pattern}|\b({'|'.join(phrases)})\b"
        compiled.append((intent, re.compile(pattern, re.IGNORECASE)))
    return tuple(compiled)


def rules_intent(conversation: Conversation, criteria: Criteria) -> tuple[str, str]:
    """The intent the keyword rules see, and the words that decided it."""
    text = conversation.message
    reading = consent_reading(text)
    if reading.kind == "opt_out":
        return "opt_out", f"opt-out words '{reading.words}'"
    if GREETING_ONLY.match(text):
        return "other", "a short acknowledgement"
    for intent, pattern in compile_patterns(criteria.intent_phrases):
        found = pattern.search(text)
        if found:
            # A reply inside a sales conversation ("78704, by March") keeps the conversation's intent.
            if intent in ("question", "new_project") and conversation.intent_before not in ("", *NOISE_INTENTS):
                return conversation.intent_before, "a reply in the same conversation"
            return intent, f"'{found.group(0).strip()}'"
    if conversation.intent_before and conversation.intent_before not in NOISE_INTENTS:
        return conversation.intent_before, "a reply in the same conversation"
    return "other", "no known pattern"


class RulesProvider:
    """Qualifies by keywords, money patterns and the manager's criteria; same input, same answer."""

    name = "rules"

    def qualify(self, conversation: Conversation, criteria: Criteria) -> Qualification:
        intent, because = rules_intent(conversation, criteria)
        facts = facts_read(conversation, criteria)
        agreeing = sum(bool(x) for x in (facts.service, facts.budget_amount, facts.timeline, facts.postal_code))
        # Keyword matching is never certain; it grows surer as independent facts agree.
        confidence = 0.95 if intent == "opt_out" else min(0.9, 0.45 + 0.1 * agreeing + (0.1 if "'" in because else 0))
        result = qualification_score(
            intent=intent,
            facts=facts,
            criteria=criteria,
            confidence=confidence,
            provider=self.name,
            why=f"Looks like {intent.replace('_', ' ')}: {because}",
        )
        return replace(
            result, language=language_detect(conversation.message).code or conversation.known.get("language", "")
        )

    def draft(self, request: DraftRequest) -> str | None:
        """The rules provider keeps the manager's template text as written."""
        return None
