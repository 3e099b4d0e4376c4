"""The customer-service head: polarity and anger/anxiety as a support team reads them.

A linear layer over what one pass of the shipped model already computes (its sentence vector and
its five outputs), the character n-gram model's log-odds (the outputs and the log-odds weighed per
language), hashed word and character n-grams, and a few cue counts that mark an unhappy customer
without any negative word: a broken promise ("you promised", 说好的), a repeated contact ("third
time", "again", 又, 还是), a wait ("5 days", 等了), an escalation (manager, 投诉, 12315) and a
deadline or a fear of loss (tomorrow, 明天, 会不会).
It is trained on customer-service messages (``sentiment_training.cs_head``: the complaints set,
the team's messages, the review corpora only as support) and costs well under a millisecond.

Polarity: ``P(negative)`` and ``P(positive | not negative)``; a message is negative when
``P(negative)`` reaches the language's threshold, positive when the second reaches its own, and
neutral in between. Both thresholds, and the emotion thresholds, are fitted per language on a
customer-service validation split; emotion strengths are rescaled so that 0.5 (the reporting
threshold) is the fitted threshold.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import ANGER, ANXIETY, NEGATIVE, NEUTRAL, POSITIVE, SentimentResult
from sentiment.language import detect_language
from sentiment.transformer import Reading, clip

DEFAULT_HEAD = Path(__file__).with_name("model") / "cs_head.npz"
HASH_FEATURES = 2**18
_EPS = 1e-6

# cue families (lower-cased text); each becomes one count feature
CUES: dict[str, re.Pattern[str]] = {name: re.compile(pattern) for name, pattern in {
    "repeat": r"\bagain\b|\bstill\b|\banother\b|\btwice\b|\b(second|third|fourth|fifth|\d+(st|nd|rd|th)?) time\b"
              r"|\bevery time\b|\bhow many (more )?times\b|\bsame (problem|issue|answer)\b|又|还是|再次|第[二三四五六几\d]次"
              r"|几遍|多少次|每次|一直|老样子|三番五次|反复",
    "promise": r"\bpromised?\b|\bguarantee|\bsupposed to\b|\bwas told\b|\byou said\b|\bassured\b|\bso-called\b"
               r"|说好|承诺|保证|答应|说是|不是说",
    "wait": r"\b\d+\s*(hours?|hrs?|days?|weeks?|months?|minutes?|mins?)\b|\bon hold\b|\bwaiting\b|\bno (one|reply|response)\b"
            r"|\bnobody\b|\bnothing\b|天了|小时|分钟|个月|星期了|周了|等了|没人|没有人|没回|不回",
    "escalate": r"\bmanager\b|\bcomplain|\bchargeback\b|\bbank\b|\blawyer\b|\breview\b|\breport\b|投诉|12315|消协|曝光"
                r"|差评|工商|经理|给个说法|律师",
    "deadline": r"\btomorrow\b|\btonight\b|\btoday\b|\bdeadline\b|\bbefore\b|\bin time\b|\bby (monday|tuesday|wednesday"
                r"|thursday|friday|saturday|sunday)\b|\bflight\b|明天|后天|今天|今晚|周[一二三四五六日末]|来不及|赶|之前",
    "fear": r"\bworr|\bscared\b|\bafraid\b|\bpanic|\bnervous|\bwhat if\b|\bis it lost\b|\blost\b|\bdisappear|\bhacked\b"
            r"|\bwill i\b|\bcan i still\b|担心|害怕|怕|会不会|是不是|丢|被盗|怎么办|心里没底|慌",
    "sarcasm": r"\b(oh )?great\b.*[.!]|\bthanks for nothing\b|\bwonderful service\b|[\"“”'‘’].+[\"“”'‘’]|呵呵|佩服|真行|厉害了",
    "negation": r"\bno\b|\bnot\b|n't\b|\bnever\b|\bwithout\b|没|不|未|无",
    "thanks": r"\bthanks?\b|\bthank you\b|\bappreciate|\bcheers\b|谢谢|感谢|辛苦|多谢",
    "question": r"\?|？|吗|呢|\bhow\b|\bwhat\b|\bwhere\b|\bwhen\b|\bcan i\b|\bdo you\b|怎么|多久|哪里|什么时候|可以",
    "exclaim": r"!|！",
}.items()}


def cue_counts(text: str) -> np.ndarray:
    lowered = text.lower()
    counts = [min(3, len(p.findall(lowered))) for p in CUES.values()]
    return np.array([*counts, math.log1p(len(text)) / 5.0], dtype=np.float32)


# the layout of ``dense_features``; a training cache of them is only valid for the same layout
DENSE_LAYOUT = 2


def dense_features(reading: Reading, ngram_logit: float, text: str) -> np.ndarray:
    """[sentence vector | model outputs and n-gram log-odds | cue counts | language | the outputs again,
    for Chinese only].

    The second copy lets the head weigh the model's and the n-gram model's readings per language: fitted
    mostly on English tweets with one weight for both languages, it leaned on them too little for Chinese
    and read Chinese reviews worse than the n-gram model alone (``sentiment_training/README.md``)."""
    p = reading.polarity
    neg, neu, pos = (p.get(k, 0.0) for k in (NEGATIVE, NEUTRAL, POSITIVE))
    outputs = np.array([math.log(neg + _EPS) - math.log(pos + _EPS),
                        math.log(neu + _EPS) - math.log(max(neg, pos) + _EPS),
                        reading.emotions.get(ANGER, 0.0), reading.emotions.get(ANXIETY, 0.0), float(ngram_logit)],
                       np.float32)
    vector = reading.vector if reading.vector is not None else np.zeros(0, np.float32)
    english = detect_language(text, fallback="zh") == "en"
    return np.concatenate([vector.astype(np.float32), outputs, cue_counts(text),
                           np.array([float(english)], np.float32), outputs * (0.0 if english else 1.0)])


_LINK = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")


def hashed_text(text: str) -> str:
    """What the hashed n-grams read: lower case, every link one token and every @handle one token
    (which company a customer writes to says nothing about how the customer feels)."""
    return _HANDLE.sub("@user", _LINK.sub(" http ", text.lower()))


def hashing() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    words = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=HASH_FEATURES, alternate_sign=False,
                              binary=True, norm="l2", dtype=np.float32, token_pattern=r"(?u)\b\w+\b")
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 3), n_features=HASH_FEATURES, alternate_sign=False,
                              binary=True, norm="l2", dtype=np.float32)
    return words, chars


HEADS = ("negative", "positive", "anger", "anxiety")


@dataclass
class CsHead:
    """Weights per head: ``dense`` (over the standardised dense features) and ``sparse`` (hashed n-grams)."""

    mean: np.ndarray
    scale: np.ndarray
    dense: np.ndarray  # (heads, dense features)
    sparse: np.ndarray  # (heads, 2 * HASH_FEATURES)
    bias: np.ndarray  # (heads,)
    thresholds: dict[str, dict[str, float]]  # language -> head -> threshold

    @classmethod
    def load(cls, path: Path = DEFAULT_HEAD) -> CsHead:
        data = np.load(path)
        return cls(mean=data["mean"].astype(np.float32), scale=data["scale"].astype(np.float32),
                   dense=data["dense"].astype(np.float32), sparse=data["sparse"].astype(np.float32),
                   bias=data["bias"].astype(np.float32), thresholds=json.loads(str(data["thresholds"])))

    def __post_init__(self) -> None:
        self._words, self._chars = hashing()
        # (features, heads), C-contiguous: a sparse row times these is a gather, not a copy of the table
        self._w_words = np.ascontiguousarray(self.sparse[:, :HASH_FEATURES].T, dtype=np.float32)
        self._w_chars = np.ascontiguousarray(self.sparse[:, HASH_FEATURES:].T, dtype=np.float32)
        self._w_dense = np.ascontiguousarray(self.dense.T / self.scale[:, None], dtype=np.float32)
        self._b = (self.bias - (self.mean / self.scale) @ self.dense.T).astype(np.float32)

    def probabilities(self, texts: Sequence[str], dense: np.ndarray) -> np.ndarray:
        """(texts, heads) probabilities of negative, positive-if-not-negative, anger, anxiety."""
        lowered = [hashed_text(t) for t in texts]
        z = dense.astype(np.float32) @ self._w_dense + self._b  # the standardisation folded into the weights
        z += np.asarray(self._words.transform(lowered) @ self._w_words)
        z += np.asarray(self._chars.transform(lowered) @ self._w_chars)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def results(self, texts: Sequence[str], readings: Sequence[Reading], ngram_logits: Sequence[float]) -> list[
            SentimentResult]:
        texts, dense = features(texts, readings, ngram_logits)
        return [self.result(text, row) for text, row in zip(texts, self.probabilities(texts, dense))]

    def thresholds_for(self, text: str) -> dict[str, float]:
        return thresholds_for(self.thresholds, text)

    def margin(self, text: str, p_negative: float) -> float:
        """How far (in log-odds) ``P(negative)`` is from the language's negative threshold."""
        return abs(_logit(p_negative) - _logit(self.thresholds_for(text)["negative"]))

    def result(self, text: str, probabilities: Sequence[float]) -> SentimentResult:
        return result_of(self.thresholds_for(text), probabilities)


