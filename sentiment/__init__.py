"""Sentiment and emotion of one customer message, behind one small interface.

``SentimentAnalyzer`` is what the actions depend on. The default (``SENTIMENT_BACKEND=transformers``)
is ``ensemble.EnsembleAnalyzer``: the shipped ``transformers`` model (``transformer.py``,
``model/``) with the cue lists of ``lexicon.yml`` on top. ``LexiconAnalyzer`` alone is the
light fallback (``SENTIMENT_BACKEND=lexicon``). Analyzers never raise on odd input: empty,
very long, emoji-only or mixed-script text yields a neutral result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

NEGATIVE = "negative"
NEUTRAL = "neutral"
POSITIVE = "positive"

ANGER = "anger"
ANXIETY = "anxiety"
NO_EMOTION = "none"


@dataclass(frozen=True)
class SentimentResult:
    """Polarity plus the two routing emotions for one message.

    ``score`` is signed polarity in [-1, 1]; ``confidence`` is how sure the analyzer is of
    ``label``; ``emotions`` maps ``anger`` / ``anxiety`` to a strength in [0, 1].
    """

    label: str
    score: float
    confidence: float
    emotions: dict[str, float] = field(default_factory=dict)

    @property
    def emotion(self) -> str:
        """The dominant routing emotion, or ``none`` below the reporting threshold."""
        strongest = max(self.emotions.items(), key=lambda kv: kv[1], default=(NO_EMOTION, 0.0))
        return strongest[0] if strongest[1] >= EMOTION_THRESHOLD else NO_EMOTION

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score, "confidence": self.confidence,
                "emotions": dict(self.emotions), "emotion": self.emotion}

    @classmethod
    def from_dict(cls, data: Any) -> SentimentResult | None:
        """A result carried in parse data; ``None`` when absent or malformed."""
        try:
            if not isinstance(data, dict) or data.get("label") not in (NEGATIVE, NEUTRAL, POSITIVE):
                return None
            emotions = {str(k): min(1.0, max(0.0, float(v))) for k, v in (data.get("emotions") or {}).items()}
            return cls(label=data["label"], score=max(-1.0, min(1.0, float(data["score"]))),
                       confidence=max(0.0, min(1.0, float(data.get("confidence", 1.0)))), emotions=emotions)
        except (TypeError, ValueError, KeyError):
            return None

    @classmethod
    def neutral(cls) -> SentimentResult:
        return cls(label=NEUTRAL, score=0.0, confidence=1.0, emotions={ANGER: 0.0, ANXIETY: 0.0})


EMOTION_THRESHOLD = 0.5


class SentimentAnalyzer(Protocol):
    def analyze(self, text: str) -> SentimentResult:
        """Return the sentiment of ``text``; never raise."""

    def analyze_many(self, texts: Sequence[str], batch_size: int = 32) -> list[SentimentResult]:
        """Results in input order (batched where the analyzer can); never raise."""
