"""Build the configured analyzer (``SENTIMENT_BACKEND``, ``SENTIMENT_MODEL``) — one place for the
NLU component in the Rasa server, the batch command and the benchmark."""

from __future__ import annotations

from pathlib import Path

from common.settings import Settings, SettingsError
from sentiment import SentimentAnalyzer
from sentiment.lexicon import LexiconAnalyzer


def build_analyzer(settings: Settings) -> SentimentAnalyzer:
    backend = settings.sentiment_backend
    if backend == "lexicon":
        return LexiconAnalyzer()
    if backend == "transformers":
        from sentiment.ensemble import EnsembleAnalyzer, Fusion
        from sentiment.ngram import NgramPolarity
        from sentiment.transformer import DEFAULT_MODEL, TransformerAnalyzer

        source = settings.sentiment_model
        model = TransformerAnalyzer(source, max_length=settings.sentiment_max_tokens).load()
        if Path(source).resolve() != DEFAULT_MODEL.resolve():
            # another model: its own outputs plus the lexicon's cues (the fusion was fitted for ours)
            return EnsembleAnalyzer(model, LexiconAnalyzer())
        from sentiment.cs_head import DEFAULT_HEAD, CsHead

        head = CsHead.load() if DEFAULT_HEAD.exists() else None
        teacher = None
        if head is not None and settings.sentiment_teacher == "unsure":
            from sentiment.teacher import ENCODER, TUNED, Cascade

            if ENCODER.exists() and TUNED.exists():
                teacher = Cascade.load(student_thresholds=head.thresholds).start()
        return EnsembleAnalyzer(model, LexiconAnalyzer(), NgramPolarity(), Fusion.load(), head, teacher)
    raise SettingsError(f"unknown SENTIMENT_BACKEND {backend!r}; available: transformers, lexicon")
