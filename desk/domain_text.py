"""The assistant's own wording, read from the Rasa domain (``bot/domain/*.yml``) for the desk's messages.

Messages the desk sends by itself (proactive care, the widget's data page) use the same responses the
bot does, so every sentence exists once, in zh and en, and passes the forbidden-words check of
``tests/bot/test_responses.py``. ``render(name, language, **values)`` picks the variant whose
``language`` slot condition matches (else the unconditioned default) and fills its ``{placeholders}``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from common.settings import ROOT

DOMAIN_DIR = ROOT / "bot" / "domain"
PLACEHOLDER = re.compile(r"(?<!\{)\{([^\n{}]+?)\}(?!\})")


class UnknownResponse(KeyError):
    """No response of that name in the domain."""


@lru_cache(maxsize=4)
def responses(directory: Path = DOMAIN_DIR) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found.update(data.get("responses") or {})
    return found


def _language_of(variant: dict[str, Any]) -> str | None:
    for condition in variant.get("condition") or []:
        if condition.get("name") == "language":
            return str(condition.get("value"))
    return None


def render(name: str, language: str, **values: Any) -> str:
    """The text of response ``name`` in ``language`` (zh | en) with ``values`` filled in."""
    variants = responses().get(name)
    if not variants:
        raise UnknownResponse(name)
    chosen = next((v for v in variants if _language_of(v) == language), None)
    if chosen is None:
        chosen = next(v for v in variants if not v.get("condition"))
    text = str(chosen.get("text") or "")
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)
