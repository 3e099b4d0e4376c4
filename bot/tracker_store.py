"""A SQL tracker store whose working tracker stays short, however long the conversation.

Stock Rasa reloads and replays every event of the current session on every turn (and sends all
of them to the action server), so a turn gets slower the longer the customer talks: 43 ms at
turn 1 and 273 ms at turn 100 here. This store keeps the complete event log in Rasa's ``events``
table, exactly as ``SQLTrackerStore`` does (transcripts, ``retrieve_full_tracker`` and exports are
unchanged), and additionally writes a *checkpoint* once the working tracker grows past
``compact_after`` events: the conversation state at the start of the last ``keep_turns`` user
turns (slots, active form, paused flag) as a few events, plus the id of the last logged event.
The next turn loads checkpoint + the events logged after it, instead of the whole session.

The compacted tracker is equivalent for everything Rasa and the actions read: slot values, the
active loop, pause state and the raw events of the last ``keep_turns`` turns (more than the
policies' ``max_history``), and it starts with the session's original ``session_started`` event.
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import declarative_base

from bot.persisted_events import masked_event
from common.logging import install_masking

logger = logging.getLogger(__name__)

CheckpointBase = declarative_base()
_STORED = "_stored_event_count"
# how many of a tracker's events the event broker (the transcript archive) has been given
_STREAMED = "_streamed_event_count"
# the database server is unreachable (refused, reset, restarting): not a bug in the statement
_DATABASE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError)


class TrackerCheckpoint(CheckpointBase):  # type: ignore[misc, valid-type]
    __tablename__ = "tracker_checkpoints"

    sender_id = sa.Column(sa.String(255), primary_key=True)
    last_event_id = sa.Column(sa.Integer, nullable=False)
    events = sa.Column(sa.Text, nullable=False)


def cut_index(events: list[Event], keep_turns: int) -> int | None:
    """Index of the ``action_listen`` that precedes the ``keep_turns``-th last user message."""
    user_positions = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
    if len(user_positions) <= keep_turns:
        return None
    first_kept = user_positions[-keep_turns]
    for i in range(first_kept - 1, -1, -1):
        event = events[i]
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            return i if i > 0 else None
        if isinstance(event, UserUttered):
            return None
    return None


def snapshot_events(
    sender_id: str, events: list[Event], cut: int, domain: Domain
) -> list[dict[str, Any]]:
    """The state of the conversation just before ``events[cut]`` as a short list of events."""
    before = DialogueStateTracker.from_events(sender_id, events[:cut], slots=domain.slots)
    session_start = next((e for e in events if isinstance(e, SessionStarted)), None)
    stamp = events[cut].timestamp
    prefix: list[Event] = [
        SessionStarted(timestamp=session_start.timestamp if session_start else events[0].timestamp)
    ]
    for name, slot in before.slots.items():
        if slot.value != slot.initial_value:
            prefix.append(SlotSet(name, slot.value, timestamp=stamp))
    if before.active_loop_name:
        prefix.append(ActiveLoop(before.active_loop_name, timestamp=stamp))
    if before.is_paused():
        prefix.append(ConversationPaused(timestamp=stamp))
    return [masked_event(e.as_dict()) for e in prefix] + [masked_event(e.as_dict()) for e in events[cut:]]


class CompactingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with checkpoints that keep the working tracker short (see module doc)."""

    def __init__(
        self,
        domain: Domain | None = None,
        compact_after: int = 90,
        keep_turns: int = 4,
        **kwargs: Any,
    ) -> None:
        install_masking()  # built once when the Rasa server starts: from here on its logs are masked
        super().__init__(domain, **kwargs)
        self.compact_after = int(compact_after)
        self.keep_turns = int(keep_turns)
        if self.engine.dialect.name == "sqlite":
            # Rasa opens and closes a SQLite connection per turn (NullPool); keep a small pool
            # instead, in WAL mode so that reading a transcript never waits for a writer
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, pool_size=4, connect_args={"check_same_thread": False}
            )

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        from common.db import create_tables

        create_tables(CheckpointBase.metadata, self.engine)  # replicas may start at once

    # -- the database is down: keep answering, keep every event, write it when it is back ---
    # A tracker saved while PostgreSQL is unreachable is kept in this process (with the number of its
    # events already stored) and served from there; the first database access that works again writes
    # every pending tracker's missing events, in order. A conversation first seen during the outage
    # starts from an empty tracker. (Lost if this process dies before the database returns.)
    # At most ``pending_max`` conversations are held: past it the one saved longest ago is dropped
    # (its turns since the outage began are not written) and the drop is logged.
    _pending: dict[str, tuple[DialogueStateTracker, int]]
    pending_max: int = 5_000

    def _database_down(self, exc: BaseException) -> None:
        if not getattr(self, "_down", False):
            logger.error("tracker store: database unavailable (%s); conversations are kept in this process and "
                         "written when it returns", type(exc).__name__)
        self._down = True

    def _pending_copy(self, sender_id: str) -> DialogueStateTracker | None:
        pending = getattr(self, "_pending", {}).get(sender_id)
        if pending is None:
            return None
        tracker, stored = pending
        copy = tracker.copy()
        setattr(copy, _STORED, stored)
        setattr(copy, _STREAMED, len(copy.events))  # streamed when it was saved, before the write failed
        return copy

    async def _flush_pending(self) -> None:
        pending = getattr(self, "_pending", {})
        if not pending or getattr(self, "_flushing", False):
            return
        self._flushing = True
        try:
            for sender_id in list(pending):
                tracker = self._pending_copy(sender_id)
                if tracker is None:
                    continue
                try:
                    await self._save_stored(tracker)
                except _DATABASE_DOWN as exc:
                    self._database_down(exc)
                    return
                pending.pop(sender_id, None)
            if getattr(self, "_down", False):
                logger.warning("tracker store: database is back; the conversations kept meanwhile are written")
            self._down = False
        finally:
            self._flushing = False

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        await self._flush_pending()
        pending = self._pending_copy(sender_id)
        if pending is not None:
            return pending
        try:
            return await self._retrieve_stored(sender_id)
        except _DATABASE_DOWN as exc:
            self._database_down(exc)
            return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self._save_stored(tracker)
        except _DATABASE_DOWN as exc:
            self._database_down(exc)
            if not hasattr(self, "_pending"):
                self._pending = {}
            self._pending.pop(tracker.sender_id, None)  # re-inserted last: the dict is oldest-saved first
            self._pending[tracker.sender_id] = (tracker.copy(), getattr(tracker, _STORED, None) or 0)
            while len(self._pending) > max(int(self.pending_max), 1):
                dropped = next(iter(self._pending))
                self._pending.pop(dropped)
                logger.error("tracker store: %d conversations held while the database is down; the oldest "
                             "(%s) is dropped and its latest turns are not written", self.pending_max, dropped)
            return
        getattr(self, "_pending", {}).pop(tracker.sender_id, None)

    # -- reading ---------------------------------------------------------------------------
    async def _retrieve_stored(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            checkpoint = session.get(TrackerCheckpoint, sender_id)
            latest_session = session.scalar(
                sa.select(sa.func.max(self.SQLEvent.id)).where(
                    self.SQLEvent.sender_id == sender_id,
                    self.SQLEvent.type_name == SessionStarted.type_name,
                )
            )
            if checkpoint is not None and (latest_session is None or latest_session <= checkpoint.last_event_id):
                head = json.loads(checkpoint.events)
                after = checkpoint.last_event_id
            else:
                head = []
                after = (latest_session - 1) if latest_session is not None else 0
            rows = session.execute(
                sa.select(self.SQLEvent.data)
                .where(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id > after)
                .order_by(self.SQLEvent.id)
            ).scalars()
            events = head + [json.loads(data) for data in rows]
        if not events or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, _STORED, len(tracker.events))
        setattr(tracker, _STREAMED, len(tracker.events))
        return tracker

    # -- writing ---------------------------------------------------------------------------
    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Give the event broker the events it has not had yet. Rasa's own reads the whole conversation
        back from the database to find them; this store knows how many it read (or last streamed), so a
        saved turn costs no second read. A tracker it did not read (a new conversation) goes Rasa's way."""
        if self.event_broker is None:
            return
        streamed = getattr(tracker, _STREAMED, None)
        if streamed is None:
            await super().stream_events(tracker)
        else:
            new_events = list(itertools.islice(tracker.events, streamed, None))
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        setattr(tracker, _STREAMED, len(tracker.events))

    async def _stream_new_events(self, event_broker: Any, new_events: list[Event], sender_id: str) -> None:
        """All of a turn's events in one call where the broker takes several (the archive writes them in one
        transaction); one at a time otherwise, as Rasa does."""
        bodies = [{"sender_id": sender_id, **event.as_dict()} for event in new_events]
        if not bodies:
            return
        publish_many = getattr(event_broker, "publish_many", None)
        if callable(publish_many):
            publish_many(bodies)
        else:
            for body in bodies:
                event_broker.publish(body)

    async def _save_stored(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        stored = getattr(tracker, _STORED, None)
        with self.session_scope() as session:
            if stored is None:
                new_events = list(self._additional_events(session, tracker))
            else:
                new_events = list(itertools.islice(tracker.events, stored, None))
            for event in new_events:
                data = masked_event(event.as_dict())  # personal data masked at ingestion (bot/persisted_events.py)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.flush()
            self._maybe_checkpoint(session, tracker)
            session.commit()
        setattr(tracker, _STORED, len(tracker.events))

    def _maybe_checkpoint(self, session: Any, tracker: DialogueStateTracker) -> None:
        events = list(tracker.events)
        if len(events) <= self.compact_after or not self.domain:
            return
        last = events[-1]
        if not (isinstance(last, ActionExecuted) and last.action_name == ACTION_LISTEN_NAME):
            return  # only between turns
        cut = cut_index(events, self.keep_turns)
        if cut is None:
            return
        last_id = session.scalar(
            sa.select(sa.func.max(self.SQLEvent.id)).where(self.SQLEvent.sender_id == tracker.sender_id)
        )
        payload = json.dumps(snapshot_events(tracker.sender_id, events, cut, self.domain))
        checkpoint = session.get(TrackerCheckpoint, tracker.sender_id)
        if checkpoint is None:
            session.add(TrackerCheckpoint(sender_id=tracker.sender_id, last_event_id=last_id, events=payload))
        else:
            checkpoint.last_event_id = last_id
            checkpoint.events = payload
        logger.debug("checkpoint for %s: %s events kept of %s", tracker.sender_id, len(events) - cut, len(events))
