"""Train the character n-gram polarity model shipped as ``sentiment/ngram.npz``.

    .venv/bin/python -m sentiment_training.ngram

Negative vs not negative, on ChnSentiCorp, online_shopping_10_cats and SST-2 (train splits) and
SMP2020-EWECT (angry/sad/fear vs the rest); about a minute on two cores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from sentiment.ngram import DEFAULT_FILE, vectorizer
from sentiment_training.data import ROOT, read_jsonl

NEGATIVE = {"negative", "angry", "sad", "fear"}


def texts_and_labels(datasets: Path) -> tuple[list[str], list[int]]:
    rows = []
    for name in ("chnsenticorp", "online_shopping_10_cats", "sst2", "smp2020_ewect_virus"):
        rows += read_jsonl(datasets / name / "data.jsonl", "train")
    return [r["text"] for r in rows], [int(r["label"] in NEGATIVE) for r in rows]


def main() -> int:
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--C", type=float, default=8.0)
    args = parser.parse_args()

    texts, labels = texts_and_labels(args.datasets)
    counts = vectorizer().transform(texts)
    tfidf = TfidfTransformer(sublinear_tf=True)
    features = tfidf.fit_transform(counts)
    model = LogisticRegression(C=args.C, max_iter=3000, class_weight="balanced")
    model.fit(features, labels)
    idf = tfidf.idf_.astype(np.float32)
    used = np.asarray(counts.sum(axis=0)).ravel() > 0
    idf[~used] = 0.0  # n-grams never seen carry no weight; zeros compress well
    np.savez_compressed(args.out, idf=idf.astype(np.float16), coef=model.coef_[0].astype(np.float16),
                        bias=np.float32(model.intercept_[0]))
    print(f"{len(texts)} texts, {int(used.sum())} n-grams seen; saved {args.out} "
          f"({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
