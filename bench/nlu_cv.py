"""5-fold cross-validation of the NLU pipeline on the training data, printed as a table.

The held-out test set (tests/nlu) answers "how good is the shipped model"; cross-validation answers
"how stable is the pipeline on this data". Runs `rasa test nlu --cross-validation` (five trainings:
several minutes on 2 cores) and summarises Rasa's intent report.

    .venv/bin/python bench/nlu_cv.py [--folds 5] [--baseline]

``--baseline`` also cross-validates the Jieba + CountVectors + DIET baseline (bench/diet_baseline.yml)
and prints both side by side (about three times longer).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "bench" / "nlu_cv"


def cross_validate(config: Path, out: Path, folds: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--nlu", "nlu_data",
            "--config", str(config), "--cross-validation", "--folds", str(folds),
            "--out", str(out), "--no-plot",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
        check=True,
    )
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    return {k: v for k, v in report.items() if isinstance(v, dict) and "f1-score" in v}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--baseline", action="store_true", help="also cross-validate the DIET baseline")
    args = parser.parse_args()
    started = time.monotonic()
    runs = {"shipped": cross_validate(ROOT / "config.yml", OUT / "shipped", args.folds)}
    if args.baseline:
        runs["DIET baseline"] = cross_validate(ROOT / "bench" / "diet_baseline.yml", OUT / "baseline", args.folds)
    names = list(runs)
    print(f"\nNLU {args.folds}-fold cross-validation on nlu_data/, intent F1 ({time.monotonic() - started:.0f} s)")
    print(f"{'intent':<24}" + "".join(f"{n:>16}" for n in names) + f"{'support':>9}")
    print("-" * (24 + 16 * len(names) + 9))
    intents = sorted(k for k in runs["shipped"] if k not in ("macro avg", "weighted avg", "micro avg"))
    for name in intents + ["macro avg", "weighted avg"]:
        row = runs["shipped"].get(name)
        if row is None:
            continue
        cells = "".join(f"{runs[n].get(name, {}).get('f1-score', float('nan')):>16.3f}" for n in names)
        print(f"{name:<24}{cells}{row['support']:>9}")
    (ROOT / "results" / "bench" / "nlu_cv.json").write_text(json.dumps(runs, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
