"""The console screenshots the README links: every page in zh and en, each a real PNG taken at the
script's viewport, and the make target that retakes them (scripts/screenshots.py)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from scripts.screenshots import LANGUAGES, VIEWPORT

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
PAGES = ("queue", "handoff-card", "tickets", "dashboard")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_page_in_each_language_is_committed_and_linked(page: str, lang: str) -> None:
    shot = SHOTS / f"{page}-{lang}.png"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == VIEWPORT["width"] and height >= VIEWPORT["height"]
    assert f"(docs/screenshots/{page}-{lang}.png)" in (ROOT / "README.md").read_text()


def test_make_screenshots_runs_the_script() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^screenshots:.*\n\t\$\(VENV\)/python scripts/screenshots\.py$", makefile, re.M)
