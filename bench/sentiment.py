"""Sentiment and emotion quality and speed of the bot's analyzer, beside two baselines, as one table.

    .venv/bin/python bench/sentiment.py [--datasets ../shared/datasets] [--skip-baselines]

Columns: the configured analyzer (``SENTIMENT_BACKEND``, by default the shipped model with the
customer-service head, the cascade's 12-layer teacher and the lexicon's cues), the previous analyzer
(the same without the teacher; without a teacher, the same model with the review-fitted fusion and
no head), a character n-gram TF-IDF + logistic-regression baseline trained
here on each data set's own training split, and the lexicon alone. Rows: cs_complaints_en test
complaint-as-negative F1 (a complaint read as ``negative``), ChnSentiCorp and SST-2 test accuracy,
SMP2020-EWECT (virus) test negative-vs-rest macro-F1, anger/anxiety recall and precision on the
project's customer-service set (``tests/sentiment/cs_emotions.jsonl``, never trained or tuned on),
time per message (p50/p95, one message at a time, as the Rasa server's NLU component calls it) and
the memory the analyzer adds to that process (TensorFlow is loaded there already for the pipeline).
With a cascade, the share of each set's messages that reached the teacher is printed too.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions import providers  # noqa: E402
from sentiment import NEGATIVE, SentimentAnalyzer  # noqa: E402

CS_SET = ROOT / "tests" / "sentiment" / "cs_emotions.jsonl"
COMPLAINTS = "cs_complaints_en complaint-as-negative F1"
TARGETS = {
    COMPLAINTS: (0.85, "paper's LR 0.78"),
    "ChnSentiCorp test accuracy": (0.95, "RoBERTa-wwm-ext-large 95.8"),
    "SST-2 test accuracy": (0.90, "BERT-base 93.5"),
    "EWECT negative-vs-rest macro-F1": (0.85, ""),
    "anger + anxiety recall (cs set)": (0.92, ""),
    "anger recall (cs set)": (0.80, ""),
    "anxiety recall (cs set)": (0.85, ""),
}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def read_jsonl(path: Path, split: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r.get("split") == split]


def macro_f1(gold: list[bool], predicted: list[bool]) -> float:
    scores = []
    for positive in (True, False):
        tp = sum(g == positive and p == positive for g, p in zip(gold, predicted))
        fp = sum(g != positive and p == positive for g, p in zip(gold, predicted))
        fn = sum(g == positive and p != positive for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / 2


def recall_precision(gold: list[str], predicted: list[str], labels: set[str]) -> tuple[float, float]:
    """Recall and precision of 'some routing emotion' for the gold labels in ``labels``."""
    tp = sum(g in labels and p in labels for g, p in zip(gold, predicted))
    return tp / max(1, sum(g in labels for g in gold)), tp / max(1, sum(p in labels for p in predicted))


def is_negative(row: dict) -> bool:
    return row["label"] in ("negative", "angry", "sad", "fear")


class Data:
    def __init__(self, datasets: Path) -> None:
        self.root = datasets

    def split(self, name: str, split: str) -> list[dict]:
        path = self.root / name / "data.jsonl"
        return read_jsonl(path, split) if path.exists() else []


Predict = Callable[[list[str]], list[bool]]  # texts -> "is negative"


def f1(gold: list[bool], predicted: list[bool]) -> float:
    tp = sum(g and p for g, p in zip(gold, predicted))
    return 2 * tp / max(1, sum(gold) + sum(predicted))


def polarity_rows(data: Data, predict_for: Callable[[str], Predict | None]) -> dict[str, float]:
    out: dict[str, float] = {}
    test, predict = data.split("cs_complaints_en", "test"), predict_for("cs_complaints_en")
    if test and predict:
        out[COMPLAINTS] = f1([r["label"] == "complaint" for r in test], predict([r["text"] for r in test]))
    for name, measure in (("chnsenticorp", "ChnSentiCorp test accuracy"), ("sst2", "SST-2 test accuracy")):
        test, predict = data.split(name, "test"), predict_for(name)
        if test and predict:
            predicted = predict([r["text"] for r in test])
            out[measure] = sum(p == is_negative(r) for p, r in zip(predicted, test)) / len(test)
    test, predict = data.split("smp2020_ewect_virus", "test"), predict_for("smp2020_ewect_virus")
    if test and predict:
        out["EWECT negative-vs-rest macro-F1"] = macro_f1([is_negative(r) for r in test],
                                                          predict([r["text"] for r in test]))
    return out


SHARE = "teacher share: "
NAMES = {"cs_complaints_en": "cs_complaints_en test", "chnsenticorp": "ChnSentiCorp test", "sst2": "SST-2 test",
         "smp2020_ewect_virus": "EWECT test"}


def analyzer_rows(analyzer: SentimentAnalyzer, data: Data) -> tuple[dict[str, float], list[float]]:
    """The measures, and the time per message on the customer-service set; with a cascade, also the
    share of each set's messages that reached the teacher."""
    shares: dict[str, float] = {}

    def read(name: str, texts: list[str]) -> list:
        before = getattr(analyzer, "teacher_reads", 0)
        results = analyzer.analyze_many(texts)
        if getattr(analyzer, "teacher", None) is not None:
            shares[SHARE + NAMES.get(name, name)] = (analyzer.teacher_reads - before) / max(1, len(texts))
        return results

    def reader(name: str) -> Predict:
        if name in ("smp2020_ewect_virus", "cs_complaints_en"):
            return lambda texts: [r.label == NEGATIVE for r in read(name, texts)]
        # binary review sets: a review the analyzer does not call positive counts as negative
        return lambda texts: [r.score < 0 for r in read(name, texts)]

    out = polarity_rows(data, reader)
    cs = read_jsonl(CS_SET)
    times, results = [], []
    before = getattr(analyzer, "teacher_reads", 0)
    for row in cs:  # one message at a time, as in the bot (bot/components/sentiment.py)
        start = time.perf_counter()
        results.append(analyzer.analyze(row["text"]))
        times.append((time.perf_counter() - start) * 1000)
    if getattr(analyzer, "teacher", None) is not None:
        shares[SHARE + "customer-service set"] = (analyzer.teacher_reads - before) / len(cs)
    gold = [r["emotion"] for r in cs]
    predicted = [r.emotion for r in results]
    out["anger + anxiety recall (cs set)"], out["anger + anxiety precision (cs set)"] = recall_precision(
        gold, predicted, {"anger", "anxiety"})
    for label in ("anger", "anxiety"):
        out[f"{label} recall (cs set)"], out[f"{label} precision (cs set)"] = recall_precision(gold, predicted, {label})
    out["polarity accuracy, 3 classes (cs set)"] = sum(
        r.label == row["polarity"] for r, row in zip(results, cs)) / len(cs)
    return {**out, **shares}, times


