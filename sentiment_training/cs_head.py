"""Train the customer-service head (``sentiment/model/cs_head.npz``, see ``sentiment/cs_head.py``).

    .venv/bin/python -m sentiment_training.cs_head [--datasets ../shared/datasets]

Trained on customer-service messages: cs_complaints_en (train split: complaint = negative, not a
complaint = no anger and no anxiety), the team's messages (``data/cs_emotions_train.jsonl``,
``data/cs_extra_train.jsonl``, ``data/cs_more_train.jsonl``, less a fixed fifth kept for validation)
and the assistant's calm NLU examples, with samples of the review and
emotion corpora (ChnSentiCorp, online_shopping_10_cats, SST-2, SMP2020-EWECT, GoEmotions; train
splits) at a lower weight as support. Thresholds are fitted per language on the customer-service
validation data: cs_complaints_en validation plus the held-back fifth of the team's messages.
No test split is read. A few minutes on two cores (most of it is the shipped model reading the texts).

The cascade's teacher is fine-tuned afterwards on the same data (``sentiment_training.tune_teacher``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment.cs_head import DEFAULT_HEAD, DENSE_LAYOUT, HEADS, dense_features, hashed_text, hashing
from sentiment.language import detect_language
from sentiment.ngram import NgramPolarity
from sentiment.transformer import DEFAULT_MODEL, TransformerAnalyzer
from sentiment_training.data import (
    GOEMO_ANGER,
    GOEMO_ANXIETY,
    GOEMO_NEGATIVE,
    GOEMO_POSITIVE,
    HERE,
    ROOT,
    calm_requests,
    read_jsonl,
)

U = -1  # unknown target
CITATION = ("Daniel Preoţiuc-Pietro, Mihaela Găman and Nikolaos Aletras. 2019. Automatically Identifying Complaints "
            "in Social Media. In Proceedings of the 57th Annual Meeting of the Association for Computational "
            "Linguistics (ACL 2019), pages 5008-5019.")
# the team's messages, and which emotions a calm problem statement (emotion none, polarity negative) in each
# file is an example of the absence of. cs_more_train.jsonl was written under the rule that a repeated contact
# or a broken promise stated calmly is not anger, while the older files count "third time I'm writing about
# this order and still nothing" as anger: its calm problem statements say nothing about anger (the target is
# unknown) rather than contradict them. No file counts a calm statement as anxiety, so there they are
# examples of no anxiety: without them the anxiety head read a parcel left at the wrong door as fear.
TEAM_FILES = {"cs_emotions_train.jsonl": ("anger", "anxiety"), "cs_extra_train.jsonl": ("anger", "anxiety"),
              "cs_more_train.jsonl": ("anxiety",)}


@dataclass(frozen=True)
class Row:
    text: str
    targets: tuple[int, int, int, int]  # negative, positive-if-not-negative, anger, anxiety
    weight: float
    source: str


def held_back(text: str) -> bool:
    """A fixed fifth of the team's messages is kept for validation (by a hash of the text)."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest(), 16) % 5 == 0


def team_rows(validation: bool) -> list[Row]:
    out = []
    for name, calm_teaches in TEAM_FILES.items():
        for r in read_jsonl(HERE / "data" / name):
            if held_back(r["text"]) != validation:
                continue
            polarity, emotion = r["polarity"], r["emotion"]
            calm = emotion == "none" and polarity == "negative"
            anger, anxiety = (int(emotion == e) if not calm or e in calm_teaches else U for e in ("anger", "anxiety"))
            out.append(Row(r["text"], (int(polarity == "negative"), U if polarity == "negative" else
                                       int(polarity == "positive"), anger, anxiety), 3.0, "team"))
    return out


def complaint_rows(datasets: Path, split: str, weight: float = 1.0) -> list[Row]:
    """A complaint is negative (how angry or worried it is, the set does not say); a tweet that is not a
    complaint is an example of neither anger nor anxiety: everyday requests to a support account ("Can
    you confirm the status of an order for me please"), which the team's emotion-dense messages alone
    left the anger head reading as anger, and an angry or anxious reading hands a customer to a person."""
    rows = read_jsonl(datasets / "cs_complaints_en" / "data.jsonl", split)
    return [Row(r["text"], (1, U, U, U) if r["label"] == "complaint" else (0, U, 0, 0), weight, "cs_complaints_en")
            for r in rows]


