"""Fit the per-language polarity fusion (``sentiment/fusion.json``) on validation splits.

    .venv/bin/python -m sentiment_training.fuse

zh: ChnSentiCorp and SMP2020-EWECT validation; en: SST-2 validation. Test splits are never read.
Run after the transformer (``sentiment_training.train``) and the n-gram model
(``sentiment_training.ngram``) are built: the features are their outputs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from sentiment.ensemble import DEFAULT_FUSION, features
from sentiment.ngram import DEFAULT_FILE, NgramPolarity
from sentiment.transformer import DEFAULT_MODEL, TransformerAnalyzer
from sentiment_training.data import ROOT, read_jsonl

NEGATIVE = {"negative", "angry", "sad", "fear"}
SETS = {"zh": ("chnsenticorp", "smp2020_ewect_virus"), "en": ("sst2",)}


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--ngram", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--out", type=Path, default=DEFAULT_FUSION)
    args = parser.parse_args()

    model = TransformerAnalyzer(args.model).load()
    ngram = NgramPolarity(args.ngram)
    languages = {}
    for language, names in SETS.items():
        rows = [r for name in names for r in read_jsonl(args.datasets / name / "data.jsonl", "validation")]
        texts = [r["text"] for r in rows]
        x = np.array([features(reading, logit) for reading, logit in
                      zip(model.readings(texts, batch_size=64), ngram.negative_logit(texts))])
        y = np.array([r["label"] in NEGATIVE for r in rows])
        fit = LogisticRegression(C=1.0).fit(x, y)
        languages[language] = {"coef": [round(float(c), 5) for c in fit.coef_[0]],
                               "bias": round(float(fit.intercept_[0]), 5),
                               "fitted_on": [f"{n} validation" for n in names], "examples": len(rows),
                               "accuracy_on_fit": round(float(fit.score(x, y)), 4)}
        print(language, languages[language])
    args.out.write_text(json.dumps({
        "features": ["transformer negative-vs-positive log-odds", "transformer neutral margin", "n-gram log-odds"],
        "languages": languages}, indent=2) + "\n")
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
