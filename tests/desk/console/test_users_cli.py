"""The console's user tool on a database whose tables were never created says what to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.settings import get_settings
from desk.console.users import main


def test_a_database_without_tables_gets_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        assert main(["list"]) == 1
    finally:
        get_settings.cache_clear()
    assert "make run" in capsys.readouterr().err