def support_rows(datasets: Path, rng: random.Random, per_set: int) -> list[Row]:
    def sample(name: str) -> list[dict]:
        rows = read_jsonl(datasets / name / "data.jsonl", "train")
        return rng.sample(rows, min(per_set, len(rows)))

    out = []
    for name in ("chnsenticorp", "online_shopping_10_cats", "sst2"):
        out += [Row(r["text"], (int(r["label"] == "negative"), U if r["label"] == "negative" else 1, U, U), 0.3, name)
                for r in sample(name)]
    for r in sample("smp2020_ewect_virus"):
        label = r["label"]
        negative = int(label in ("angry", "sad", "fear"))
        out.append(Row(r["text"], (negative, U if negative else int(label == "happy"), int(label == "angry"),
                                   int(label == "fear")), 0.3, "smp2020_ewect_virus"))
    for r in sample("goemotions"):
        labels = set(r["label"])
        positive, negative = bool(labels & GOEMO_POSITIVE), bool(labels & GOEMO_NEGATIVE)
        if labels == {"neutral"}:
            neg, pos = 0, 0
        elif positive != negative:
            neg, pos = int(negative), (U if negative else 1)
        else:
            neg, pos = U, U
        out.append(Row(r["text"], (neg, pos, int(bool(labels & GOEMO_ANGER)), int(bool(labels & GOEMO_ANXIETY))),
                       0.3, "goemotions"))
    out += [Row(e.text, (0, 0, 0, 0), 0.5, "nlu") for e in calm_requests()]
    return out


def featurise(rows: list[Row], model: TransformerAnalyzer, ngram: NgramPolarity, cache: Path | None = None):
    """Dense and hashed features; ``cache`` (a folder) keeps the dense ones between runs on the same texts."""
    import scipy.sparse as sp

    texts = [r.text for r in rows]
    key = hashlib.md5("\x00".join([f"layout {DENSE_LAYOUT}", *texts]).encode("utf-8")).hexdigest()[:16]
    cached = cache / f"dense-{key}.npy" if cache else None
    if cached and cached.exists():
        dense = np.load(cached)
    else:
        readings = model.readings(texts, batch_size=64)
        logits = ngram.negative_logit(texts)
        dense = np.stack([dense_features(rd, g, t) for t, rd, g in zip(texts, readings, logits)])
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.save(cached, dense)
    words, chars = hashing()
    lowered = [hashed_text(t) for t in texts]
    return dense, sp.hstack([words.transform(lowered), chars.transform(lowered)]).tocsr()


def fit_heads(dense, sparse, rows: list[Row], C: float, heads: tuple[int, ...] = tuple(range(len(HEADS)))):
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    mean, scale = dense.mean(axis=0), dense.std(axis=0) + 1e-3
    x = sp.hstack([sp.csr_matrix((dense - mean) / scale), sparse]).tocsr()
    targets = np.array([r.targets for r in rows])
    weights = np.array([r.weight for r in rows])
    coefs, biases = [], []
    for h in heads:
        name = HEADS[h]
        known = targets[:, h] != U
        fit = LogisticRegression(C=C, max_iter=3000).fit(x[known], targets[known, h], sample_weight=weights[known])
        coefs.append(fit.coef_[0])
        biases.append(fit.intercept_[0])
        print(f"  head {name}: {int(known.sum())} examples", flush=True)
    coef = np.stack(coefs)
    n = dense.shape[1]
    return mean, scale, coef[:, :n], coef[:, n:], np.array(biases)


def f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    tp = float(np.sum(gold & predicted))
    return 2 * tp / max(1.0, float(gold.sum() + predicted.sum()))


