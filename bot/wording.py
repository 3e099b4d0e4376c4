"""Forbidden-word check for user-facing wording (pure Python, no Rasa import).

The word list lives in ``bot/forbidden_words.yml`` (override with ``FORBIDDEN_WORDS_FILE``, read by
``common.settings`` like every other setting)::

    zh: [不能, 无法, ...]   # matched as substrings
    en: [can't, unable, ...]  # matched as whole words/phrases, case-insensitively

Used by tests/bot/test_responses.py and reusable by actions that build text at runtime.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from re import Pattern

import yaml

from common.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent

_LANGUAGES = ("zh", "en")
_APOSTROPHES = "'\u2019\u2018`"
# an English word boundary that treats CJK characters as boundaries ("订单fail了" matches "fail")
_EN_WORD_CHAR = "A-Za-z0-9_"


def forbidden_words_path(settings: Settings | None = None) -> Path:
    """The configured word-list file: ``settings.forbidden_words_file`` (the process's settings by default).

    A relative path is taken from the repository root.
    """
    settings = get_settings() if settings is None else settings
    path = Path(settings.forbidden_words_file).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def load_forbidden_words(path: str | Path | None = None) -> dict[str, list[str]]:
    """Read the word list: ``{"zh": [...], "en": [...]}`` (missing languages give ``[]``).

    Words are stripped, empty entries dropped and duplicates removed (order kept).
    """
    file = Path(path) if path is not None else forbidden_words_path()
    with open(file, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a mapping with 'zh' and 'en' lists")
    words: dict[str, list[str]] = {}
    for lang in _LANGUAGES:
        items = data.get(lang) or []
        if not isinstance(items, list):
            raise ValueError(f"{file}: '{lang}' must be a list of words")
        seen: dict[str, None] = {}
        for item in items:
            word = str(item).strip()
            if word:
                seen.setdefault(word, None)
        words[lang] = list(seen)
    return words


@functools.lru_cache(maxsize=1024)
def _en_pattern(word: str) -> Pattern[str]:
    parts = []
    for ch in word.lower():
        if ch.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif ch in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]")
        else:
            parts.append(re.escape(ch))
    body = "".join(parts)
    return re.compile(rf"(?<![{_EN_WORD_CHAR}]){body}(?![{_EN_WORD_CHAR}])", re.IGNORECASE)


def _as_pairs(words: Mapping[str, Iterable[str]] | Iterable[str]) -> list[tuple[str, str]]:
    if isinstance(words, Mapping):
        return [(lang, w) for lang in _LANGUAGES for w in (words.get(lang) or [])]
    # a flat list: words containing CJK are substrings, the rest whole English words
    return [("zh" if _has_cjk(w) else "en", w) for w in words]


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def find_forbidden(
    text: str | None, words: Mapping[str, Iterable[str]] | Iterable[str]
) -> list[str]:
    """The forbidden words found in ``text``, in list order, each reported once.

    ``words`` is the mapping from :func:`load_forbidden_words`. Both lists are checked
    whatever the language of ``text`` (mixed zh/en messages are common): ``zh`` words as
    substrings, ``en`` words as whole words or phrases, case-insensitively.
    """
    if not text:
        return []
    found: list[str] = []
    for lang, word in _as_pairs(words):
        word = str(word).strip()
        if not word or word in found:
            continue
        hit = word in text if lang == "zh" else _en_pattern(word).search(text) is not None
        if hit:
            found.append(word)
    return found
