"""5-fold cross-validation of the NLU pipeline on the training data, printed as a table.

The held-out test set (tests/nlu) answers "how good is the shipped model"; cross-validation answers
"how stable is the pipeline on this data". Runs `rasa test nlu --cross-validation` (five trainings:
several minutes on 2 cores) and summarises Rasa's intent report.

    .venv/bin/python bench/nlu_cv.py [--folds 5]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--nlu", "nlu_data",
            "--config", "config.yml", "--cross-validation", "--folds", str(args.folds),
            "--out", str(OUT), "--no-plot",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
        check=True,
    )
    report = json.loads((OUT / "intent_report.json").read_text(encoding="utf-8"))
    rows = {k: v for k, v in report.items() if isinstance(v, dict) and "f1-score" in v}
    print(f"\nNLU {args.folds}-fold cross-validation on nlu_data/ ({time.monotonic() - started:.0f} s)")
    print(f"{'intent':<24}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}")
    print("-" * 61)
    for name in sorted(k for k in rows if k not in ("macro avg", "weighted avg", "micro avg")):
        r = rows[name]
        print(f"{name:<24}{r['precision']:>10.3f}{r['recall']:>10.3f}{r['f1-score']:>8.3f}{r['support']:>9}")
    print("-" * 61)
    for name in ("macro avg", "weighted avg"):
        if name in rows:
            r = rows[name]
            print(f"{name:<24}{r['precision']:>10.3f}{r['recall']:>10.3f}{r['f1-score']:>8.3f}{r['support']:>9}")
    if "accuracy" in report:
        print(f"{'accuracy':<24}{report['accuracy']:>36.3f}")
    (ROOT / "results" / "bench" / "nlu_cv.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
