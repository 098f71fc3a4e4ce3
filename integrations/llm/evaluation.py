"""How well a provider labels a set of messages: the confusion matrix, accuracy, the recalls a business judges, speed.

The groups a business judges first (see README "Reasoning"):

- noise: spam, vendor pitches, job seekers. Recall: the share of them that never reach a rep's queue.
- opportunity: a person who may buy (new project, quote request, appointment). Recall: the share answered as one
  of those three (any of them: what matters is that the lead is treated as a buyer, not which buyer).
- opt-out: recall, and false opt-outs (answers of opt_out to a message that does not ask it), which must be 0.
"""

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from integrations.llm.base import Conversation, Criteria
from leads.choices import INTENTS, NOISE_INTENTS, SALES_INTENTS


@dataclass(frozen=True)
class LabeledMessage:
    text: str
    intent: str
    channel: str = ""
    trade: str = ""
    lang: str = ""
    split: str = ""


def labeled_load(path: Path, *, split: str = "") -> list[LabeledMessage]:
    """Read a JSON-lines file of {"text", "intent", "channel", "trade", "lang", "split"} rows.

    A row without "text" (a leading {"_comment": …}) is skipped; unknown intents are refused with the line number.
    ``split`` keeps only the rows of that split ("train" or "test" in tests/data/qualify_set.jsonl).
    An opt-out set row ({"text", "expect"}, tests/data/optout_set.jsonl) is read as opt_out when it expects one,
    else as other: only its opt-out figures mean something.
    """
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        data = json.loads(line)
        if "text" not in data:
            continue
        intent = data.get("intent") or ("opt_out" if data.get("expect") == "opt_out" else "other")
        if intent not in INTENTS:
            raise ValueError(f"{path}:{number}: unknown intent {intent!r}")
        if split and data.get("split") != split:
            continue
        rows.append(
            LabeledMessage(
                data["text"],
                intent,
                data.get("channel", ""),
                data.get("trade", ""),
                data.get("lang", ""),
                data.get("split", ""),
            )
        )
    return rows


NOISE_GROUP = frozenset(NOISE_INTENTS - {"opt_out"})
OPPORTUNITY_GROUP = frozenset(SALES_INTENTS)
OPT_OUT_GROUP = frozenset({"opt_out"})


@dataclass
class Evaluation:
    provider: str
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (expected, predicted)
    timings_ms: list[float] = field(default_factory=list)
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)  # prompt + completion tokens of each answer a model gave
    fallbacks: int = 0  # answers another provider gave because the model's could not be used

    @property
    def accuracy(self) -> float:
        return sum(e == p for e, p in self.pairs) / len(self.pairs)

    def recall(self, group: frozenset[str]) -> float:
        """Share of messages labeled in ``group`` that the provider also put in ``group``."""
        relevant = [(e, p) for e, p in self.pairs if e in group]
        return sum(p in group for _, p in relevant) / len(relevant) if relevant else 1.0

    @property
    def false_opt_outs(self) -> int:
        """Answers of opt_out to a message not labeled opt_out."""
        return sum(p == "opt_out" and e != "opt_out" for e, p in self.pairs)

    @property
    def people_filtered(self) -> int:
        """People who wrote to the business (a buyer, a question, a customer, a complaint) answered as noise."""
        people = SALES_INTENTS | {"question", "existing_customer", "complaint"}
        return sum(e in people and p in NOISE_INTENTS for e, p in self.pairs)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def matrix(self) -> str:
        """The confusion matrix as text: rows are the labels, columns the provider's answers."""
        counts = Counter(self.pairs)
        short = [i[:6] for i in INTENTS]
        lines = [f"{'label / answer':<18}" + "".join(f"{s:>7}" for s in short)]
        for expected in INTENTS:
            lines.append(f"{expected:<18}" + "".join(f"{counts[(expected, p)] or '.':>7}" for p in INTENTS))
        return "\n".join(lines)


def stratified(rows: list[LabeledMessage], limit: int) -> list[LabeledMessage]:
    """At most ``limit`` rows, taken in turn from each intent in file order (so every intent keeps its share, and
    the same rows every run); all of them when ``limit`` is 0 or covers them."""
    if not limit or limit >= len(rows):
        return rows
    by_intent: dict[str, list[LabeledMessage]] = {}
    for row in rows:
        by_intent.setdefault(row.intent, []).append(row)
    picked: list[LabeledMessage] = []
    depth = 0
    while len(picked) < limit:
        for intent in sorted(by_intent, key=lambda i: -len(by_intent[i])):
            if depth < len(by_intent[intent]) and len(picked) < limit:
                picked.append(by_intent[intent][depth])
        depth += 1
    return picked


def provider_evaluate(provider, rows: list[LabeledMessage], criteria: Criteria) -> Evaluation:
    """Ask ``provider`` about every row (one message, no history) and keep what it answered and how long it took."""
    result = Evaluation(provider.name)
    for row in rows:
        started = time.perf_counter()
        answer = provider.qualify(Conversation(message=row.text, channel=row.channel), criteria)
        result.timings_ms.append((time.perf_counter() - started) * 1000)
        result.pairs.append((row.intent, answer.intent))
        if answer.usage:
            result.tokens.append(answer.usage.get("tokens_in", 0) + answer.usage.get("tokens_out", 0))
        result.fallbacks += bool(answer.fallback)
        if answer.intent != row.intent:
            result.misses.append((row.intent, answer.intent, row.text))
    return result
