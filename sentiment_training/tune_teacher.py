"""Fine-tune the cascade's teacher (``sentiment/teacher/tuned.npz``, see ``sentiment/teacher.py``).

    .venv/bin/python -m sentiment_training.tune_teacher [--datasets ../shared/datasets]

The teacher is the full 12-layer multilingual-e5-small (``sentiment/teacher/encoder.npz``, made by
``sentiment_training.teacher``). Its embeddings and lower layers stay frozen as released; the top
``--layers`` layers (4) and two polarity outputs over the mean-pooled last layer (``P(negative)`` and
``P(positive | not negative)``) are fine-tuned on the customer-service data the head is trained on
(``sentiment_training.cs_head``: cs_complaints_en train, four fifths of the team's messages, the
calm NLU examples, samples of the review and emotion corpora as support at a lower weight). The
frozen layers are run once per text and their output kept, so only the top layers are trained:
about 20 minutes on two cores.

Then, on the customer-service validation data only (cs_complaints_en validation and the held-back
fifth of the team's messages): the teacher's thresholds per language, and per language the band
(``sentiment/teacher.py``): of the shares of validation messages that could be sent to the teacher
(nearest the student's threshold first), the one with the best macro-F1 of negative against not,
the smaller share on a tie. Run after ``sentiment_training.cs_head`` (the band is measured on the
shipped head). After retraining only the head, ``--band-only`` chooses the band again and keeps the
teacher. No test split is read.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.language import detect_language
from sentiment.teacher import ENCODER, MATRICES, PREFIX, TUNED, assign_e5, build_bert, mean_pool, read_encoder
from sentiment.transformer import DEFAULT_MODEL, clip, encode
from sentiment_training.cs_head import (
    CITATION,
    THRESHOLDS_FITTED_ON,
    Row,
    U,
    complaint_rows,
    f1,
    fit_thresholds,
    sources,
    support_rows,
    team_rows,
)
from sentiment_training.data import ROOT

SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # candidate shares of validation messages sent to the teacher


def frozen_states(bert: Any, tokenizer: Any, texts: list[str], low: int, batch: int = 64,
                  max_length: int = 128) -> list[np.ndarray]:
    """The hidden states entering layer ``low`` (float16, one (tokens, hidden) array per text), each text
    tokenised as the teacher reads it (``sentiment.teacher.TeacherEncoder.read``)."""
    out: list[np.ndarray] = [np.zeros(0)] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        ids, mask = encode(tokenizer, [PREFIX + clip(texts[i]) for i in idx], max_length)
        states = bert(input_ids=ids, attention_mask=mask, output_hidden_states=True, training=False).hidden_states[low]
        for row, i in enumerate(idx):
            out[i] = states[row, : int(mask[row].sum())].numpy().astype(np.float16)
    return out


def padded_states(states: list[np.ndarray], idx: list[int]) -> tuple[np.ndarray, np.ndarray]:
    width, hidden = max(len(states[i]) for i in idx), states[idx[0]].shape[1]
    x = np.zeros((len(idx), width, hidden), np.float32)
    mask = np.zeros((len(idx), width), np.int32)
    for row, i in enumerate(idx):
        x[row, : len(states[i])] = states[i]
        mask[row, : len(states[i])] = 1
    return x, mask


class TopLayers:
    """The trained part: the encoder's top layers over the frozen states, then the two polarity outputs."""

    def __init__(self, bert: Any, low: int, hidden: int, seed: int) -> None:
        import tensorflow as tf

        self.layers = bert.encoder.layer[low:]
        self.low = low
        self.head = tf.keras.layers.Dense(2, kernel_initializer=tf.keras.initializers.GlorotUniform(seed))
        self.head.build((None, hidden))
        self.variables = [v for layer in self.layers for v in layer.trainable_variables] + self.head.trainable_variables

    def __call__(self, states: Any, mask: Any, training: bool) -> Any:
        import tensorflow as tf

        extended = (1.0 - tf.cast(mask, tf.float32))[:, None, None, :] * -10000.0  # as TFBertModel builds it
        for layer in self.layers:
            states = layer(states, extended, None, None, None, None, False, training=training)[0]
        return self.head(mean_pool(states, mask))

    def probabilities(self, states: list[np.ndarray], batch: int = 64) -> np.ndarray:
        import tensorflow as tf

        out = np.zeros((len(states), 2), np.float32)
        order = sorted(range(len(states)), key=lambda i: len(states[i]))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            out[idx] = tf.sigmoid(self(*padded_states(states, idx), training=False)).numpy()
        return out

    def tensors(self) -> dict[str, np.ndarray]:
        """The tuned layers under ``e5_import`` names ([out, in] matrices), float16, and the head."""
        out: dict[str, np.ndarray] = {}
        for offset, layer in enumerate(self.layers):
            i, att, output = self.low + offset, layer.attention, layer.bert_output
            parts = (att.self_attention.query, att.self_attention.key, att.self_attention.value,
                     att.dense_output.dense, layer.intermediate.dense, output.dense)
            for dense, part in zip(parts, MATRICES):
                out[f"l{i}.{part}.w"] = dense.kernel.numpy().T.astype(np.float16)
                out[f"l{i}.{part}.b"] = dense.bias.numpy().astype(np.float16)
            out[f"l{i}.aln.w"] = att.dense_output.LayerNorm.gamma.numpy().astype(np.float16)
            out[f"l{i}.aln.b"] = att.dense_output.LayerNorm.beta.numpy().astype(np.float16)
            out[f"l{i}.oln.w"] = output.LayerNorm.gamma.numpy().astype(np.float16)
            out[f"l{i}.oln.b"] = output.LayerNorm.beta.numpy().astype(np.float16)
        out["head.w"] = self.head.kernel.numpy().T.astype(np.float32)
        out["head.b"] = self.head.bias.numpy().astype(np.float32)
        return out


