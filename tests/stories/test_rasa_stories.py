"""The conversation tests: `rasa test` on every story in this folder.

Each story gives the customer's words and intent and the actions the assistant must take;
``--fail-on-prediction-errors`` turns the first wrong action into a failure. Whether the words are
understood as that intent is the NLU test set's job (tests/nlu), measured there by macro-F1.
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
            "--fail-on-prediction-errors",
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
    problem = [line for line in (result.stdout + result.stderr).splitlines() if "Exception" in line or "Failed" in line]
    assert result.returncode == 0, "\n".join(problem[-20:]) + "\n" + details[-3000:]
    assert "None of the test stories failed" in details, details[-3000:]
