"""Which language a lead writes in: the language of the first answer and of the model's rewrite.

py3langid (a maintained fork of langid.py: a naive Bayes model over byte n-grams, 4 MB, offline, ~1 ms a
message) restricted to the languages the product answers in. A message too short or too plain to tell
("ok", an emoji) reads as "" (unknown), and the caller keeps the conversation's language or the business's.
"""

import re
from dataclasses import dataclass
from functools import cache

from leads.choices import Language
from leads.consent_words import consent_reading

# The languages intents, opt-outs and answers are handled in; each needs its consent words (leads.consent_words).
LANGUAGES = dict(Language.choices)
# Below this (normalised) probability the detector is guessing: four languages make 0.25 a coin toss.
SURE = 0.7
# A clause takes part in "mixed" only when it is long enough to carry its own language.
CLAUSE_WORDS = 4
READ_CHARS = 1000
_CLAUSE = re.compile(r"[.!?;:\n—–]+|\s-\s")
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class LanguageReading:
    """``code``: "en" | "es" | "fr" | "de" | "" (can't tell); ``mixed``: every language of a mixed message."""

    code: str
    confidence: float
    mixed: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return LANGUAGES.get(self.code, "")


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def _classify(text: str) -> tuple[str, float]:
    code, probability = _identifier().classify(text)
    return code, float(probability)


def language_detect(text: str) -> LanguageReading:
    """The language of ``text`` (an inbound message), and each language when its clauses differ.

    A lone consent keyword ("Stopp", "BAJA") is too short for n-grams; its language comes from the consent
    words, which know it. Returns ``LanguageReading("", 0.0)`` when the text can't tell.
    """
    text = (text or "").strip()
    if len(_WORD.findall(text)) == 0:
        return LanguageReading("", 0.0)
    keyword = consent_reading(text)
    if keyword.how == "keyword" and keyword.language in LANGUAGES:
        return LanguageReading(keyword.language, 0.9)
    # The opening says it: a long email's quoted history and signature would only cost time.
    text = text[:READ_CHARS]
    code, probability = _classify(text)
    clauses = [c for c in _CLAUSE.split(text) if len(_WORD.findall(c)) >= CLAUSE_WORDS]
    seen = []
    for clause in clauses if len(clauses) > 1 else ():
        clause_code, clause_probability = _classify(clause)
        if clause_probability >= 0.9 and clause_code not in seen:
            seen.append(clause_code)
    mixed = tuple(seen) if len(seen) > 1 else ()
    if probability < SURE:
        return LanguageReading("", round(probability, 2), mixed)
    return LanguageReading(code, round(probability, 2), mixed)
