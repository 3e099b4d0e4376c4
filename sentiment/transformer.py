"""A ``transformers`` sequence-classification model as a ``SentimentAnalyzer``.

Loads any local directory or Hugging Face hub id with ``AutoTokenizer`` and
``TFAutoModelForSequenceClassification`` (TensorFlow is already in the process for Rasa; a hub
model saved for PyTorch loads too, from its safetensors). The labels are read from the model's
``config.id2label``:

- the shipped model (``sentiment/model``, built by ``sentiment_training``) declares
  ``sentiment_heads``: a softmax over negative/neutral/positive and sigmoid outputs for anger
  and anxiety;
- any other model is read as one softmax; labels are matched by name (``negative``, ``NEG``,
  ``angry``, ``fear``, ``LABEL_0``/``LABEL_1`` for binary models …), so a user can point
  ``SENTIMENT_MODEL`` at a hub model without code changes.

One message takes a few milliseconds on two CPU cores: inference runs in a ``tf.function`` with
a shape-polymorphic signature, and long texts keep their start and end (``max_length`` tokens).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import ANGER, ANXIETY, NEGATIVE, NEUTRAL, POSITIVE, SentimentResult

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).with_name("model")
MAX_CHARS = 4000  # a message longer than this is cut before tokenising (head and tail kept)
NEUTRAL_BAND = 0.25  # |score| below this reads as neutral for models without a neutral class

_NAME_MAP = {
    NEGATIVE: re.compile(r"^(neg|negative|label_0|bad|1 star|2 stars)", re.I),
    POSITIVE: re.compile(r"^(pos|positive|label_1|good|4 stars|5 stars)", re.I),
    NEUTRAL: re.compile(r"^(neu|neutral|none|3 stars)", re.I),
    ANGER: re.compile(r"^(anger|angry|annoyance|rage)", re.I),
    ANXIETY: re.compile(r"^(anxiety|anxious|fear|nervousness|worry)", re.I),
}


@dataclass(frozen=True)
class LabelPlan:
    """Which logits mean what, and how to turn them into probabilities."""

    polarity: dict[str, int]  # negative/neutral/positive -> logit index
    emotions: dict[str, int]  # anger/anxiety -> logit index
    emotion_sigmoid: bool  # True: emotions are independent sigmoids; False: part of one softmax

    @classmethod
    def from_config(cls, config: Any) -> LabelPlan:
        id2label = {int(i): str(label) for i, label in config.id2label.items()}
        heads = getattr(config, "sentiment_heads", None)
        if heads:
            label2id = {label: i for i, label in id2label.items()}
            return cls(
                polarity={name: label2id[name] for name in heads["polarity"]},
                emotions={name: label2id[name] for name in heads["emotions"]},
                emotion_sigmoid=True,
            )
        polarity: dict[str, int] = {}
        emotions: dict[str, int] = {}
        for index, label in sorted(id2label.items()):
            for name, pattern in _NAME_MAP.items():
                if pattern.match(label.strip()):
                    (emotions if name in (ANGER, ANXIETY) else polarity).setdefault(name, index)
                    break
        if NEGATIVE not in polarity and POSITIVE not in polarity and not emotions:
            raise ValueError(f"cannot map the model's labels {sorted(id2label.values())} to sentiment")
        return cls(polarity=polarity, emotions=emotions, emotion_sigmoid=False)


def head_tail(ids: list[int], max_length: int) -> list[int]:
    """Keep the first and last tokens (``ids`` includes the two special tokens at its ends)."""
    if len(ids) <= max_length:
        return ids
    room = max_length - 2
    head = room // 2
    return [ids[0], *ids[1 : 1 + head], *ids[len(ids) - 1 - (room - head) : -1], ids[-1]]


def clip(text: str) -> str:
    """A very long message as the models read it: its start and its end."""
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS // 2] + text[-MAX_CHARS // 2 :]


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Padded token ids and attention mask (int32) of ``texts``, each cut to ``max_length`` tokens."""
    encoded = [head_tail(ids, max_length) for ids in tokenizer(list(texts))["input_ids"]]
    width = max(len(ids) for ids in encoded)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = np.full((len(encoded), width), pad, dtype=np.int32)
    mask = np.zeros((len(encoded), width), dtype=np.int32)
    for row, seq in enumerate(encoded):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class TransformerAnalyzer:
    """Polarity and anger/anxiety from a sequence-classification model."""

    def __init__(self, model: str | Path = DEFAULT_MODEL, *, max_length: int = 128, threads: int = 2) -> None:
        self._source = str(model)
        self._max_length = max_length
        self._threads = threads
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any, LabelPlan] | None = None

    @property
    def source(self) -> str:
        return self._source

    def load(self) -> TransformerAnalyzer:
        """Load tokenizer and model now (otherwise on first use); raises if the model is unusable."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
        return self

    def _load(self) -> tuple[Any, Any, LabelPlan]:
        import tensorflow as tf
        from transformers import AutoTokenizer, TFAutoModelForSequenceClassification
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        tokenizer = AutoTokenizer.from_pretrained(self._source)
        model = TFAutoModelForSequenceClassification.from_pretrained(self._source)
        plan = LabelPlan.from_config(model.config)

        spec = tf.TensorSpec([None, None], tf.int32)
        encoder = getattr(model, "bert", None)
        classifier = getattr(model, "classifier", None)

        if encoder is not None and classifier is not None and plan.emotion_sigmoid:
            # the shipped model: the same pass also returns the sentence vector (pooled CLS and the mean of
            # the last layer) that the customer-service head (``cs_head.py``) reads
            @tf.function(input_signature=[spec, spec], reduce_retracing=True)
            def logits(ids: Any, mask: Any) -> Any:
                out = encoder(input_ids=ids, attention_mask=mask, training=False)
                weights = tf.cast(mask, out.last_hidden_state.dtype)[:, :, None]
                mean = tf.reduce_sum(out.last_hidden_state * weights, 1) / tf.maximum(tf.reduce_sum(weights, 1), 1.0)
                return classifier(out.pooler_output), tf.concat([out.pooler_output, mean], axis=-1)
        else:
            @tf.function(input_signature=[spec, spec], reduce_retracing=True)
            def logits(ids: Any, mask: Any) -> Any:
                return model(input_ids=ids, attention_mask=mask, training=False).logits, tf.zeros((tf.shape(ids)[0], 0))

        logits(tf.ones((1, 4), tf.int32), tf.ones((1, 4), tf.int32))  # trace once
        logger.info("sentiment model loaded from %s (labels %s)", self._source, model.config.id2label)
        return tokenizer, logits, plan

    def analyze(self, text: str) -> SentimentResult:
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Sequence[str], batch_size: int = 32) -> list[SentimentResult]:
        """Results in input order; a text the model cannot read yields neutral (and a log line)."""
        return [to_result(r) if r else SentimentResult.neutral() for r in self.readings(texts, batch_size)]

    def readings(self, texts: Sequence[str], batch_size: int = 32) -> list[Reading | None]:
        """The model's probabilities per text; ``None`` for blank text or when the model failed."""
        out: list[Reading | None] = [None] * len(texts)
        readable = [(i, t) for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        for start in range(0, len(readable), batch_size):
            chunk = readable[start : start + batch_size]
            try:
                for (index, _), reading in zip(chunk, self._predict([t for _, t in chunk])):
                    out[index] = reading
            except Exception:  # the analyzer must never cost the customer a reply
                logger.exception("sentiment model failed on %d message(s); using neutral", len(chunk))
        return out

    def _predict(self, texts: Iterable[str]) -> list[Reading]:
        tokenizer, logits_fn, plan = self._loaded or self.load()._loaded  # type: ignore[misc]
        raw, vectors = logits_fn(*encode(tokenizer, [clip(t) for t in texts], self._max_length))
        raw, vectors = raw.numpy().astype(np.float64), vectors.numpy().astype(np.float32)
        return [Reading.from_logits(row, plan, vector if vector.size else None) for row, vector in zip(raw, vectors)]


@dataclass(frozen=True)
class Reading:
    """What the model says about one text: polarity probabilities and emotion strengths."""

    polarity: dict[str, float]
    emotions: dict[str, float]
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # sentence vector (shipped model)

    @classmethod
    def from_logits(cls, row: np.ndarray, plan: LabelPlan, vector: np.ndarray | None = None) -> Reading:
        if plan.emotion_sigmoid:
            pol = dict(zip(plan.polarity, _softmax(row[list(plan.polarity.values())])))
            emotions = {name: 1 / (1 + math.exp(-row[i])) for name, i in plan.emotions.items()}
        else:
            probs = _softmax(row)
            pol = {name: float(probs[i]) for name, i in plan.polarity.items()}
            emotions = {name: float(probs[i]) for name, i in plan.emotions.items()}
            total = sum(pol.values()) or 1.0  # renormalise the polarity part of one softmax
            pol = {k: v / total for k, v in pol.items()}
        return cls({k: float(v) for k, v in pol.items()}, {k: float(v) for k, v in emotions.items()}, vector)


def to_result(reading: Reading) -> SentimentResult:
    pol, emotions = reading.polarity, reading.emotions
    negative, positive = pol.get(NEGATIVE, 0.0), pol.get(POSITIVE, 0.0)
    score = positive - negative
    if NEUTRAL in pol:
        label = max(pol, key=pol.__getitem__)
    elif pol:
        label = NEUTRAL if abs(score) < NEUTRAL_BAND else (POSITIVE if score > 0 else NEGATIVE)
    else:
        label = NEGATIVE if max(emotions.values(), default=0) >= 0.5 else NEUTRAL
        score = -max(emotions.values(), default=0.0)
    confidence = pol.get(label, 1 - abs(score))
    return SentimentResult(
        label=label,
        score=round(float(score), 3),
        confidence=round(float(confidence), 3),
        emotions={ANGER: round(float(emotions.get(ANGER, 0.0)), 3),
                  ANXIETY: round(float(emotions.get(ANXIETY, 0.0)), 3)},
    )
