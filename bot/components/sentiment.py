"""Sentiment and emotion of every user message, read inside the Rasa server.

Runs the configured analyzer (``SENTIMENT_BACKEND``; by default the shipped ``transformers``
model with the n-gram fusion and the lexicon's cues, see ``sentiment``) and puts the
result in the parse data as ``sentiment`` (label, score, confidence, emotions, emotion). The
action that sets the tone slots (``actions/signals.py``) reads it from ``latest_message``.

Why here and not in the action server: TensorFlow is already loaded in this process for the NLU
pipeline, so the model adds about 0.1 GB here against about 0.7 GB in the action server, and the
time per message is the same in either place. Nothing is trained: the model is built by
``sentiment_training`` and loaded from ``SENTIMENT_MODEL`` when the Rasa model loads.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.normalise_text import TEXT_MASH

logger = logging.getLogger(__name__)
SENTIMENT = "sentiment"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class SentimentComponent(GraphComponent):
    def __init__(self, analyzer: Any) -> None:
        self._analyzer = analyzer

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentComponent:
        from common.settings import get_settings
        from sentiment.factory import build_analyzer

        return cls(build_analyzer(get_settings()))

    def process(self, messages: list[Message]) -> list[Message]:
        # button payloads and keyboard mash (flagged by the text normaliser) carry no feeling: the action
        # server reads them with the lexicon, which finds no cue in them (neutral)
        readable = [m for m in messages if isinstance(m.get(TEXT), str) and not str(m.get(TEXT)).startswith("/")
                    and not m.get(TEXT_MASH)]
        if not readable:
            return messages
        try:
            results = self._analyzer.analyze_many([str(m.get(TEXT)) for m in readable])
        except Exception:  # analyzers do not raise; this is the last guard for the customer's turn
            logger.exception("sentiment analysis failed; the action server falls back to the lexicon")
            return messages
        for message, result in zip(readable, results):
            message.set(SENTIMENT, result.as_dict(), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
