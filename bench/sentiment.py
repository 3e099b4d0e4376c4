"""Sentiment and emotion quality and speed of the configured analyzer, printed as a table.

    .venv/bin/python bench/sentiment.py [--datasets ../shared/datasets]

Rows: anger and anxiety recall/precision and polarity accuracy on the project's own customer-service
set (tests/sentiment/cs_emotions.jsonl, never trained on); ChnSentiCorp and SST-2 test accuracy and
the SMP2020-EWECT (virus) negative-vs-rest macro-F1 from the public data sets when they are present;
time per message (p50/p95) and the memory the analyzer adds to the process. The analyzer is the one
the bot uses (SENTIMENT_BACKEND).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions import providers  # noqa: E402
from actions.sentiment import NEGATIVE, SentimentAnalyzer  # noqa: E402

CS_SET = ROOT / "tests" / "sentiment" / "cs_emotions.jsonl"
TARGETS = {
    "ChnSentiCorp test accuracy": 0.95,
    "SST-2 test accuracy": 0.90,
    "EWECT negative-vs-rest macro-F1": 0.85,
    "anger recall (cs set)": 0.92,
    "anxiety recall (cs set)": 0.92,
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


def recall_precision(gold: list[str], predicted: list[str], label: str) -> tuple[float, float]:
    tp = sum(g == label and p == label for g, p in zip(gold, predicted))
    recall = tp / max(1, sum(g == label for g in gold))
    precision = tp / max(1, sum(p == label for p in predicted))
    return recall, precision


def timed(analyzer: SentimentAnalyzer, texts: Iterable[str]) -> tuple[list, list[float]]:
    results, times = [], []
    for text in texts:
        start = time.perf_counter()
        results.append(analyzer.analyze(text))
        times.append((time.perf_counter() - start) * 1000)
    return results, times


def binary_accuracy(analyzer: SentimentAnalyzer, rows: list[dict], is_negative: Callable[[dict], bool]) -> float:
    results, _ = timed(analyzer, (r["text"] for r in rows))
    return sum((res.score < 0) == is_negative(r) for res, r in zip(results, rows)) / len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    args = parser.parse_args()

    before = rss_mib()
    analyzer = providers.sentiment_analyzer()
    analyzer.analyze("warm-up 你好")
    added = rss_mib() - before
    rows: list[tuple[str, float | None, str]] = []

    cs = read_jsonl(CS_SET)
    results, times = timed(analyzer, (r["text"] for r in cs))
    gold_emotion = [r["emotion"] for r in cs]
    predicted_emotion = [res.emotion for res in results]
    for label in ("anger", "anxiety"):
        recall, precision = recall_precision(gold_emotion, predicted_emotion, label)
        rows.append((f"{label} recall (cs set)", recall, f"{sum(g == label for g in gold_emotion)} messages"))
        rows.append((f"{label} precision (cs set)", precision, ""))
    polarity = sum(res.label == r["polarity"] for res, r in zip(results, cs)) / len(cs)
    rows.append(("polarity accuracy, 3 classes (cs set)", polarity, f"{len(cs)} messages"))

    data = args.datasets
    if (data / "chnsenticorp" / "data.jsonl").exists():
        test = read_jsonl(data / "chnsenticorp" / "data.jsonl", "test")
        rows.append(("ChnSentiCorp test accuracy", binary_accuracy(analyzer, test, lambda r: r["label"] == "negative"), f"{len(test)} reviews"))
    if (data / "sst2" / "data.jsonl").exists():
        test = read_jsonl(data / "sst2" / "data.jsonl", "test")
        rows.append(("SST-2 test accuracy", binary_accuracy(analyzer, test, lambda r: r["label"] == "negative"), f"{len(test)} sentences"))
    if (data / "smp2020_ewect_virus" / "data.jsonl").exists():
        test = read_jsonl(data / "smp2020_ewect_virus" / "data.jsonl", "test")
        predicted, _ = timed(analyzer, (r["text"] for r in test))
        gold = [r["label"] in ("angry", "sad", "fear") for r in test]
        rows.append(("EWECT negative-vs-rest macro-F1", macro_f1(gold, [p.label == NEGATIVE for p in predicted]), f"{len(test)} posts"))

    name = type(analyzer).__name__
    print(f"\nSentiment analyzer: {name} (SENTIMENT_BACKEND={providers.settings().sentiment_backend})")
    print(f"{'measure':<42}{'value':>8}{'target':>9}   note")
    print("-" * 80)
    for measure, value, note in rows:
        target = TARGETS.get(measure)
        shown = f"{value:.3f}" if value is not None else "-"
        mark = "" if target is None else ("met" if value is not None and value >= target else "NOT met")
        target_text = f"{target:.2f}" if target else ""
        print(f"{measure:<42}{shown:>8}{target_text:>9}   {note} {mark}".rstrip())
    print(f"{'time per message p50 / p95 (ms)':<42}{statistics.median(times):>8.2f}{10:>9}   "
          f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:.2f}")
    print(f"{'memory added by the analyzer (MiB)':<42}{added:>8.1f}{600:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
