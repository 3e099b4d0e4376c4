"""The console's zh/en interface: wording from ``i18n.yml`` (labels of reasons, tiers and segments
from ``desk/summary.yml``, so the card and the summary use the same words), language from the
``lang`` cookie (the switch) or else the browser's Accept-Language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from desk.handoffs import SUMMARY_FILE

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "lang"
WORDING_FILE = Path(__file__).with_name("i18n.yml")


@lru_cache(maxsize=1)
def _wording() -> dict[str, dict[str, str]]:
    return yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(SUMMARY_FILE.read_text(encoding="utf-8"))


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return str(cookie)
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return sorted(ranked)[0][2] if ranked else DEFAULT_LANGUAGE


class Translator:
    """``t("claim")``, ``t("repeat_note", count=3)``, ``t.label("reason", "refund")``."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, **values: Any) -> str:
        text = _wording()[self.language].get(key) or _wording()["en"].get(key) or key
        return text.format(**values) if values else text

    def label(self, kind: str, value: str | None) -> str:
        """A stored value in the reader's language: the summary's labels (reasons, tiers, segments, lifecycle),
        else the console wording's ``<kind>_<value>`` (roles, channels, ticket topics), else the value."""
        if value is None or value == "":
            return "–"
        found = (_labels()[self.language].get(kind) or {}).get(value) or _wording()[self.language].get(f"{kind}_{value}")
        return str(found or value)

    def as_dict(self) -> dict[str, str]:
        return dict(_wording()[self.language])
