"""A zh+en lexicon analyzer: cue words, negation and intensifiers, no model needed.

It is the baseline the trained model must beat, and the fallback when no model is configured.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sentiment import (
    ANGER,
    ANXIETY,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    SentimentResult,
)

logger = logging.getLogger(__name__)

DEFAULT_LEXICON = Path(__file__).with_name("lexicon.yml")
MAX_CHARS = 2000  # longer messages are analysed on their first part
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Lexicon:
    negative: dict[str, dict[str, float]]
    positive: dict[str, dict[str, float]]
    anger: dict[str, dict[str, float]]
    anxiety: dict[str, dict[str, float]]
    negation: dict[str, list[str]]
    intensifiers: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path = DEFAULT_LEXICON) -> Lexicon:
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(**{key: raw[key] for key in cls.__dataclass_fields__})


def _en_hits(text: str, cues: dict[str, float]) -> list[tuple[int, float]]:
    hits = []
    for cue, weight in cues.items():
        for match in re.finditer(r"(?<![a-z])" + re.escape(cue) + r"(?![a-z])", text):
            hits.append((match.start(), float(weight)))
    return hits


def _zh_hits(text: str, cues: dict[str, float]) -> list[tuple[int, float]]:
    hits = []
    # longest cue first so "急死了" is not also counted as "急"
    taken: list[tuple[int, int]] = []
    for cue in sorted(cues, key=len, reverse=True):
        start = text.find(cue)
        while start != -1:
            end = start + len(cue)
            if not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
                hits.append((start, float(cues[cue])))
            start = text.find(cue, end)
    return hits


class LexiconAnalyzer:
    """Scores polarity and anger/anxiety from cue lists (``lexicon.yml``)."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self._lexicon = lexicon or Lexicon.load()

    def _hits(self, text: str, table: dict[str, dict[str, float]]) -> list[tuple[int, float]]:
        return _zh_hits(text, table.get("zh", {})) + _en_hits(text, table.get("en", {}))

    def _negated(self, text: str, position: int) -> bool:
        window = text[max(0, position - 4) : position]
        if any(n in window for n in self._lexicon.negation.get("zh", [])) and _CJK.search(window):
            return True
        words = re.findall(r"[a-z']+", text[max(0, position - 16) : position])[-2:]
        return any(w in self._lexicon.negation.get("en", []) or w.endswith("n't") for w in words)

    def analyze_many(self, texts: Sequence[str], batch_size: int = 32) -> list[SentimentResult]:
        return [self.analyze(text) for text in texts]

    def analyze(self, text: str) -> SentimentResult:
        try:
            return self._analyze(text)
        except Exception:  # an analyzer must never break a turn
            logger.exception("lexicon analyzer failed; falling back to neutral")
            return SentimentResult.neutral()

    def _analyze(self, text: str) -> SentimentResult:
        if not isinstance(text, str) or not text.strip():
            return SentimentResult.neutral()
        lowered = text[:MAX_CHARS].lower()
        boost = 1.0 + 0.25 * sum(
            lowered.count(word)
            for lang in ("zh", "en")
            for word in self._lexicon.intensifiers.get(lang, [])
        )
        boost = min(boost, 2.0)

        negative = 0.0
        for pos, weight in self._hits(lowered, self._lexicon.negative):
            # a negated negative cue ("not bad", "不差") counts as mildly positive
            negative += -0.3 * weight if self._negated(lowered, pos) else weight
        positive = 0.0
        for pos, weight in self._hits(lowered, self._lexicon.positive):
            positive += -0.5 * weight if self._negated(lowered, pos) else weight

        raw = (positive - negative) * boost
        score = math.tanh(raw / 1.5)
        if score <= -0.25:
            label = NEGATIVE
        elif score >= 0.25:
            label = POSITIVE
        else:
            label = NEUTRAL
        confidence = 0.5 + 0.5 * abs(score) if label != NEUTRAL else 1.0 - abs(score)

        emotions = {}
        for name, table in ((ANGER, self._lexicon.anger), (ANXIETY, self._lexicon.anxiety)):
            total = sum(w for _, w in self._hits(lowered, table)) * boost
            emotions[name] = round(min(1.0, total), 3)
        return SentimentResult(
            label=label, score=round(score, 3), confidence=round(confidence, 3), emotions=emotions
        )