def best_threshold(p: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """The threshold with the best macro-F1 (both classes) on ``gold``; ties go to the middle."""
    grid = np.round(np.arange(0.1, 0.91, 0.02), 2)
    scores = [(f1(gold, p >= t) + f1(~gold, p < t)) / 2 for t in grid]
    best = max(scores)
    ties = [t for t, s in zip(grid, scores) if s >= best - 1e-9]
    return float(ties[len(ties) // 2]), float(best)


def fit_thresholds(probs: np.ndarray, validation: list[Row], heads: tuple[int, ...]) -> tuple[dict, dict]:
    """Per language and head, the threshold with the best macro-F1 on the validation rows."""
    targets = np.array([r.targets for r in validation])
    languages = np.array([detect_language(r.text, fallback="zh") for r in validation])
    thresholds: dict[str, dict[str, float]] = {}
    report: dict[str, dict[str, dict]] = {}
    for language in ("zh", "en"):
        thresholds[language], report[language] = {}, {}
        for column, h in enumerate(heads):
            name = HEADS[h]
            known = (languages == language) & (targets[:, h] != U)
            if name == "positive":  # among the messages that are not negative
                known &= targets[:, 0] == 0
            t, score = best_threshold(probs[known, column], targets[known, h] == 1)
            thresholds[language][name] = t
            report[language][name] = {"threshold": t, "macro_f1": round(score, 4), "examples": int(known.sum())}
        print(language, report[language], flush=True)
    return thresholds, report


def sources(rows: list[Row]) -> dict[str, dict]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.source] = counts.get(r.source, 0) + 1
    return {name: {"examples": n, "split": "train" if name not in ("team", "nlu") else
                   ("4/5 of the team's messages" if name == "team" else "all")} for name, n in counts.items()}


def save_head(out: Path, mean, scale, w_dense, w_sparse, bias, thresholds: dict, meta: dict, **extra) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, mean=mean.astype(np.float32), scale=scale.astype(np.float32),
                        dense=w_dense.astype(np.float32), sparse=w_sparse.astype(np.float16),
                        bias=bias.astype(np.float32), thresholds=np.array(json.dumps(thresholds)),
                        **{k: np.array(json.dumps(v)) for k, v in extra.items()})
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"saved {out} ({out.stat().st_size / 1e6:.1f} MB)")


THRESHOLDS_FITTED_ON = {"en": "cs_complaints_en validation + held-back fifth of the team's en messages",
                        "zh": "held-back fifth of the team's zh and mixed messages"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=DEFAULT_HEAD)
    parser.add_argument("--per-set", type=int, default=2000, help="examples sampled from each support corpus")
    parser.add_argument("--C", type=float, default=0.5)
    parser.add_argument("--complaint-weight", type=float, default=2.0,
                        help="weight of a cs_complaints_en example (the team's messages weigh 3, support 0.3)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--cache", type=Path, default=None, help="folder to keep the model's features between runs")
    args = parser.parse_args()

    from sentiment.cs_head import CsHead

    validation = team_rows(True) + complaint_rows(args.datasets, "validation")
    model, ngram = TransformerAnalyzer(DEFAULT_MODEL).load(), NgramPolarity()
    v_dense, _ = featurise(validation, model, ngram, args.cache)
    rng = random.Random(args.seed)
    train = (team_rows(False) + complaint_rows(args.datasets, "train", args.complaint_weight)
             + support_rows(args.datasets, rng, args.per_set))
    print(f"train {len(train)} texts, validation {len(validation)}", flush=True)
    dense, sparse = featurise(train, model, ngram, args.cache)
    mean, scale, w_dense, w_sparse, bias = fit_heads(dense, sparse, train, args.C)
    head = CsHead(mean, scale, w_dense, w_sparse, bias, thresholds={})
    head.thresholds, fit_report = fit_thresholds(head.probabilities([r.text for r in validation], v_dense),
                                                 validation, tuple(range(len(HEADS))))
    meta = {
        "what": "customer-service head over the shipped model (sentiment/cs_head.py)",
        "trained_on": sources(train), "thresholds_fitted_on": THRESHOLDS_FITTED_ON,
        "thresholds": fit_report, "C": args.C, "complaint_weight": args.complaint_weight,
        "per_set": args.per_set, "seed": args.seed,
        "cs_complaints_en_citation": CITATION, "test_splits_read": False,
    }
    save_head(args.out, mean, scale, w_dense, w_sparse, bias, head.thresholds, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
