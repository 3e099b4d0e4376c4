"""Canned replies: supervisors edit them in the console (zh and en), agents insert them in the chat box.

Every reply is checked against the forbidden words (``bot/forbidden_words.yml``, or the file
``FORBIDDEN_WORDS_FILE`` names) as it is saved: a reply with a negative or blaming word is refused with
the words found. The matching is the bot's (``bot.wording``): zh words as substrings, en words as whole
words or phrases, case-insensitively, whatever the reply's language.

The table starts with the defaults of ``desk/canned.yml`` (copied in the first time it is read empty);
a removed reply is kept inactive, so the defaults never come back over a supervisor's choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from desk._unit import unit_of_work
from desk.models import CannedReplyRow

DEFAULTS_FILE = Path(__file__).with_name("canned.yml")
LANGUAGES = ("zh", "en")
TITLE_MAX = 80
TEXT_MAX = 2000
KEY_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
_APOSTROPHES = "'\u2019"
_EN_WORD_CHAR = "A-Za-z0-9_"


@dataclass(frozen=True)
class CannedReply:
    id: str  # the key: the same in zh and en
    title: str
    text: str
    row_id: int | None = None
    language: str | None = None
    position: int = 0


class CannedError(ValueError):
    """A reply that cannot be saved: ``key`` names the console's wording (``desk/console/i18n.yml``)."""

    def __init__(self, key: str, message: str, *, not_found: bool = False, **values: str) -> None:
        super().__init__(message)
        self.key = key
        self.values = values
        self.not_found = not_found


@lru_cache(maxsize=4)
def load_defaults(path: Path = DEFAULTS_FILE) -> dict[str, tuple[CannedReply, ...]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        language: tuple(CannedReply(id=str(r["id"]), title=str(r["title"]), text=str(r["text"]), language=language,
                                    position=i) for i, r in enumerate(replies))
        for language, replies in raw.items()
    }


@lru_cache(maxsize=4)
def load_words(path: Path) -> dict[str, tuple[str, ...]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {lang: tuple(dict.fromkeys(str(w).strip() for w in raw.get(lang) or [] if str(w).strip()))
            for lang in LANGUAGES}


@lru_cache(maxsize=2048)
def _en_pattern(word: str) -> re.Pattern[str]:
    parts: list[str] = []
    for ch in word.lower():
        if ch.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif ch in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]")
        else:
            parts.append(re.escape(ch))
    return re.compile(rf"(?<![{_EN_WORD_CHAR}]){''.join(parts)}(?![{_EN_WORD_CHAR}])", re.IGNORECASE)


def forbidden_in(text: str, words: dict[str, tuple[str, ...]]) -> list[str]:
    """The forbidden words in ``text``, in list order, once each (both lists, whatever the language)."""
    found: list[str] = []
    for lang in LANGUAGES:
        for word in words.get(lang, ()):
            if word in found:
                continue
            if (word in text) if lang == "zh" else _en_pattern(word).search(text) is not None:
                found.append(word)
    return found


class CannedStore:
    def __init__(self, session_factory: sessionmaker, *, forbidden_words_file: Path,
                 defaults_file: Path = DEFAULTS_FILE, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._words_file = Path(forbidden_words_file)
        self._defaults_file = defaults_file
        self._clock = clock

    def _seed(self, session: object) -> None:
        if session.scalar(select(func.count()).select_from(CannedReplyRow)):  # type: ignore[attr-defined]
            return
        now = self._clock()
        for language, replies in load_defaults(self._defaults_file).items():
            for reply in replies:
                session.add(CannedReplyRow(language=language, key=reply.id, title=reply.title,  # type: ignore[attr-defined]
                                           text=reply.text, position=reply.position, active=True, updated_at=now))
        session.flush()  # type: ignore[attr-defined]

    def replies(self, language: str | None = None) -> list[CannedReply]:
        """The active replies (of one language, the English ones when it has none), in their order."""
        with unit_of_work(self._session_factory) as session:
            self._seed(session)
            rows = session.scalars(select(CannedReplyRow).where(CannedReplyRow.active.is_(True))
                                   .order_by(CannedReplyRow.language, CannedReplyRow.position,
                                             CannedReplyRow.id)).all()
        out = [_view(r) for r in rows]
        if language is None:
            return out
        return [r for r in out if r.language == language] or [r for r in out if r.language == "en"]

    def check(self, title: str, text: str) -> list[str]:
        return forbidden_in(f"{title}\n{text}", load_words(self._words_file))

    def save(self, *, actor: str, language: str, key: str, title: str, text: str, position: int | None = None,
             row_id: int | None = None) -> CannedReply:
        """Add a reply (``row_id`` None) or change one; refused with ``CannedError`` when a field is
        missing or too long, or a forbidden word is in the title or the text."""
        title, text, key = (title or "").strip(), (text or "").strip(), (key or "").strip().lower()
        if language not in LANGUAGES:
            raise CannedError("canned_error_language", "language is zh or en")
        if not KEY_PATTERN.match(key):
            raise CannedError("canned_error_key", "the key is 1-40 lower-case letters, digits or _")
        if not title or len(title) > TITLE_MAX:
            raise CannedError("canned_error_title", f"the title is 1-{TITLE_MAX} characters", max=str(TITLE_MAX))
        if not text or len(text) > TEXT_MAX:
            raise CannedError("canned_error_text", f"the text is 1-{TEXT_MAX} characters", max=str(TEXT_MAX))
        found = self.check(title, text)
        if found:
            raise CannedError("canned_error_forbidden", "forbidden words: " + ", ".join(found),
                              words="、".join(found) if language == "zh" else ", ".join(found))
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            self._seed(session)
            if row_id is None:
                row = CannedReplyRow(language=language, active=True)
                if position is None:
                    position = (session.scalar(select(func.max(CannedReplyRow.position))
                                               .where(CannedReplyRow.language == language)) or 0) + 1
                session.add(row)
            else:
                row = session.get(CannedReplyRow, row_id)
                if row is None or not row.active:
                    raise CannedError("canned_error_not_found", "no such reply", not_found=True)
            row.language, row.key, row.title, row.text = language, key, title, text
            if position is not None:
                row.position = position
            row.updated_by, row.updated_at = actor, now
            session.flush()
            return _view(row)

    def remove(self, row_id: int, *, actor: str) -> None:
        with unit_of_work(self._session_factory) as session:
            row = session.get(CannedReplyRow, row_id)
            if row is None or not row.active:
                raise CannedError("canned_error_not_found", "no such reply", not_found=True)
            row.active, row.updated_by, row.updated_at = False, actor, self._clock()


def _view(r: CannedReplyRow) -> CannedReply:
    return CannedReply(id=r.key, title=r.title, text=r.text, row_id=r.id, language=r.language, position=r.position)
