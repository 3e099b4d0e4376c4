"""scripts/quiet_progress.py: library noise kept out of the terminal, everything kept in the log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

OUTPUT = (
    "/venv/lib/python3.10/site-packages/rasa/utils/common.py:12: DeprecationWarning: pkg_resources is deprecated\n"
    "  import pkg_resources\n"
    "2026-12-05 21:00:00.000 I tensorflow/core/platform/cpu_feature_guard.cc:193] This TensorFlow binary is "
    "optimized\n"
    "/venv/lib/python3.10/site-packages/sqlalchemy/orm.py:5: MovedIn20Warning: Deprecated API features\n"
    "    Base = declarative_base()\n"
    "Training NLU model...\n"
    "Epochs:  50%|#####     | 50/100\r"
    "Epochs: 100%|##########| 100/100\n"
    "Your Rasa model is trained and saved at 'models/assistant.tar.gz'.\n"
)


def test_the_terminal_shows_progress_and_the_log_keeps_everything(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "train.log"
    shown = subprocess.run([sys.executable, str(ROOT / "scripts" / "quiet_progress.py"), str(log)],
                           input=OUTPUT.encode(), capture_output=True, check=True).stdout.decode()
    assert shown == (
        "Training NLU model...\n"
        "Epochs:  50%|#####     | 50/100\r"
        "Epochs: 100%|##########| 100/100\n"
        "Your Rasa model is trained and saved at 'models/assistant.tar.gz'.\n"
    )
    assert log.read_bytes().decode("utf-8") == OUTPUT


def test_a_line_of_our_own_after_a_warning_is_shown() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from quiet_progress import Filter
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    keep = Filter()
    lines = ["/x/y.py:3: UserWarning: something", "  warnings.warn(x)", "==> model is up to date", "  indented ours"]
    assert [line for line in lines if keep.shows(line)] == ["==> model is up to date", "  indented ours"]
