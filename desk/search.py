"""Full-text search of transcripts, Chinese-aware.

Chinese has no spaces between words, so every line is cut into words with jieba (search mode: "退款进度"
gives 退款 / 进度 / 退款进度) and the words, joined by spaces, are what the database indexes:

- SQLite (the embedded default): an FTS5 index ``transcript_fts`` over ``transcript_lines.tokens``, kept in
  step by triggers; both are made by ``common.db.create_all`` (DDL attached to the table in ``desk.models``).
- PostgreSQL (production): ``to_tsvector('simple', tokens)`` (a GIN index, migration 0011) matched with
  ``plainto_tsquery('simple', <query words>)``; the 'simple' configuration keeps every word as it is.

Only masked text is indexed (``desk.transcripts.read_events`` masks every line). ``refresh`` indexes the
events newer than the last indexed one of each conversation that changed since it was last read, and
``index_events`` indexes a tracker the console has just read. The console keeps the index in step in the
background (``IndexKeeper``, every ``SEARCH_INDEX_S``), so a search reads no tracker; while its rounds
are not current (switched off, Rasa down, more changed conversations than one round reads), a search
refreshes first, as it did before. Each replica of the console runs its own keeper: a conversation's
index state row is locked while its new lines are written, so two writers never add the same line twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jieba
from sqlalchemy import or_, select, text
from sqlalchemy.orm import sessionmaker

from desk._unit import retry_on_conflict, unit_of_work
from desk.models import (
    TRANSCRIPT_FTS_TABLE as FTS_TABLE,
)
from desk.models import (
    Conversation,
    Handoff,
    HandoffStatus,
    TranscriptIndexState,
    TranscriptLine,
)
from desk.rasa_client import RasaUnavailable
from desk.transcripts import read_events

jieba.setLogLevel(logging.WARNING)

QUERY_MAX = 200
RESULTS_MAX = 500

_WORD = re.compile(r"\w", re.UNICODE)


def tokenize(value: str) -> list[str]:
    """The words of a text as the index keeps them: jieba's search-mode cut, lower case, NFKC
    (full-width letters and digits become ASCII), without spaces and punctuation."""
    folded = unicodedata.normalize("NFKC", value or "").lower()
    return [w for w in (w.strip() for w in jieba.cut_for_search(folded)) if w and _WORD.search(w)]


def query_words(value: str) -> list[str]:
    """The words a query must all match (precise cut, so "退款进度" asks for 退款进度, which search-mode
    indexing also stored), in order, without repeats."""
    folded = unicodedata.normalize("NFKC", (value or "")[:QUERY_MAX]).lower()
    words: list[str] = []
    for w in (w.strip() for w in jieba.cut(folded)):
        if w and _WORD.search(w) and w not in words:
            words.append(w)
    return words


@dataclass(frozen=True)
class Hit:
    conversation_id: str
    sender: str
    timestamp: float
    text: str


RasaTracker = Callable[[str], Awaitable[dict[str, Any]]]


class TranscriptSearch:
    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._clock = clock

    # ------------------------------------------------------------------ indexing

    def index_events(self, conversation_id: str, events: Iterable[dict[str, Any]]) -> int:
        """Index the lines of a tracker newer than the last indexed one; returns how many were added.

        The conversation's state row is read ``FOR UPDATE`` (PostgreSQL; SQLite writes one at a time
        anyway): another writer of the same conversation waits, then starts after the lines this one
        wrote. Two first indexings at once meet the state's primary key, and the later is done again."""
        events = list(events)
        return retry_on_conflict(lambda: self._index(conversation_id, events))

    def _index(self, conversation_id: str, events: list[dict[str, Any]]) -> int:
        with unit_of_work(self._session_factory) as session:
            state = session.get(TranscriptIndexState, conversation_id, with_for_update=True)
            if state is None:
                state = TranscriptIndexState(conversation_id=conversation_id, indexed_until=0.0)
                session.add(state)
            lines = read_events(events, after=state.indexed_until or None)
            for line in lines:
                session.add(TranscriptLine(conversation_id=conversation_id, sender=line.sender,
                                           timestamp=line.timestamp, text=line.text,
                                           tokens=" ".join(tokenize(line.text))))
            if lines:
                state.indexed_until = max(state.indexed_until or 0.0, *(m.timestamp for m in lines))
            state.checked_at = self._clock()
            return len(lines)

    def stale(self, limit: int = 200) -> list[str]:
        """Conversations changed since they were last indexed (or never indexed), and the live chats."""
        with unit_of_work(self._session_factory) as session:
            changed = session.scalars(
                select(Conversation.id).outerjoin(TranscriptIndexState,
                                                  TranscriptIndexState.conversation_id == Conversation.id)
                .where(or_(TranscriptIndexState.conversation_id.is_(None),
                           Conversation.updated_at >= TranscriptIndexState.checked_at))
                .order_by(Conversation.updated_at.desc()).limit(limit)
            ).all()
            live = session.scalars(select(Handoff.conversation_id).where(
                Handoff.status.in_([HandoffStatus.QUEUED.value, HandoffStatus.ASSIGNED.value]))).all()
        return list(dict.fromkeys([*changed, *live]))

    async def refresh(self, tracker: RasaTracker, limit: int = 200) -> int:
        """Read the trackers of the stale conversations and index their new lines; an unreachable
        tracker is left for the next refresh."""
        return (await self.refresh_all(tracker, limit))[0]

    async def refresh_all(self, tracker: RasaTracker, limit: int = 200) -> tuple[int, bool]:
        """``refresh``, and whether it read every stale conversation (not when Rasa failed, nor when
        ``limit`` of them were stale: more may wait)."""
        added = 0
        stale = await asyncio.to_thread(self.stale, limit)
        for conversation_id in stale:
            try:
                events = (await tracker(conversation_id)).get("events") or []
            except RasaUnavailable:  # Rasa down or slow: search what is indexed already
                logging.getLogger(__name__).warning("search: tracker unavailable, index not refreshed")
                return added, False
            added += await asyncio.to_thread(self.index_events, conversation_id, events)
        return added, len(stale) < limit

    # ------------------------------------------------------------------ searching

    def search(self, query: str, *, limit: int = RESULTS_MAX) -> list[Hit]:
        """Lines holding every word of the query, newest first."""
        words = query_words(query)
        if not words:
            return []
        with unit_of_work(self._session_factory) as session:
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                where = text("to_tsvector('simple', transcript_lines.tokens) @@ plainto_tsquery('simple', :q)")
                rows = session.scalars(select(TranscriptLine).where(where).params(q=" ".join(words))
                                       .order_by(TranscriptLine.timestamp.desc()).limit(limit)).all()
            elif dialect == "sqlite" and _has_fts(session):
                match = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
                ids = select(text("rowid")).select_from(text(FTS_TABLE)).where(text(f"{FTS_TABLE} MATCH :m"))
                rows = session.scalars(select(TranscriptLine).where(TranscriptLine.id.in_(ids)).params(m=match)
                                       .order_by(TranscriptLine.timestamp.desc()).limit(limit)).all()
            else:  # a database without the full-text index: whole words in the token list
                padded = " " + TranscriptLine.tokens + " "
                rows = session.scalars(select(TranscriptLine).where(*(padded.contains(f" {w} ") for w in words))
                                       .order_by(TranscriptLine.timestamp.desc()).limit(limit)).all()
            return [Hit(r.conversation_id, r.sender, r.timestamp, r.text) for r in rows]

    def conversation_ids(self, query: str) -> dict[str, Hit]:
        """The conversations with a matching line, each with its newest matching line."""
        out: dict[str, Hit] = {}
        for hit in self.search(query):
            out.setdefault(hit.conversation_id, hit)
        return out


