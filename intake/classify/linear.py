"""The right classifier's linear model: TF-IDF word, prefix, bigram and negation features, one
logistic regression per right (and one for "a question for the DPO"); trained with scikit-learn,
applied with numpy alone."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from intake.classify.labels import RIGHTS
from intake.classify.modeltext import (
    NEGATED_MARK,
    SUBWORD_PREFIX,
    model_words,
    negated_words,
    word_prefixes,
)

WEIGHTS_FILE = "weights.npz"
FEATURES_FILE = "features.json"
# Regularisation of each right's logistic regression (scikit-learn's C: larger = weaker).
# Leaving one everyday writer out at a time over eleven writers with 21 in the pool
# (docs/classification.md, session 4), model alone: C = 2 0.845, 4 0.853, 8 0.857, 16 0.857
# mean micro-F1; with twice the training data a weaker regularisation pays, and 8 is kept.
DEFAULT_C = 8.0
# A feature must occur in this many training messages to be kept.
MIN_DOCUMENTS = 2
# The extra column trained on the corpus's kinds: P(a question or remark for the DPO that
# exercises no right). It feeds the "question" signal (labels.SIGNALS), not a right.
QUESTION = "question"


def model_features(subject: str, text: str) -> list[str]:
    """What the linear model counts: the words and prefixes of model_words, word bigrams, and
    the prefixes of negated words ("not:verwi", see modeltext.negated_words)."""
    words = model_words(subject, text, prefixes=False)
    return [*words, *word_prefixes(words), *(f"{a} {b}" for a, b in pairwise(words)),
            *(f"{NEGATED_MARK}{w[:SUBWORD_PREFIX]}" for w in negated_words(words))]


@dataclass(frozen=True)
class LinearModel:
    """Feature index, idf weights, and per-right coefficients and intercepts."""

    index: dict[str, int]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (features, rights)
    intercept: np.ndarray  # (rights,)
    labels: tuple[str, ...] = RIGHTS
    _names: list[str] | None = field(default=None, compare=False, repr=False)
    # The vector of the last message read, (subject, text, idx, values): the classifier asks
    # for a message's probabilities and then for the evidence behind some labels of the same
    # message, and each would read its features again. One entry, replaced as a whole, so
    # threads sharing the model each see a consistent one.
    _last: tuple[str, str, np.ndarray, np.ndarray] | None = field(
        default=None, compare=False, repr=False)

    def probabilities(self, subject: str, text: str) -> np.ndarray:
        """P(right exercised) per label, as scikit-learn's TF-IDF and predict_proba compute it:
        sublinear term frequency times idf, L2-normalised, then a logistic regression per right."""
        idx, values = self._vector(subject, text)
        z = self.intercept + values @ self.coef[idx] if len(idx) else self.intercept.copy()
        return 1.0 / (1.0 + np.exp(-z))

    def evidence(self, subject: str, text: str, label: str, count: int = 3
                 ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The features of this message that pushed most towards the label, and against it."""
        idx, values = self._vector(subject, text)
        if not len(idx) or label not in self.labels:
            return (), ()
        contribution = values * self.coef[idx, self.labels.index(label)]
        order = np.argsort(contribution)
        names = self.names()
        towards = tuple(names[idx[i]] for i in order[::-1][:count] if contribution[i] > 0)
        against = tuple(names[idx[i]] for i in order[:count] if contribution[i] < 0)
        return towards, against

    def names(self) -> list[str]:
        """The features in index order (built once, on first use: explanations only)."""
        if self._names is None:
            ordered = sorted(self.index, key=self.index.__getitem__)
            object.__setattr__(self, "_names", ordered)
        return self._names  # type: ignore[return-value]

    def _vector(self, subject: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, TF-IDF values) of a message; the last message's from `_last`."""
        last = self._last
        if last is not None and last[0] == subject and last[1] == text:
            return last[2], last[3]
        idx, values = self._read(subject, text)
        idx.flags.writeable = values.flags.writeable = False  # shared with the next caller
        object.__setattr__(self, "_last", (subject, text, idx, values))
        return idx, values

    def _read(self, subject: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        # The features are counted first (in C) and only the distinct ones looked up; the
        # indices keep the order of the features' first occurrence, so the sums below add up
        # in the same order.
        index = self.index
        counts = {i: n for f, n in Counter(model_features(subject, text)).items()
                  if (i := index.get(f)) is not None}
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values = tf * self.idf[idx]
        return idx, values / math.sqrt(float(values @ values))

    def save(self, directory: Path) -> None:
        """Write weights.npz and features.json (the features in index order)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / FEATURES_FILE).write_text(
            json.dumps({"labels": list(self.labels), "features": self.names()}, ensure_ascii=False),
            encoding="utf-8")
        np.savez(directory / WEIGHTS_FILE, idf=self.idf, coef=self.coef,
                 intercept=self.intercept)

    @classmethod
    def load(cls, directory: Path) -> LinearModel:
        """Read a model written by save; OSError/ValueError/KeyError when it is not usable."""
        data = json.loads((directory / FEATURES_FILE).read_text(encoding="utf-8"))
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            idf, coef, intercept = arrays["idf"], arrays["coef"], arrays["intercept"]
        features = data["features"]
        if coef.shape != (len(features), len(data["labels"])) or idf.shape != (len(features),):
            raise ValueError(f"{directory}: weights do not match the {len(features)} features")
        return cls({f: i for i, f in enumerate(features)}, idf, coef, intercept,
                   tuple(data["labels"]), list(features))


def train_linear(texts: Sequence[tuple[str, str]], rights: Sequence[Sequence[str]],
                 c: float = DEFAULT_C, kinds: Sequence[str] | None = None) -> LinearModel:
    """Fit the TF-IDF features and one balanced logistic regression per right.

    With `kinds` (one per text, "" where unknown) that name some questions, a QUESTION column
    is fitted too, on the texts whose kind is known or that exercise a right (a request).
    scikit-learn is imported here only: the daemon applies the model with numpy alone.
    Deterministic: the lbfgs solver has no randomness.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=lambda pair: model_features(*pair),
                                 min_df=MIN_DOCUMENTS, sublinear_tf=True, dtype=np.float64)
    matrix = vectorizer.fit_transform(list(texts))
    coef = np.zeros((matrix.shape[1], len(RIGHTS)), dtype=np.float64)
    intercept = np.zeros(len(RIGHTS), dtype=np.float64)
    for col, right in enumerate(RIGHTS):
        target = np.array([right in r for r in rights], dtype=int)
        if target.min() == target.max():  # a right the corpus never (or always) has
            intercept[col] = -20.0 if target.max() == 0 else 20.0
            continue
        coef[:, col], intercept[col] = _fit(matrix, target, c)
    labels: tuple[str, ...] = RIGHTS
    if kinds is not None and QUESTION in kinds:
        known = [i for i, kind in enumerate(kinds) if kind or rights[i]]
        target = np.array([kinds[i] == QUESTION for i in known], dtype=int)
        column, bias = _fit(matrix[known], target, c)
        coef = np.column_stack([coef, column])
        intercept = np.append(intercept, bias)
        labels = (*RIGHTS, QUESTION)
    index = {str(f): int(i) for f, i in vectorizer.vocabulary_.items()}
    return LinearModel(index, vectorizer.idf_.astype(np.float64), coef, intercept, labels)


def _fit(matrix: Any, target: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    """Coefficients and intercept of one balanced logistic regression."""
    from sklearn.linear_model import LogisticRegression

    regression = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    regression.fit(matrix, target)
    return regression.coef_[0], float(regression.intercept_[0])
