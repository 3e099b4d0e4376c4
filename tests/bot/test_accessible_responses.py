"""Accessibility of the bot's replies: no image-only content (a screen reader has nothing to read), and
every button has a title to read out."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "bot" / "domain"


def _variants() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(DOMAIN_DIR.rglob("*.yml")):
        for name, variants in ((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}).items():
            out += [(name, v) for v in variants or []]
    return out


VARIANTS = _variants()


def test_there_are_responses_to_check() -> None:
    assert len(VARIANTS) > 100


@pytest.mark.parametrize("name, variant", VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_no_image_only_reply_and_every_button_is_titled(name: str, variant: dict) -> None:
    if variant.get("image") or variant.get("attachment"):
        assert str(variant.get("text") or "").strip(), f"{name}: an image needs the same content in text"
    for button in variant.get("buttons") or []:
        assert str(button.get("title") or "").strip(), f"{name}: a button without a title"