def fine_tune(top: TopLayers, states: list[np.ndarray], rows: list[Row], *, epochs: float, lr: float, batch: int,
              seed: int) -> None:
    """Masked binary cross-entropy on both outputs, weighted per example; AdamW, warm-up, linear decay."""
    import tensorflow as tf

    targets = np.array([r.targets[:2] for r in rows], np.float32)
    weights = np.array([r.weight for r in rows], np.float32)
    steps = int(len(rows) / batch * epochs)
    warm = max(1, steps // 10)
    decay = tf.keras.optimizers.schedules.PolynomialDecay(lr, steps - warm, end_learning_rate=0.0)

    class Schedule(tf.keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step: Any) -> Any:
            step = tf.cast(step, tf.float32)
            return tf.where(step < warm, lr * step / warm, decay(step - warm))

    optimizer = tf.keras.optimizers.AdamW(learning_rate=Schedule(), weight_decay=0.01)

    @tf.function(reduce_retracing=True)
    def step(x: Any, mask: Any, y: Any, w: Any) -> Any:
        with tf.GradientTape() as tape:
            known = tf.cast(y >= 0, tf.float32) * w[:, None]
            loss_each = tf.nn.sigmoid_cross_entropy_with_logits(tf.maximum(y, 0.0), top(x, mask, training=True))
            loss = tf.reduce_sum(loss_each * known) / tf.maximum(tf.reduce_sum(known), 1.0)
        grads, _ = tf.clip_by_global_norm(tape.gradient(loss, top.variables), 1.0)
        optimizer.apply_gradients(zip(grads, top.variables))
        return loss

    rng, order, done, started, losses = random.Random(seed), list(range(len(rows))), 0, time.time(), []
    while done < steps:
        rng.shuffle(order)
        batches = []
        for start in range(0, len(order), batch * 50):  # similar lengths together, batches in random order
            chunk = sorted(order[start : start + batch * 50], key=lambda i: len(states[i]))
            batches += [chunk[i : i + batch] for i in range(0, len(chunk), batch)]
        rng.shuffle(batches)
        for idx in batches:
            losses.append(float(step(*padded_states(states, idx), targets[idx], weights[idx])))
            done += 1
            if done % 200 == 0:
                print(f"  step {done}/{steps}  loss {np.mean(losses[-200:]):.3f}  {time.time() - started:.0f}s",
                      flush=True)
            if done >= steps:
                break


def cascade_negative(student_negative: np.ndarray, teacher_negative: np.ndarray, margins: np.ndarray,
                     band: float) -> np.ndarray:
    """What the cascade calls negative: the teacher's reading inside the band, the student's outside."""
    return np.where(margins < band, teacher_negative, student_negative)


def choose_band(student_negative: np.ndarray, teacher_negative: np.ndarray, margins: np.ndarray,
                gold: np.ndarray, languages: np.ndarray) -> tuple[dict[str, float], dict[str, list]]:
    """Per language, the band (log-odds) of the candidate share with the best macro-F1 (negative
    against not) on the validation messages; the smaller share wins a tie."""
    band: dict[str, float] = {}
    report: dict[str, list] = {}
    for language in ("zh", "en"):
        mine = (languages == language) & (gold != U)
        g, best = gold[mine] == 1, (-1.0, 0.0, 0.0)
        report[language] = []
        for share in SHARES:
            width = float(np.quantile(margins[mine], share)) if share > 0 else 0.0
            predicted = cascade_negative(student_negative[mine], teacher_negative[mine], margins[mine], width)
            score = (f1(g, predicted) + f1(~g, ~predicted)) / 2
            report[language].append({"share": share, "band": round(width, 4), "macro_f1": round(score, 4)})
            if score > best[0] + 1e-9:
                best = (score, share, width)
        band[language] = round(best[2], 4)
        print(f"{language}: band {band[language]} (share {best[1]:.0%}, macro-F1 {best[0]:.4f})", flush=True)
    return band, report


def student_view(validation: list[Row], datasets: Path, cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The shipped head on the validation messages: its negative calls and its log-odds margins."""
    from sentiment.cs_head import CsHead
    from sentiment.ngram import NgramPolarity
    from sentiment.transformer import TransformerAnalyzer
    from sentiment_training.cs_head import featurise

    head = CsHead.load()
    dense, _ = featurise(validation, TransformerAnalyzer(DEFAULT_MODEL).load(), NgramPolarity(), cache)
    texts = [r.text for r in validation]
    probabilities = head.probabilities(texts, dense)
    negative = np.array([p[0] >= head.thresholds_for(t)["negative"] for t, p in zip(texts, probabilities)])
    margins = np.array([head.margin(t, p[0]) for t, p in zip(texts, probabilities)])
    return negative, margins


def band_again(datasets: Path, tuned: Path, cache: Path | None) -> int:
    """Keep the tuned teacher and its thresholds; choose its band again on the shipped head (after
    ``sentiment_training.cs_head`` has trained a new one: the band is a distance from the head's threshold)."""
    from sentiment.cs_head import thresholds_for
    from sentiment.teacher import Cascade

    validation = team_rows(True) + complaint_rows(datasets, "validation")
    cascade = Cascade.load(tuned).start()
    if not cascade.ready:
        print(f"the teacher in {tuned} could not be loaded", file=sys.stderr)
        return 1
    texts = [r.text for r in validation]
    probabilities = cascade.probabilities(texts)
    teacher_negative = np.array([p[0] >= thresholds_for(cascade.thresholds, t)["negative"]
                                 for p, t in zip(probabilities, texts)])
    student_negative, margins = student_view(validation, datasets, cache)
    languages = np.array([detect_language(t, fallback="zh") for t in texts])
    band, band_report = choose_band(student_negative, teacher_negative, margins,
                                    np.array([r.targets[0] for r in validation]), languages)
    with np.load(tuned) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["band"] = np.array(json.dumps(band))
    np.savez_compressed(tuned, **arrays)
    meta_path = tuned.with_suffix(".json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(band=band, band_choice=band_report,
                band_chosen_again="for the head retrained after the teacher (--band-only); the teacher is unchanged")
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"saved {tuned} with band {band}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=TUNED)
    parser.add_argument("--layers", type=int, default=4, help="top layers to fine-tune (the rest stay frozen)")
    parser.add_argument("--per-set", type=int, default=1000, help="examples sampled from each support corpus")
    parser.add_argument("--complaint-weight", type=float, default=2.0)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--cache", type=Path, default=None, help="folder to keep the student's features between runs")
    parser.add_argument("--band-only", action="store_true",
                        help="keep the tuned teacher and choose its band again for a retrained head")
    args = parser.parse_args()
    if args.band_only:
        return band_again(args.datasets, args.out, args.cache)

    import tensorflow as tf
    from transformers import AutoTokenizer

    tf.keras.utils.set_random_seed(args.seed)
    train = (team_rows(False) + complaint_rows(args.datasets, "train", args.complaint_weight)
             + support_rows(args.datasets, random.Random(args.seed), args.per_set))
    validation = team_rows(True) + complaint_rows(args.datasets, "validation")
    print(f"train {len(train)} texts, validation {len(validation)}", flush=True)

    config, tensors = read_encoder(ENCODER)
    model = build_bert(config)
    assign_e5(model.bert, tensors, config["type_vocab_size"])
    del tensors
    tokenizer = AutoTokenizer.from_pretrained(str(DEFAULT_MODEL))
    low = config["layers"] - args.layers
    started = time.time()
    train_states = frozen_states(model.bert, tokenizer, [r.text for r in train], low)
    validation_states = frozen_states(model.bert, tokenizer, [r.text for r in validation], low)
    print(f"frozen layers 0-{low - 1} read in {time.time() - started:.0f}s", flush=True)

    top = TopLayers(model.bert, low, config["hidden"], args.seed)
    fine_tune(top, train_states, train, epochs=args.epochs, lr=args.lr, batch=args.batch, seed=args.seed)

    probabilities = top.probabilities(validation_states)
    thresholds, report = fit_thresholds(probabilities, validation, (0, 1))
    texts = [r.text for r in validation]
    languages = np.array([detect_language(t, fallback="zh") for t in texts])
    teacher_negative = np.array([p[0] >= thresholds[lang]["negative"] for p, lang in zip(probabilities, languages)])
    student_negative, margins = student_view(validation, args.datasets, args.cache)
    gold = np.array([r.targets[0] for r in validation])
    band, band_report = choose_band(student_negative, teacher_negative, margins, gold, languages)

    arrays = top.tensors()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays, thresholds=np.array(json.dumps(thresholds)),
                        band=np.array(json.dumps(band)))
    meta = {
        "what": "the cascade's teacher: multilingual-e5-small's top layers fine-tuned for polarity "
                "(sentiment/teacher.py); the lower layers and embeddings are encoder.npz as released",
        "teacher": "intfloat/multilingual-e5-small, 12 layers, 4-bit as released (encoder.npz)",
        "tuned_layers": list(range(low, config["layers"])),
        "trained_on": sources(train), "thresholds_fitted_on": THRESHOLDS_FITTED_ON, "thresholds": report,
        "band": band, "band_choice": band_report, "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
        "per_set": args.per_set, "complaint_weight": args.complaint_weight, "seed": args.seed,
        "cs_complaints_en_citation": CITATION, "test_splits_read": False,
    }
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"saved {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
