"""Turn confident-but-wrong guesses into ``nlu_fallback`` so the customer hears "please rephrase".

Classifiers are confidently wrong on keyboard mash ("qwzx plorf vuut"), on blank or
punctuation-only messages, and the FAQ retrieval intent can swallow off-topic sentences whose best
answer is a poor match. This component runs after the intent classifier and the answer selection
and sets the intent to ``nlu_fallback`` when

- the message is blank or punctuation only;
- the classifier is not sure (top confidence below ``trust_confidence``), the message has at least
  two countable words and the share of words never seen in training reaches ``unknown_threshold``
  (numbers such as order numbers, punctuation and emoji are not counted either way);
- the intent is the retrieval intent and the selected answer's confidence is below
  ``retrieval_threshold``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FALLBACK_INTENT = "nlu_fallback"
_IGNORED = re.compile(r"^([Ee]?\d+|[\W_]+)$", re.UNICODE)
_WORD_OR_EMOJI = re.compile(r"[\w\U0001F000-\U0001FAFF\u2600-\u27BF]", re.UNICODE)
_VOCABULARY_FILE = "vocabulary.json"


def countable(words: list[str]) -> list[str]:
    return [w.lower() for w in words if w.strip() and not _IGNORED.match(w)]


def unknown_share(words: list[str], vocabulary: set[str]) -> float | None:
    """Share of countable words not in ``vocabulary``; None when nothing is countable."""
    words = countable(words)
    if not words:
        return None
    return sum(1 for w in words if w not in vocabulary) / len(words)


def retrieval_confidence(message: Message, retrieval_intent: str) -> float | None:
    selector = (message.get("response_selector") or {}).get(retrieval_intent) or {}
    confidence = (selector.get("response") or {}).get("confidence")
    return float(confidence) if confidence is not None else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FallbackGuard(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "unknown_threshold": 0.8,
            "trust_confidence": 0.6,
            "retrieval_intent": "faq",
            "retrieval_threshold": 0.1,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: set[str] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._vocabulary = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FallbackGuard:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: set[str] = set()
        for example in training_data.training_examples:
            tokens = example.get(TOKENS_NAMES[TEXT]) or []
            vocabulary.update(countable([t.text for t in tokens]))
        self._vocabulary = vocabulary
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _VOCABULARY_FILE).write_text(
                json.dumps(sorted(vocabulary), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FallbackGuard:
        vocabulary: set[str] = set()
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = set(json.loads((directory / _VOCABULARY_FILE).read_text(encoding="utf-8")))
        except ValueError:
            pass
        return cls(config, model_storage, resource, vocabulary)

    def _reason(self, message: Message) -> float | None:
        """The fallback confidence when the guess should not be trusted, else None."""
        text = message.get(TEXT) or ""
        if not _WORD_OR_EMOJI.search(text):
            return 1.0  # blank or punctuation only
        intent = (message.get(INTENT) or {}).get("name")
        confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
        if self._vocabulary and confidence < self._config["trust_confidence"]:
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            words = countable([t.text for t in tokens])
            share = unknown_share(words, self._vocabulary)
            if len(words) >= 2 and share is not None and share >= self._config["unknown_threshold"]:
                return share
        if intent == self._config["retrieval_intent"]:
            answer = retrieval_confidence(message, intent)
            if answer is not None and answer < self._config["retrieval_threshold"]:
                return 1.0 - answer
        return None

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            confidence = self._reason(message)
            if confidence is None:
                continue
            fallback = {"name": FALLBACK_INTENT, "confidence": float(confidence)}
            ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != FALLBACK_INTENT]
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
        return messages
