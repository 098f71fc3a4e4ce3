"""An intent classifier trained on the managers' labeled examples (IntentExample rows), over sentence vectors.

Multinomial logistic regression (scikit-learn) over the embedding model's vectors. Chosen over the
nearest intent centroid it replaces by 5-fold cross-validation on the train split of
tests/data/qualify_set.jsonl (the first 110 starter examples always in training; never the test split):
accuracy 0.81 vs 0.74, noise recall 0.91 vs 0.83, opportunity recall 0.89 vs 0.80 with the multilingual
model; with tests/data/qualify_labeled.jsonl among the examples too, 0.83 / 0.91 / 0.91. Tried and not
kept: the keyword rules' answer as features (accuracy 0.76: the rules speak English only), character
n-grams beside the vectors (no better), deciding the group (buyer, noise, other) first (worse).

Opt-out is not a label here: only a person's own words opt out (leads.consent_words), so the opt-out
examples teach nothing the classifier may say. The same examples, nearest first, are what a model is
shown as few-shot examples (integrations.llm.prompts).
"""

import hashlib
from dataclasses import dataclass

from integrations.llm.embedding import ModelUnavailable

# Inverse regularisation strength, picked by the same cross-validation (1, 2, 4, 16 tried; 2 labeled best).
C = 2.0
NOT_LABELS = frozenset({"opt_out"})


@dataclass(frozen=True)
class Neighbour:
    intent: str
    text: str
    similarity: float
    shareable: bool  # written by a manager or the starter set, not a lead's own words (may go to a model)


class IntentClassifier:
    """``rank(vector)``: every intent with its probability, most likely first; ``neighbours``: nearest examples."""

    def __init__(self, model, intents: tuple[str, ...], texts: tuple[str, ...], matrix, shareable: tuple[bool, ...]):
        self._model = model
        self.intents = intents  # each example's intent, in the order of ``matrix``'s rows
        self.texts = texts
        self.matrix = matrix
        self.shareable = shareable

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._model.classes_)

    @classmethod
    def build(cls, examples: list[tuple[str, str, object, bool]]) -> "IntentClassifier":
        """Fit on (intent, text, unit vector, shareable) rows; raises ModelUnavailable with fewer than two intents."""
        import numpy as np

        rows = [row for row in examples if row[0] not in NOT_LABELS]
        if len({intent for intent, *_ in rows}) < 2:
            raise ModelUnavailable("too few labeled examples to classify by: add intent examples in the admin")
        matrix = np.stack([np.asarray(vector, dtype=np.float32) for _, _, vector, _ in rows])
        intents = tuple(intent for intent, *_ in rows)
        return cls(
            _fit(matrix, intents),
            intents,
            tuple(text for _, text, _, _ in rows),
            matrix,
            tuple(shareable for *_, shareable in rows),
        )

    def rank(self, vector) -> list[tuple[str, float]]:
        probabilities = self._model.predict_proba(vector.reshape(1, -1))[0]
        order = probabilities.argsort()[::-1]
        return [(str(self._model.classes_[i]), float(probabilities[i])) for i in order]

    def neighbours(self, vector, k: int = 6, *, shareable_only: bool = False) -> list[Neighbour]:
        """The ``k`` examples nearest to ``vector`` (cosine), at most two per intent so the model sees contrast."""
        similarities = self.matrix @ vector
        picked: list[Neighbour] = []
        per_intent: dict[str, int] = {}
        for index in similarities.argsort()[::-1]:
            intent = self.intents[index]
            if (shareable_only and not self.shareable[index]) or per_intent.get(intent, 0) >= 2:
                continue
            per_intent[intent] = per_intent.get(intent, 0) + 1
            picked.append(Neighbour(intent, self.texts[index], float(similarities[index]), self.shareable[index]))
            if len(picked) == k:
                break
        return picked


_fitted: dict[str, object] = {}


def _fit(matrix, intents: tuple[str, ...]):
    """One fit per distinct example set and process (~0.3 s for 500 examples), the last few kept."""
    from sklearn.linear_model import LogisticRegression

    digest = hashlib.sha256(matrix.tobytes() + "\0".join(intents).encode()).hexdigest()
    if digest not in _fitted:
        if len(_fitted) >= 4:
            _fitted.pop(next(iter(_fitted)))
        _fitted[digest] = LogisticRegression(C=C, max_iter=2000).fit(matrix, list(intents))
    return _fitted[digest]
