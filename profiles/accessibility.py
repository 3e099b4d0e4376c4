"""Which accessibility need a customer declared, from what they wrote: a pure lookup over
``profiles/accessibility.yml`` (need → words). ``None`` when no word matches."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

from profiles.models import Accessibility

__all__ = ["ACCESSIBILITY_FILE", "NEEDS", "load_words", "need_from_text"]

ACCESSIBILITY_FILE = Path(__file__).resolve().parent / "accessibility.yml"
NEEDS = tuple(a.value for a in Accessibility)


@lru_cache(maxsize=4)
def load_words(path: str | Path = ACCESSIBILITY_FILE) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``((need, words), ...)`` in the file's order; an unknown need is an error."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    unknown = set(raw) - set(NEEDS)
    if unknown:
        raise ValueError(f"unknown accessibility needs {sorted(unknown)}; known: {NEEDS}")
    return tuple((str(need), tuple(str(w).casefold() for w in words or ())) for need, words in raw.items())


def need_from_text(text: str | None, path: str | Path = ACCESSIBILITY_FILE) -> str | None:
    """The first need whose words occur in ``text`` (``visual``, ``hearing``, ``motor``, ``cognitive``)."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    for need, words in load_words(path):
        if any(word in folded for word in words):
            return need
    return None
