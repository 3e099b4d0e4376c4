"""The conversation tests: `rasa test` on every story in this folder, end to end.

``--e2e`` makes Rasa check the predicted intent of every user line as well as every action, and
``--fail-on-prediction-errors`` turns the first wrong prediction into a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "assistant.tar.gz"

pytestmark = pytest.mark.model


def test_every_conversation_story_passes(tmp_path: Path) -> None:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run scripts/train.sh (make train) first")
    out = ROOT / "results" / "stories"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "test", "core",
            "--model", str(MODEL),
            "--stories", str(ROOT / "tests" / "stories"),
            "--e2e", "--fail-on-prediction-errors",
            "--out", str(out), "--no-plot",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    failed = out / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, (result.stdout[-3000:] + result.stderr[-3000:] + details[-3000:])
    assert "None of the test stories failed" in details or not details.strip().startswith("- story"), details
