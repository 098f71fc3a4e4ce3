#!/usr/bin/env python
"""How well, and how fast, each reasoning provider labels the messages in tests/data.

For the rules and embedding providers, and for the openai provider: against the server at
LLM_BASE_URL when it is set (a real model), else against a local fake that answers with the
set's own labels — that run measures the plumbing (prompt, schema, parsing, scoring, HTTP), not
a model's judgement, and says so. Prints, per provider and data set, the confusion matrix,
intent accuracy, noise recall (spam, vendor, job seeker), opt-out recall and p50/p95 ms per message.

    .venv/bin/python bench/qualify.py [--providers rules embedding openai] [--matrix]

The embedding provider classifies by the starter examples in routing/data/intent_examples.jsonl,
which share no message with the two labeled files.
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from integrations.llm import Criteria, RulesProvider, openai_provider_build  # noqa: E402
from integrations.llm.evaluation import NOISE_GROUP, OPT_OUT_GROUP, labeled_load, provider_evaluate  # noqa: E402

SETS = {
    "labeled (rules tuned on it)": ROOT / "tests/data/qualify_labeled.jsonl",
    "holdout (never tuned on)": ROOT / "tests/data/qualify_holdout.jsonl",
}


def embedding_provider():
    from integrations.llm.embedding import (
        Centroids,
        EmbeddingProvider,
        default_model_path,
        default_tokenizer_path,
        embedder_get,
    )

    model = embedder_get(
        settings.LLM_EMBEDDING_MODEL_PATH or default_model_path(),
        settings.LLM_EMBEDDING_TOKENIZER_PATH or default_tokenizer_path(),
    )
    rows = [json.loads(line) for line in (ROOT / "routing/data/intent_examples.jsonl").read_text().splitlines()]
    vectors = model.embed([r["text"] for r in rows])
    return EmbeddingProvider(model, Centroids.build([(r["intent"], v) for r, v in zip(rows, vectors, strict=True)]))


def openai_provider(stack):
    if settings.LLM_BASE_URL:
        return openai_provider_build(), "model at " + settings.LLM_BASE_URL
    from tests.fakes.openai_server import FakeOpenAI, completion

    labels = {}
    for path in SETS.values():
        for row in labeled_load(path):
            labels[row.text] = row.intent
    fake = stack.enter_context(FakeOpenAI())

    def answer(body):
        user = body["messages"][1]["content"]
        data = json.loads(user[user.index("<inbound>") + 9 : user.rindex("</inbound>")])
        intent = labels.get(data["latest_message"], "other")
        reply = {"intent": intent, "confidence": 0.9, "reasoning": "Fixture answer: the set's own label."}
        return 200, completion(json.dumps(reply))

    fake.handler = answer
    settings.LLM_BASE_URL, settings.LLM_MODEL, settings.LLM_STRUCTURED_MODE = fake.base_url, "fixture", "json_schema"
    return openai_provider_build(), "local fake answering the labels (plumbing only, not a model)"


def main() -> None:
    import contextlib

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--providers", nargs="+", default=["rules", "embedding", "openai"])
    parser.add_argument("--matrix", action="store_true", help="print each confusion matrix")
    args = parser.parse_args()
    criteria = Criteria()
    print(
        f"{'provider':<10} {'set':<28} {'n':>4} {'accuracy':>9} {'noise rec':>10} {'opt-out rec':>12} "
        f"{'p50 ms':>8} {'p95 ms':>8}"
    )
    with contextlib.ExitStack() as stack:
        for name in args.providers:
            note = ""
            if name == "rules":
                provider = RulesProvider()
            elif name == "embedding":
                provider = embedding_provider()
            else:
                provider, note = openai_provider(stack)
            for label, path in SETS.items():
                rows = labeled_load(path)
                provider_evaluate(provider, rows[:3], criteria)  # warm-up: model load, connections
                result = provider_evaluate(provider, rows, criteria)
                noise, opt_out = result.recall(NOISE_GROUP), result.recall(OPT_OUT_GROUP)
                p50, p95 = result.percentile(0.5), result.percentile(0.95)
                print(
                    f"{name:<10} {label:<28} {len(rows):>4} {result.accuracy:>9.3f} {noise:>10.3f} "
                    f"{opt_out:>12.3f} {p50:>8.2f} {p95:>8.2f}"
                )
                if args.matrix:
                    print(result.matrix(), "\n")
            if note:
                print(f"           ({name}: {note})")


if __name__ == "__main__":
    main()