class IndexKeeper:
    """Keeps the index in step with the trackers every ``interval_s`` seconds (run by the console), so
    that a search reads no tracker. ``current()``: its last round read every changed conversation within
    the last three intervals; otherwise a search refreshes on read (``interval_s`` 0: always)."""

    def __init__(self, search: TranscriptSearch, tracker: RasaTracker, *, interval_s: float,
                 clock: Callable[[], datetime] = datetime.utcnow, limit: int = 200) -> None:
        self._search, self._tracker = search, tracker
        self.interval_s = interval_s
        self._clock = clock
        self._limit = limit
        self._complete_at: datetime | None = None

    def current(self) -> bool:
        if self.interval_s <= 0 or self._complete_at is None:
            return False
        return (self._clock() - self._complete_at).total_seconds() <= 3 * self.interval_s

    async def round(self) -> int:
        """One pass over the changed conversations; how many lines it added."""
        started = self._clock()
        added, complete = await self._search.refresh_all(self._tracker, self._limit)
        if complete:
            self._complete_at = started
        return added

    async def run(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # the database or Rasa: the next round tries again; searches refresh on read
                logging.getLogger(__name__).exception("search: background indexing round failed")
            await asyncio.sleep(max(1.0, float(self.interval_s)))


def _has_fts(session: Any) -> bool:
    return session.execute(text("SELECT 1 FROM sqlite_master WHERE name = :n"), {"n": FTS_TABLE}).first() is not None