def ngram_baseline(data: Data) -> dict[str, float]:
    """Character 1-3-gram TF-IDF + logistic regression, trained on each set's own train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    def predictor(name: str) -> Predict | None:
        train = data.split(name, "train")
        if not train:
            return None
        model = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
                              LogisticRegression(C=4, max_iter=2000, class_weight="balanced"))
        model.fit([r["text"] for r in train], [is_negative(r) or r["label"] == "complaint" for r in train])
        return lambda texts: [bool(p) for p in model.predict(texts)]

    return polarity_rows(data, predictor)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    data = Data(args.datasets)

    import tensorflow  # noqa: F401  the analyzer runs in the Rasa server, where TensorFlow is loaded already

    before = rss_mib()
    analyzer = providers.sentiment_analyzer()
    analyzer.analyze("warm-up 你好")
    added = rss_mib() - before
    shipped, times = analyzer_rows(analyzer, data)
    columns: list[dict[str, float]] = [shipped]
    old_times: list[float] = []
    if not args.skip_baselines:
        from sentiment.lexicon import LexiconAnalyzer

        previous = getattr(analyzer, "head", None) is not None and copy.copy(analyzer)
        if previous and getattr(analyzer, "teacher", None) is not None:  # the student alone, no teacher
            previous.teacher = None
        elif previous:  # the same model and fusion without the customer-service head
            previous.head = None
        if previous:
            old, old_times = analyzer_rows(previous, data)
        columns += [old if previous else {}, ngram_baseline(data), analyzer_rows(LexiconAnalyzer(), data)[0]]

    s = providers.settings()
    print(f"\nSentiment analyzer: {type(analyzer).__name__} (SENTIMENT_BACKEND={s.sentiment_backend}, "
          f"SENTIMENT_MODEL={s.sentiment_model})")
    head = ["measure", "analyzer", "previous", "char n-gram LR", "lexicon", "target", ""]
    print(f"{head[0]:<44}{head[1]:>9}{head[2]:>10}{head[3]:>16}{head[4]:>9}{head[5]:>8}  published / status")
    print("-" * 122)
    for measure in shipped:
        values = [c.get(measure) for c in columns] + [None] * (4 - len(columns))
        target, anchor = TARGETS.get(measure, (None, ""))
        cells = [f"{v:.3f}" if v is not None else "-" for v in values]
        status = "" if target is None else ("met" if shipped[measure] >= target else "NOT met")
        print(f"{measure:<44}{cells[0]:>9}{cells[1]:>10}{cells[2]:>16}{cells[3]:>9}"
              f"{(f'{target:.2f}' if target else ''):>8}  {anchor + ' ' if anchor else ''}{status}".rstrip())

    def percentiles(values: list[float]) -> tuple[float, float]:
        return statistics.median(values), sorted(values)[int(0.95 * (len(values) - 1))]

    p50, p95 = percentiles(times)
    limit = 12 if getattr(analyzer, "teacher", None) is not None else 10  # a cascade may take 2 ms more
    old = f"{percentiles(old_times)[0]:.2f}" if old_times else ""
    print(f"{'time per message, p50 (ms)':<44}{p50:>9.2f}{old:>10}{'':>16}{'':>9}{limit:>8}  "
          f"{'met' if p50 <= limit else 'NOT met'}")
    old = f"{percentiles(old_times)[1]:.2f}" if old_times else ""
    print(f"{'time per message, p95 (ms)':<44}{p95:>9.2f}{old:>10}")
    print(f"{'memory added by the analyzer (MiB)':<44}{added:>9.0f}{'':>10}{'':>16}{'':>9}{600:>8}  "
          f"{'met' if added <= 600 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
