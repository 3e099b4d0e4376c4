"""The default canned replies (``desk/canned.yml``, zh and en): what ``desk.canned.CannedStore`` copies
into its table the first time, and what the word checks read."""

from __future__ import annotations

from pathlib import Path

from desk.canned import DEFAULTS_FILE, CannedReply, load_defaults

CANNED_FILE: Path = DEFAULTS_FILE


def load_canned(path: Path = CANNED_FILE) -> dict[str, tuple[CannedReply, ...]]:
    return load_defaults(path)


__all__ = ["CANNED_FILE", "CannedReply", "load_canned"]
