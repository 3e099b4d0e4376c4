"""The analyzer the bot uses: the transformer, a character n-gram model and the lexicon's cues.

- Polarity: the transformer's negative-vs-positive and neutral margins and the n-gram model's
  log-odds are weighed by a small logistic fusion fitted per language on the data sets'
  validation splits (``fusion.json``, made by ``sentiment_training.fuse``). The transformer
  decides how likely a message is to be neutral; the fusion decides negative vs positive.
- With the customer-service head (``cs_head.py``), the head gives polarity and emotions instead,
  and the cascade (``teacher.py``) re-reads the polarity of the messages it is unsure of with
  the full 12-layer encoder.
- Emotions: the transformer reads indirect feelings ("呵呵，又是这样", "great, just great"); the
  lexicon is precise on explicit cue phrases ("急死了", "this is ridiculous") that a support team
  lists and wants honoured. Each emotion is the stronger of the two, and a neutral message with a
  routing emotion is read as negative.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment import EMOTION_THRESHOLD, NEGATIVE, NEUTRAL, POSITIVE, SentimentAnalyzer, SentimentResult
from sentiment.cs_head import features as head_features
from sentiment.language import detect_language
from sentiment.transformer import Reading, TransformerAnalyzer, to_result

logger = logging.getLogger(__name__)

DEFAULT_FUSION = Path(__file__).with_name("fusion.json")
_EPS = 1e-6


def features(reading: Reading, ngram_logit: float) -> list[float]:
    """[transformer negative-vs-positive log-odds, transformer neutral margin, n-gram log-odds]."""
    p = reading.polarity
    neg, pos, neu = p.get(NEGATIVE, 0.0), p.get(POSITIVE, 0.0), p.get(NEUTRAL, 0.0)
    return [math.log(neg + _EPS) - math.log(pos + _EPS), math.log(neu + _EPS) - math.log(max(neg, pos) + _EPS),
            float(ngram_logit)]


@dataclass(frozen=True)
class Fusion:
    """Per-language logistic weights: P(negative | not neutral) from ``features``."""

    weights: dict[str, tuple[tuple[float, ...], float]]

    @classmethod
    def load(cls, path: Path = DEFAULT_FUSION) -> Fusion:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls({lang: (tuple(w["coef"]), float(w["bias"])) for lang, w in raw["languages"].items()})

    def negative_probability(self, language: str, x: Sequence[float]) -> float:
        coef, bias = self.weights.get(language) or self.weights["zh"]
        z = bias + sum(c * v for c, v in zip(coef, x))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def combine(model: SentimentResult, cues: SentimentResult) -> SentimentResult:
    """Each emotion is the stronger reading; a neutral message with a routing emotion is negative.

    The lexicon's polarity is not used: on the validation splits it only cost accuracy.
    """
    emotions = {k: max(model.emotions.get(k, 0.0), cues.emotions.get(k, 0.0))
                for k in {*model.emotions, *cues.emotions}}
    label, score, confidence = model.label, model.score, model.confidence
    strongest = max(emotions.values(), default=0.0)
    if strongest >= EMOTION_THRESHOLD and label == NEUTRAL:
        label, score, confidence = NEGATIVE, min(score, -strongest), strongest
    return SentimentResult(label=label, score=round(score, 3), confidence=round(confidence, 3),
                           emotions={k: round(v, 3) for k, v in sorted(emotions.items())})


class EnsembleAnalyzer:
    """``head`` (``cs_head.CsHead``), when given, reads polarity and emotions from the model's vector,
    outputs and the n-gram log-odds; otherwise the ``fusion`` weighs the outputs for polarity.
    ``teacher`` (``teacher.Cascade``), when given and loaded, re-reads the polarity of the messages
    whose head reading is close to a threshold; ``teacher_reads`` counts them."""

    def __init__(self, model: TransformerAnalyzer, cues: SentimentAnalyzer, ngram: Any = None,
                 fusion: Fusion | None = None, head: Any = None, teacher: Any = None) -> None:
        self.model, self.cues, self.ngram, self.fusion, self.head = model, cues, ngram, fusion, head
        self.teacher = teacher
        self.teacher_reads = 0

    def analyze(self, text: str) -> SentimentResult:
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Sequence[str], batch_size: int = 32) -> list[SentimentResult]:
        readings = self.model.readings(texts, batch_size)
        ngram = self._ngram_logits(texts, readings)
        headed = self._head_results(texts, readings, ngram)
        out = []
        for text, reading, logit, from_head in zip(texts, readings, ngram, headed):
            if reading is None:
                model = SentimentResult.neutral()
            elif from_head is not None:
                model = from_head
            elif logit is None or self.fusion is None:
                model = to_result(reading)
            else:
                model = to_result(self._fused(text, reading, logit))
            out.append(combine(model, self.cues.analyze(text)))
        return out

    def _ngram_logits(self, texts: Sequence[str], readings: list[Reading | None]) -> list[float | None]:
        wanted = [i for i, r in enumerate(readings) if r is not None]
        logits: list[float | None] = [None] * len(texts)
        if self.ngram is None or not wanted:
            return logits
        try:
            for i, value in zip(wanted, self.ngram.negative_logit([texts[i] for i in wanted])):
                logits[i] = float(value)
        except Exception:  # the transformer alone still answers
            logger.exception("n-gram polarity failed on %d message(s)", len(wanted))
        return logits

    def _head_results(self, texts: Sequence[str], readings: list[Reading | None],
                      ngram: list[float | None]) -> list[SentimentResult | None]:
        out: list[SentimentResult | None] = [None] * len(texts)
        wanted = [i for i, (r, g) in enumerate(zip(readings, ngram)) if r is not None and r.vector is not None
                  and g is not None]
        if self.head is None or not wanted:
            return out
        try:
            picked = [readings[i] for i in wanted]
            logits = [ngram[i] for i in wanted]
            clipped, dense = head_features([texts[i] for i in wanted], [r for r in picked if r is not None],
                                           [g for g in logits if g is not None])  # none are: see ``wanted``
            probabilities = self.head.probabilities(clipped, dense)
            results = [self.head.result(t, p) for t, p in zip(clipped, probabilities)]
        except Exception:  # the fusion still answers
            logger.exception("customer-service head failed on %d message(s)", len(wanted))
            return out
        if self.teacher is not None and self.teacher.ready:
            self._ask_teacher(clipped, probabilities, results)
        for i, result in zip(wanted, results):
            out[i] = result
        return out

    def _ask_teacher(self, texts: list[str], probabilities: Any, results: list[SentimentResult]) -> None:
        """Replace the polarity of the messages the head is unsure of with the teacher's (emotions stay)."""
        assert self.teacher is not None and self.head is not None
        unsure = [j for j, (t, p) in enumerate(zip(texts, probabilities))
                  if self.teacher.unsure(detect_language(t, fallback="zh"), self.head.margin(t, p[0]))]
        if not unsure:
            return
        try:
            polarity = self.teacher.probabilities([texts[j] for j in unsure])
        except Exception:  # the student's reading stands
            logger.exception("sentiment teacher failed on %d message(s)", len(unsure))
            return
        self.teacher_reads += len(unsure)
        for j, (p_negative, p_positive) in zip(unsure, polarity):
            results[j] = self.teacher.result(texts[j], [p_negative, p_positive, *probabilities[j][2:]])

    def _fused(self, text: str, reading: Reading, ngram_logit: float) -> Reading:
        assert self.fusion is not None
        neutral = reading.polarity.get(NEUTRAL, 0.0)
        p_negative = self.fusion.negative_probability(detect_language(text, fallback="zh"),
                                                      features(reading, ngram_logit))
        polarity = {NEGATIVE: (1 - neutral) * p_negative, NEUTRAL: neutral, POSITIVE: (1 - neutral) * (1 - p_negative)}
        return Reading(polarity, reading.emotions)
