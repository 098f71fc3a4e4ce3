"""How well a provider labels a set of messages: the confusion matrix, accuracy, noise and opt-out recall, speed."""

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from integrations.llm.base import Conversation, Criteria
from leads.choices import INTENTS, NOISE_INTENTS


@dataclass(frozen=True)
class LabeledMessage:
    text: str
    intent: str
    channel: str = ""
    trade: str = ""


def labeled_load(path: Path) -> list[LabeledMessage]:
    """Read a JSON-lines file of {"text", "intent", "channel", "trade"} rows; unknown intents are refused."""
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        data = json.loads(line)
        if data["intent"] not in INTENTS:
            raise ValueError(f"{path}:{number}: unknown intent {data['intent']!r}")
        rows.append(LabeledMessage(data["text"], data["intent"], data.get("channel", ""), data.get("trade", "")))
    return rows


@dataclass
class Evaluation:
    provider: str
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (expected, predicted)
    timings_ms: list[float] = field(default_factory=list)
    misses: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(e == p for e, p in self.pairs) / len(self.pairs)

    def recall(self, group: frozenset[str]) -> float:
        """Share of messages labeled in ``group`` that the provider also put in ``group``."""
        relevant = [(e, p) for e, p in self.pairs if e in group]
        return sum(p in group for _, p in relevant) / len(relevant) if relevant else 1.0

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


NOISE_GROUP = frozenset(NOISE_INTENTS - {"opt_out"})
OPT_OUT_GROUP = frozenset({"opt_out"})


def provider_evaluate(provider, rows: list[LabeledMessage], criteria: Criteria) -> Evaluation:
    """Ask ``provider`` about every row (one message, no history) and keep what it answered and how long it took."""
    result = Evaluation(provider.name)
    for row in rows:
        started = time.perf_counter()
        answer = provider.qualify(Conversation(message=row.text, channel=row.channel), criteria)
        result.timings_ms.append((time.perf_counter() - started) * 1000)
        result.pairs.append((row.intent, answer.intent))
        if answer.intent != row.intent:
            result.misses.append((row.intent, answer.intent, row.text))
    return result
