"""Canned replies (``canned.yml``): zh and en, loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CANNED_FILE = Path(__file__).with_name("canned.yml")


@dataclass(frozen=True)
class CannedReply:
    id: str
    title: str
    text: str


@lru_cache(maxsize=4)
def load_canned(path: Path = CANNED_FILE) -> dict[str, tuple[CannedReply, ...]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        language: tuple(CannedReply(id=str(r["id"]), title=str(r["title"]), text=str(r["text"])) for r in replies)
        for language, replies in raw.items()
    }


def canned_for(language: str) -> tuple[CannedReply, ...]:
    replies = load_canned()
    return replies.get(language) or replies.get("en") or ()
