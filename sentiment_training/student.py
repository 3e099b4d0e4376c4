"""Turn the e5 image into a ``transformers`` BERT classifier with a pruned vocabulary.

Keeps the first ``layers`` transformer layers (dropping top layers costs little before
fine-tuning and halves the run time) and the embedding rows of ``keep_ids``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
    import tensorflow as tf
    from transformers import TFBertForSequenceClassification

    config = bert_config(img, len(keep_ids), layers, labels)
    model = TFBertForSequenceClassification(config)
    model(model.dummy_inputs, training=False)  # build the variables
    t = img.tensors
    emb = model.bert.embeddings
    assign = [
        (emb.weight, t["emb.word"][np.asarray(keep_ids)]),
        (emb.position_embeddings, t["emb.pos"]),
        (emb.token_type_embeddings, np.repeat(t["emb.type"], img.type_vocab_size, axis=0)),
        (emb.LayerNorm.gamma, t["emb.ln.w"]),
        (emb.LayerNorm.beta, t["emb.ln.b"]),
    ]
    for i, layer in enumerate(model.bert.encoder.layer):
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
    return model
