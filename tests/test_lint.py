"""The code base passes ruff's mistake checks (pyproject.toml: undefined/unused names, likely bugs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_no_mistakes() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    executable = str(ruff) if ruff.exists() else shutil.which("ruff")
    assert executable, "ruff is part of requirements-dev.txt"
    result = subprocess.run([executable, "check", str(ROOT)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:]


def test_mypy_finds_no_type_errors() -> None:
    """``make typecheck``: the libraries and the action server (pyproject.toml [tool.mypy])."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        raise AssertionError("mypy is part of requirements-dev.txt (make install-dev)") from None
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]


def test_a_warning_raised_by_our_code_is_an_error() -> None:
    """pyproject.toml's filterwarnings: only third-party deprecation notices are let through."""
    import warnings

    with pytest.raises(DeprecationWarning):
        warnings.warn("an API of ours is deprecated", DeprecationWarning, stacklevel=1)
    with pytest.raises(UserWarning):
        warnings.warn("something looks wrong", UserWarning, stacklevel=1)