def thresholds_for(thresholds: dict[str, dict[str, float]], text: str) -> dict[str, float]:
    """The thresholds of the text's language (Chinese for a language without its own)."""
    return thresholds.get(detect_language(text, fallback="zh")) or thresholds["zh"]


def result_of(t: dict[str, float], probabilities: Sequence[float]) -> SentimentResult:
    """The reading of ``P(negative)``, ``P(positive | not negative)``, ``P(anger)``, ``P(anxiety)``
    under the thresholds ``t`` of the message's language."""
    p_negative, p_positive, p_anger, p_anxiety = (float(v) for v in probabilities)
    if p_negative >= t["negative"]:
        label, score = NEGATIVE, -(0.25 + 0.75 * _above(p_negative, t["negative"]))
        confidence = p_negative
    elif p_positive >= t["positive"]:
        label, score = POSITIVE, 0.25 + 0.75 * _above(p_positive, t["positive"])
        confidence = (1 - p_negative) * p_positive
    else:
        label = NEUTRAL  # inside the band the sign says which way the message leans
        score = max(-0.24, min(0.24, (1 - p_negative) * p_positive - p_negative))
        confidence = (1 - p_negative) * (1 - p_positive)
    return SentimentResult(label=label, score=round(max(-1.0, min(1.0, score)), 3),
                           confidence=round(confidence, 3),
                           emotions={ANGER: round(_strength(p_anger, t["anger"]), 3),
                                     ANXIETY: round(_strength(p_anxiety, t["anxiety"]), 3)})


def features(texts: Sequence[str], readings: Sequence[Reading], ngram_logits: Sequence[float]) -> tuple[
        list[str], np.ndarray]:
    """The texts as the model reads them (start and end of a very long message) and their dense features."""
    clipped = [clip(t) for t in texts]
    return clipped, np.stack([dense_features(r, g, t) for t, r, g in zip(clipped, readings, ngram_logits)])


def _logit(p: float) -> float:
    p = min(max(float(p), _EPS), 1 - _EPS)
    return math.log(p / (1 - p))


def _above(p: float, threshold: float) -> float:
    return (p - threshold) / max(1e-6, 1 - threshold)


def _strength(p: float, threshold: float) -> float:
    """Rescale so that the fitted threshold reads 0.5 (``EMOTION_THRESHOLD``), monotone in ``p``."""
    if p < threshold:
        return min(0.499, 0.5 * p / max(threshold, 1e-6))
    return 0.5 + 0.5 * _above(p, threshold)
