"""Character n-gram polarity: hashed 1-3-grams, TF-IDF, logistic regression (zh + en in one model).

A lexical model that has read tens of thousands of reviews; the ensemble weighs it against the
transformer (``ensemble.py``). The file (``ngram.npz``, a few MB) is made by
``sentiment_training.ngram`` from the same public data as the transformer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_FILE = Path(__file__).with_name("ngram.npz")
N_FEATURES = 2**20


def vectorizer() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char_wb", ngram_range=(1, 3), n_features=N_FEATURES, alternate_sign=False,
                             norm=None, lowercase=True)


class NgramPolarity:
    """``negative_logit(texts)``: log-odds that each text is negative rather than positive."""

    def __init__(self, path: Path = DEFAULT_FILE) -> None:
        data = np.load(path)
        self._idf = data["idf"].astype(np.float32)
        self._coef = data["coef"].astype(np.float32)
        self._bias = float(data["bias"])
        self._vectorizer = vectorizer()

    def negative_logit(self, texts: Sequence[str]) -> np.ndarray:
        counts = self._vectorizer.transform(list(texts)).tocsr().astype(np.float32)
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf
        weighted = counts.multiply(self._idf).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        scores = np.asarray(weighted @ self._coef).ravel()
        return scores / np.maximum(norms, 1e-12) + self._bias

    @staticmethod
    def probability(logit: float) -> float:
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
