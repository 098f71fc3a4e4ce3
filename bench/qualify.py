#!/usr/bin/env python
"""How well, and how fast, each reasoning provider labels the messages in tests/data.

For the rules and embedding providers, and for the openai provider: against the server at
LLM_BASE_URL when it is set (a real model), else against a local fake that answers with the
set's own labels — that run measures the plumbing (prompt, schema, parsing, scoring, HTTP), not
a model's judgement, and says so. Prints, per provider and data set: intent accuracy, noise recall
(spam, vendor, job seeker), opportunity recall (new project, quote, appointment), opt-out recall,
false opt-outs, people filtered as noise, and p50/p95 ms per message.

    .venv/bin/python bench/qualify.py [--providers rules embedding openai] [--sets test holdout] [--matrix]
    .venv/bin/python bench/qualify.py --providers openai --sets test --base-url http://127.0.0.1:8089/v1 [--limit 40]

--base-url measures the openai provider against that server (``make llm-server``: llama.cpp with a
small instruct model), joined to the offline judge as the pipeline joins them (its evidence and
fallback); --limit takes a stratified sample (every intent in turn, file order) where a real model
is slow (~10 s a message on 2 cores). The openai rows add tokens per message and fallbacks.

The embedding provider is trained on routing/data/intent_examples.jsonl, the starter examples a
fresh install seeds: the original 110, qualify_set.jsonl's train split and the older labeled set.
The sets: the train split and the labeled set (both in the starter examples: in-sample for the
embedding provider; the rules were written against the labeled set), qualify_set.jsonl's test split
(every fifth id: never tuned on) and the older holdout (unseen), and the opt-out set (only its
opt-out columns mean something).
"""

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# The bench needs no database: the structured mode a server takes is remembered in this process's memory.
settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

from integrations.llm import Criteria, RulesProvider, openai_provider_build  # noqa: E402
from integrations.llm.evaluation import (  # noqa: E402
    NOISE_GROUP,
    OPPORTUNITY_GROUP,
    OPT_OUT_GROUP,
    labeled_load,
    provider_evaluate,
    stratified,
)

DATA = ROOT / "tests/data"
SETS = {
    "train": (DATA / "qualify_set.jsonl", "train"),
    "test": (DATA / "qualify_set.jsonl", "test"),
    "labeled": (DATA / "qualify_labeled.jsonl", ""),
    "holdout": (DATA / "qualify_holdout.jsonl", ""),
    "optout": (DATA / "optout_set.jsonl", ""),
}
EXAMPLES = ROOT / "routing/data/intent_examples.jsonl"


def embedding_provider():
    """The offline judge trained on the starter examples, as a fresh install has them."""
    from integrations.llm.embedding import embedder_get
    from integrations.llm.offline import EmbeddingProvider

    rows = [json.loads(line) for line in EXAMPLES.read_text().splitlines() if line.strip()]
    model = embedder_get(settings.LLM_EMBEDDING_MODEL_PATH, settings.LLM_EMBEDDING_TOKENIZER_PATH)
    return EmbeddingProvider.from_examples(model, [(r["intent"], r["text"]) for r in rows])


def openai_provider(stack):
    if settings.LLM_BASE_URL:
        # As the pipeline has it (routing.reasoning.provider_get): the offline judge is the model's evidence.
        provider = openai_provider_build().joined(embedding_provider())
        return provider, f"model {settings.LLM_MODEL} at {settings.LLM_BASE_URL}, mode {settings.LLM_STRUCTURED_MODE}"
    from tests.fakes.openai_server import FakeOpenAI, completion

    labels = {}
    for path, split in SETS.values():
        for row in labeled_load(path, split=split):
            labels[row.text] = row.intent
    fake = stack.enter_context(FakeOpenAI())

    def answer(body):
        user = body["messages"][-1]["content"]
        data = json.loads(user[user.index("<inbound>") + 9 : user.rindex("</inbound>")])
        intent = labels.get(data["latest_message"], "other")
        reply = {"intent": intent, "confidence": 0.9, "reasoning": "Fixture answer: the set's own label."}
        return 200, completion(json.dumps(reply))

    fake.handler = answer
    settings.LLM_BASE_URL, settings.LLM_MODEL, settings.LLM_STRUCTURED_MODE = fake.base_url, "fixture", "json_schema"
    return openai_provider_build(), "local fake answering the labels (plumbing only, not a model)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--providers", nargs="+", default=["rules", "embedding", "openai"])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--matrix", action="store_true", help="print each confusion matrix")
    parser.add_argument("--misses", action="store_true", help="print each wrong answer")
    parser.add_argument("--base-url", help="an OpenAI-compatible server to measure the openai provider against")
    parser.add_argument("--model", default="", help="the model name to ask for (llama.cpp takes any)")
    parser.add_argument("--mode", default="", help="LLM_STRUCTURED_MODE: auto, json_schema, json_object or tools")
    parser.add_argument("--timeout", type=float, default=0, help="seconds a model call may take (LLM_TIMEOUT)")
    parser.add_argument("--limit", type=int, default=0, help="a stratified sample of at most N messages per set")
    args = parser.parse_args()
    if args.base_url:
        settings.LLM_BASE_URL = args.base_url
        settings.LLM_MODEL = args.model or "local"
    settings.LLM_STRUCTURED_MODE = args.mode or settings.LLM_STRUCTURED_MODE
    settings.LLM_TIMEOUT = args.timeout or settings.LLM_TIMEOUT
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one INFO line per request drowns the table
    criteria = Criteria()
    print(
        "| provider | set | n | accuracy | noise recall | opportunity recall | opt-out recall | false opt-outs "
        "| people filtered | p50 ms | p95 ms |\n|---|---|---|---|---|---|---|---|---|---|---|"
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
            for label in args.sets:
                path, split = SETS[label]
                rows = stratified(labeled_load(path, split=split), args.limit)
                provider_evaluate(provider, rows[: 1 if name == "openai" else 3], criteria)  # warm-up
                result = provider_evaluate(provider, rows, criteria)
                p50, p95 = result.percentile(0.5), result.percentile(0.95)
                if label == "optout":
                    figures = f"| — | — | — | {result.recall(OPT_OUT_GROUP):.3f} | {result.false_opt_outs} | — "
                else:
                    figures = (
                        f"| {result.accuracy:.3f} | {result.recall(NOISE_GROUP):.3f} | "
                        f"{result.recall(OPPORTUNITY_GROUP):.3f} | {result.recall(OPT_OUT_GROUP):.3f} | "
                        f"{result.false_opt_outs} | {result.people_filtered} "
                    )
                print(f"| {name} | {label} | {len(rows)} {figures}| {p50:.2f} | {p95:.2f} |", flush=True)
                if result.tokens or result.fallbacks:
                    mean = sum(result.tokens) / len(result.tokens) if result.tokens else 0
                    print(
                        f"    {name} {label}: {mean:.0f} tokens a message (model answers: {len(result.tokens)}), "
                        f"{result.fallbacks} fallbacks",
                        flush=True,
                    )
                if args.matrix:
                    print(result.matrix(), "\n")
                if args.misses:
                    for expected, answered, text in result.misses:
                        print(f"    {expected} -> {answered}: {text[:100]!r}")
            if note:
                print(f"({name}: {note})")


if __name__ == "__main__":
    main()
