"""Facts every provider reads the same way (money, timeline, urgency, spam signals), and the shared scorer.

The model, the embedding classifier and the keyword rules differ in how they find the intent;
the score, the status and the missing facts come from the manager's criteria here, so the same
thresholds mean the same thing whichever provider answered.
"""

import re
from dataclasses import dataclass

from integrations.llm.base import Conversation, Criteria, Qualification, Status
from leads.choices import NOISE_INTENTS, SALES_INTENTS
from leads.consent_words import consent_reading

_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
MONEY = re.compile(
    rf"(?:\$|usd\s?|€|£)\s?(?P<a>{_AMOUNT})\s?(?P<ak>k|m)?\b(?:\s?(?:-|to|–)\s?\$?\s?(?P<b>{_AMOUNT})\s?(?P<bk>k|m)?\b)?"
    rf"|\b(?P<c>{_AMOUNT})\s?(?P<ck>k|m)?\s?(?:-|to|–)\s?(?P<d>{_AMOUNT})\s?(?P<dk>k|m)\b"
    rf"|\b(?P<e>{_AMOUNT})\s?(?P<ek>k)\b"
    rf"|\b(?:budget|pre-?approved)\D{{0,20}}(?P<f>{_AMOUNT})\s?(?P<fk>k|m)?\b",
    re.IGNORECASE,
)
TIMELINE = re.compile(
    r"\b(asap|today|tonight|tomorrow|this (week|weekend|month|spring|summer|fall|winter|year)|next (week|month|year|"
    r"spring|summer|fall|winter)|within \d+ (days?|weeks?|months?)|in \d+ (days?|weeks?|months?)|before (winter|summer|"
    r"spring|fall|christmas|the holidays)|by (january|february|march|april|may|june|july|august|september|october|"
    r"november|december)|(in|starting|by) (january|february|march|april|may|june|july|august|september|october|"
    r"november|december)|q[1-4]|immediately|right away|urgent(ly)?|couple of (weeks|months)|no rush)\b",
    re.IGNORECASE,
)
URGENT = re.compile(
    r"\b(asap|urgent(ly)?|emergency|today|tonight|right away|immediately|flood(ed|ing)?|leak(ing|s)?|no heat|"
    r"quit|burst)\b",
    re.IGNORECASE,
)
POSTAL = re.compile(r"\b\d{5}(?:-\d{4})?\b")
LINK = re.compile(r"https?://|www\.|\.(ru|xyz|top|click)\b", re.IGNORECASE)
SPAM_PHRASES = re.compile(
    r"\b(viagra|cialis|casino|free spins|crypto|bitcoin|forex|backlinks?|guaranteed ranking|click here|"
    r"you have won|claim (your|now)|gift card|hot singles|verify your (password|account)|account (has been )?suspended|"
    r"prince|wire transfer|transfer \$|earn \$?\d+ a (day|week)|work from home)\b",
    re.IGNORECASE,
)
# The scams that reach a small business's inbox in every language (the FTC's and Europol's lists of common frauds:
# prizes, inheritances, overpayment cheques, locked accounts, parcels, fake invoices, robocalls, grants, "widows").
SCAM_PHRASES = re.compile(
    r"\b("
    # prizes and grants
    r"you('ve| have) (been selected|won)|(selected|approved) for a \$?[\d,.]+ (small business )?grant|government grant|"
    r"ganaste|ha ganado|has ganado|ganó (un|una|el)|premio gratis|vous avez (gagné|été sélectionné)|"
    r"sie haben [\d.,]+ ?(€|euro)? ?gewonnen|gewinn sichern|réclamez|reclámalo|"
    # inheritances, next of kin, donations
    r"(inheritance|estate) of \$?[\d.,]+|next of kin|dear beneficiary|herencia de|ha heredado|usted ha heredado|"
    r"héritage de|erbschaft (von|in höhe)|donate \$[\d.,]+ ?m?|widow suffering|terminal illness|"
    # overpayment cheques
    r"(check|cheque) for more than|wire (back )?the difference|refund the difference|(devuelve|regresa) la diferencia|"
    r"rembourse[rz]? la différence|"
    # locked accounts, parcels, credentials
    r"(account|cuenta|compte|konto)\b.{0,30}\b(locked|blocked|bloqueada|suspendida|bloqué|suspendu|gesperrt)|"
    r"reply with your pin|package could not be delivered|paket konnte nicht zugestellt|colis n'a pas pu|"
    r"paquete no pudo ser entregado|password expires|verify ownership|"
    # robocalls and fake renewals
    r"(vehicle|car|auto)('s)? (extended )?warranty|garantía extendida de su (vehículo|auto)|press (one|1) to|"
    r"marque (el )?1|"
    r"antivirus subscription|did not authori[sz]e this|"
    # guaranteed returns, romance
    r"\d+ ?% (roi|de ganancia|return)|ganancia garantizada|double your|lonely widow|want to be friends|"
    r"add me on whatsapp|looking for a (good )?friend"
    r")",
    re.IGNORECASE,
)
# A file a lead would not send: an archive or a program named in the text ("factura_0932.zip"), the commonest
# malware carrier in fake-invoice mail.
ATTACHMENT = re.compile(r"\b[\w-]+\.(zip|rar|7z|exe|scr|iso)\b", re.IGNORECASE)
# Pressure to pay now, the other half of a fake invoice.
PAY_NOW = re.compile(
    r"\b((to )?avoid (late fees|penalties)|remit payment immediately|evitar (cargos|recargos|multas)|"
    r"éviter des (frais|pénalités)|mahngebühren zu vermeiden)\b",
    re.IGNORECASE,
)
# Keyboard mash: three neighbouring keys of one row, a run no English, Spanish, French or German word has
# ("asdf", "qsdf", "kjh", "zxcv"); "rty", "ert", "wer", "poi" are left out (party, alert, power, point).
KEYBOARD_RUN = re.compile(
    r"asd|sdf|dfg|fgh|ghj|hjk|jkl|zxc|xcv|cvb|vbn|bnm|qwe|yui|uio|iop|tyu|qsd|"
    r"dsa|fds|gfd|hgf|jhg|kjh|lkj|cxz|vcx|bvc|nbv|mnb|ewq|iuy|oiu|uyt",
    re.IGNORECASE,
)
# Where an email's own words end: quoted history ("> …", "On … wrote:" and its es/fr/de forms), a forwarded or
# original-message header, a signature delimiter ("-- ", RFC 3676 §4.3).
QUOTED = re.compile(
    r"^[ \t]*(?:>|(?:on|el|le|am)\b.{0,200}?(?:wrote|escribió|escribio|a écrit|a ecrit|schrieb)\s*:"
    r"|-{2,}\s*(?:original message|forwarded message|mensaje original|message d'origine|ursprüngliche nachricht)"
    r"|-- ?$)",
    re.IGNORECASE | re.MULTILINE,
)
VOWELS = re.compile(r"[aeiouyáéíóúü]", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def own_words(text: str) -> str:
    """The sender's own words: ``text`` up to quoted history, a forwarded header or a signature (all of it when
    one of those comes first: a reply written below the quote keeps everything)."""
    found = QUOTED.search(text or "")
    return text[: found.start()].rstrip() if found and text[: found.start()].strip() else (text or "")


def _amount(digits: str | None, suffix: str | None) -> float | None:
    if not digits:
        return None
    value = float(digits.replace(",", ""))
    return value * {"k": 1_000, "m": 1_000_000}.get((suffix or "").lower(), 1)


def money(text: str) -> tuple[float | None, str]:
    """The budget a message names, as an amount (a range's midpoint) and the words it came from."""
    for match in MONEY.finditer(text):
        groups = match.groupdict()
        low = high = None
        for lo, lok, hi, hik in (("a", "ak", "b", "bk"), ("c", "ck", "d", "dk"), ("e", "ek", None, None)):
            if groups[lo]:
                # "20-30k" means 20k to 30k: the upper suffix applies to both ends.
                low = _amount(groups[lo], groups[lok] or (groups[hik] if hik else None))
                high = _amount(groups[hi], groups[hik]) if hi else None
                break
        else:
            low = _amount(groups["f"], groups["fk"])
        if low is None or low == 0:
            continue
        amount = (low + high) / 2 if high else low
        return amount, match.group(0).strip()
    return None, ""


def gibberish(text: str) -> bool:
    """Keyboard-mash: words without vowels, runs of neighbouring keys, or one repeated letter; short greetings are
    not gibberish."""
    words = WORD.findall(text)
    if not words:
        return bool(text.strip()) and not any(ch.isalnum() for ch in text) and len(text.strip()) > 3
    if len(words) == 1 and len(set(words[0].lower())) == 1 and len(words[0]) >= 4:
        return True
    consonant_runs = sum(1 for w in words if len(w) >= 4 and not VOWELS.search(w))
    long_runs = sum(1 for w in words if re.search(r"[bcdfghjklmnpqrstvwxz]{5,}", w, re.IGNORECASE))
    mashed = sum(1 for w in words if len(w) >= 3 and KEYBOARD_RUN.search(w))
    if len(words) <= 6 and mashed and mashed / len(words) >= 0.3:
        return True
    return len(words) >= 3 and (consonant_runs + long_runs) / len(words) >= 0.4


def spam_signals(conversation: Conversation) -> tuple[int, list[str]]:
    """A 0-100 spam score from signals that hold in any language, with the signals named."""
    text = conversation.message
    signals: list[tuple[int, str]] = []
    links = len(LINK.findall(text))
    if links >= 2:
        signals.append((60, f"{links} links"))
    elif links == 1:
        signals.append((30, "a link"))
    phrase = SPAM_PHRASES.search(text) or SCAM_PHRASES.search(text)
    if phrase:
        signals.append((60, f"spam phrasing '{phrase.group(0).lower()}'"))
    attachment = ATTACHMENT.search(text)
    if attachment:
        signals.append((40, f"an attachment named '{attachment.group(0)}'"))
    pressure = PAY_NOW.search(text)
    if pressure:
        signals.append((30, f"pressure to pay '{pressure.group(0).lower()}'"))
    if gibberish(text):
        signals.append((70, "gibberish"))
    if not conversation.reachable:
        signals.append((20, "no way to reach the person"))
    return min(100, sum(weight for weight, _ in signals)), [name for _, name in signals]


@dataclass(frozen=True)
class Facts:
    """What a message (and the conversation before it) says, independent of the intent."""

    budget_amount: float | None
    budget_text: str
    timeline: str
    urgency: str
    postal_code: str
    service: str
    disqualifier: str
    spam_score: int
    spam_signals: tuple[str, ...]


def facts_read(conversation: Conversation, criteria: Criteria) -> Facts:
    """Read budget, timeline, urgency, postal code, service and disqualifiers; earlier answers are kept."""
    text = conversation.message
    known = conversation.known
    everything = " \n".join([*conversation.history, text]).lower()
    amount, budget_text = money(text)
    if amount is None:
        amount, budget_text = known.get("budget_amount"), known.get("budget_text", "")
    timeline_match = TIMELINE.search(text)
    timeline = timeline_match.group(0).lower() if timeline_match else known.get("timeline", "")
    postal = conversation.postal_code
    if not postal:
        found = POSTAL.search(text)
        postal = found.group(0) if found else ""
    spam_score, signals = spam_signals(conversation)
    return Facts(
        budget_amount=amount,
        budget_text=budget_text or "",
        timeline=timeline or "",
        urgency="high" if URGENT.search(text) else "normal",
        postal_code=postal,
        service=next((s for s in criteria.services if s in everything), ""),
        disqualifier=next((d for d in criteria.disqualifiers if d in everything), ""),
        spam_score=spam_score,
        spam_signals=tuple(signals),
    )


def qualification_score(
    *,
    intent: str,
    facts: Facts,
    criteria: Criteria,
    confidence: float,
    provider: str,
    why: str,
    urgency: str | None = None,
) -> Qualification:
    """Score ``intent`` and ``facts`` against the criteria: one scorer, every provider.

    The spam score overrides a non-noise intent at the manager's threshold; disqualifiers and
    noise intents score 0. The status is qualified / needs clarification / unqualified / spam.
    """
    signals = [f"intent {intent}"]
    if intent not in ("opt_out", "spam") and facts.spam_score >= criteria.spam_threshold:
        signals.append(f"spam score {facts.spam_score} ≥ {criteria.spam_threshold} ({', '.join(facts.spam_signals)})")
        intent = "spam"
    urgency = urgency or facts.urgency
    in_area = None
    if criteria.service_area and facts.postal_code:
        in_area = any(facts.postal_code.upper().startswith(p.upper()) for p in criteria.service_area)
    if intent in NOISE_INTENTS or facts.disqualifier:
        score = 0
    else:
        score = criteria.base_score
        score += criteria.weight_intent if intent in SALES_INTENTS else 0
        score += criteria.weight_service if facts.service else 0
        score += criteria.weight_budget if facts.budget_amount else 0
        score += criteria.weight_timeline if facts.timeline else 0
        score += criteria.weight_urgency if urgency == "high" else 0
        score += {True: criteria.weight_area, False: -30, None: 0}[in_area]
        score = max(0, min(100, score))
    for present, text in (
        (facts.service, f"asks for '{facts.service}'"),
        (facts.disqualifier, f"disqualifier '{facts.disqualifier}'"),
        (in_area is False, f"postal code {facts.postal_code} outside the service area"),
        (facts.budget_text, f"budget {facts.budget_text}"),
        (facts.timeline, f"timeline '{facts.timeline}'"),
        (urgency == "high", "urgent"),
    ):
        if present:
            signals.append(text)
    values = {"budget": facts.budget_amount, "postal_code": facts.postal_code, "timeline": facts.timeline}
    missing = ()
    if intent in SALES_INTENTS and not facts.disqualifier and in_area is not False:
        missing = tuple(name for name in criteria.required_facts if not values.get(name))
    if intent == "spam":
        status = Status.SPAM
    elif intent in NOISE_INTENTS or facts.disqualifier or in_area is False:
        status = Status.UNQUALIFIED
    elif score >= criteria.qualify_threshold and not missing:
        status = Status.QUALIFIED
    elif missing and score >= criteria.clarify_threshold:
        status = Status.CLARIFY
    elif score >= criteria.qualify_threshold:
        status = Status.QUALIFIED
    else:
        status = Status.UNQUALIFIED
    fit = False if (facts.disqualifier or in_area is False) else (True if facts.service else None)
    verdict = status.replace("_", " ")
    detail = ", ".join(signals[1:]) or "few signals"
    reasoning = f"{why} ({detail}); score {score} vs threshold {criteria.qualify_threshold}: {verdict}."
    if missing and status == Status.CLARIFY:
        reasoning += f" Missing: {', '.join(missing)}."
    return Qualification(
        intent=intent,
        score=score,
        confidence=round(confidence, 2),
        status=status,
        reasoning=reasoning,
        urgency=urgency,
        budget_amount=facts.budget_amount,
        budget_band=criteria.band_for(facts.budget_amount),
        budget_text=facts.budget_text,
        timeline=facts.timeline,
        postal_code=facts.postal_code,
        fit=fit,
        missing=missing,
        provider=provider,
        signals=tuple(signals),
    )


def opt_out_answer(conversation: Conversation, facts: Facts, criteria: Criteria, provider: str) -> Qualification | None:
    """The answer for a message with opt-out words, or None. Opt-out is decided by the words, never by a model:
    leads.consent_words reads them (keywords, unambiguous sentences), the same reading the consent road acts on."""
    reading = consent_reading(conversation.message)
    if reading.kind != "opt_out":
        return None
    why = f"Opt-out words '{reading.words}'"
    return qualification_score(
        intent="opt_out", facts=facts, criteria=criteria, confidence=0.95, provider=provider, why=why
    )
