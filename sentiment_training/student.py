"""Turn the e5 image into a ``transformers`` BERT classifier with a pruned vocabulary.

Keeps the first ``layers`` transformer layers (dropping top layers costs little before
fine-tuning and halves the run time) and the embedding rows of ``keep_ids``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment.teacher import assign_e5
from sentiment_training.e5_import import E5Image


def bert_config(img: E5Image, vocab_size: int, layers: int, labels: Sequence[str]):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=img.hidden,
        num_hidden_layers=layers,
        num_attention_heads=img.heads,
        intermediate_size=img.intermediate,
        hidden_act="gelu",
        max_position_embeddings=img.max_positions,
        type_vocab_size=img.type_vocab_size,
        layer_norm_eps=float(img.eps),
        pad_token_id=1,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        classifier_dropout=0.1,
    )


def build_model(img: E5Image, keep_ids: Sequence[int], layers: int, labels: Sequence[str]):
    """A ``TFBertForSequenceClassification`` carrying e5's weights (the head starts random)."""
    from transformers import TFBertForSequenceClassification

    config = bert_config(img, len(keep_ids), layers, labels)
    model = TFBertForSequenceClassification(config)
    model(model.dummy_inputs, training=False)  # build the variables
    assign_e5(model.bert, {**img.tensors, "emb.word": img.tensors["emb.word"][np.asarray(keep_ids)]},
              img.type_vocab_size)
    return model
