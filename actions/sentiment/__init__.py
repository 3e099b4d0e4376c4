"""Sentiment and emotion of one customer message, behind one small interface.

``SentimentAnalyzer`` is what the actions depend on. ``LexiconAnalyzer`` (zh+en cue lists in
``lexicon.yml``) is the default that works everywhere; a ``transformers`` model plugs in through
the same protocol (``SENTIMENT_BACKEND=transformers``). Analyzers never raise on odd input: empty,
very long, emoji-only or mixed-script text yields a neutral result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

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

    @classmethod
    def neutral(cls) -> "SentimentResult":
        return cls(label=NEUTRAL, score=0.0, confidence=1.0, emotions={ANGER: 0.0, ANXIETY: 0.0})


EMOTION_THRESHOLD = 0.5


class SentimentAnalyzer(Protocol):
    def analyze(self, text: str) -> SentimentResult:
        """Return the sentiment of ``text``; never raise."""
