"""Say "I did not understand" when a message is mostly words the model has never seen.

DIET is confidently wrong on gibberish ("qwzx plorf vuut" → thank, 0.65) and on blank messages,
because character n-grams always match something. This classifier remembers the training
vocabulary and, after DIET, turns the intent into ``nlu_fallback`` when the share of unknown
words reaches ``threshold`` or the message is blank. Numbers (order numbers), punctuation and
emoji are not counted either way: "😡😡" stays with DIET, which reads it well.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT, TOKENS_NAMES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FALLBACK_INTENT = "nlu_fallback"
_IGNORED = re.compile(r"^([Ee]?\d+|[\W_]+)$", re.UNICODE)
_VOCABULARY_FILE = "vocabulary.json"


def countable(words: List[str]) -> List[str]:
    return [w.lower() for w in words if w.strip() and not _IGNORED.match(w)]


def unknown_share(words: List[str], vocabulary: set[str]) -> Optional[float]:
    """Share of countable words not in ``vocabulary``; None when nothing is countable."""
    words = countable(words)
    if not words:
        return None
    return sum(1 for w in words if w not in vocabulary) / len(words)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownTextClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"threshold": 0.6}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[set[str]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._vocabulary = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "UnknownTextClassifier":
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
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "UnknownTextClassifier":
        vocabulary: set[str] = set()
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = set(json.loads((directory / _VOCABULARY_FILE).read_text(encoding="utf-8")))
        except ValueError:
            pass
        return cls(config, model_storage, resource, vocabulary)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not self._vocabulary:
                continue
            if not text.strip():
                share: Optional[float] = 1.0
            else:
                tokens = message.get(TOKENS_NAMES[TEXT]) or []
                share = unknown_share([t.text for t in tokens], self._vocabulary)
            if share is None or share < self._config["threshold"]:
                continue
            fallback = {"name": FALLBACK_INTENT, "confidence": float(share)}
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
        return messages
