"""The transcript archive: an event broker that appends every tracker event to an ``event_archive`` table.

Rasa streams each new event of a saved tracker to the configured event broker. This broker writes
them to SQL (PostgreSQL in production, ``bot/endpoints.production.yml``), masked the same way as the
tracker store's copy (``bot.persisted_events.masked_event``), so a transcript outlives its tracker:
a tracker store that expires conversations (Redis with a TTL, the retention job, a wiped tracker
database) does not take the record of what was said with it.

It is Rasa's ``SQLEventBroker`` with four changes: a table name of its own (Rasa's broker also
calls its table ``events``, which would collide with the SQL tracker store's table in the same
database), the event's type and timestamp as columns (retention and export query by them), one
SQLAlchemy URL instead of dialect/host/port/... fields, and ``publish_many``: the compacting tracker
store (``bot/tracker_store.py``) hands over a saved turn's events at once and they are written in one
transaction (Rasa's broker commits each event on its own: a third of a replica's time under load).

    event_broker:
      type: bot.event_archive.EventArchive
      url: ${TRACKER_DB_URL}
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import logging
from asyncio import AbstractEventLoop
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from bot.persisted_events import masked_event

logger = logging.getLogger(__name__)

ArchiveBase = declarative_base()


class ArchivedEvent(ArchiveBase):  # type: ignore[misc, valid-type]
    __tablename__ = "event_archive"

    id = sa.Column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    type_name = sa.Column(sa.String(64), nullable=False)
    timestamp = sa.Column(sa.Float, nullable=True, index=True)
    data = sa.Column(sa.Text, nullable=False)


class EventArchive(EventBroker):
    """Append-only SQL copy of every tracker event (masked), in the order Rasa published them."""

    def __init__(self, url: str) -> None:
        from common.db import create_tables, make_engine

        self.engine = make_engine(url)
        create_tables(ArchiveBase.metadata, self.engine)  # replicas may start at once
        self.sessionmaker = sessionmaker(bind=self.engine)
        # events not yet written (database down), already masked; at most ``waiting_max``: past it the
        # oldest is dropped and the drop is logged (the tracker store keeps the conversation itself)
        self._waiting: collections.deque[dict[str, Any]] = collections.deque()
        self._dropped = 0

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: AbstractEventLoop | None = None
    ) -> EventArchive:
        if not broker_config.url:
            raise ValueError("event_broker: bot.event_archive.EventArchive needs a `url` (SQLAlchemy URL)")
        return cls(broker_config.url)

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Session]:
        session = self.sessionmaker()
        try:
            yield session
        finally:
            session.close()

    waiting_max: int = 50_000

    def publish(self, event: dict[str, Any]) -> None:
        """Append one event (see ``publish_many``)."""
        self.publish_many([event])

    #: events written per transaction (a saved turn is one; after an outage the held events go in batches)
    batch_max: int = 500

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        """Append events in order, in one transaction (the tracker store hands over a saved turn's events at
        once). While the database is down, events wait here (in order, masked, bounded by ``waiting_max``)
        for the next publish."""
        for event in events:
            self._waiting.append({**masked_event(event), "sender_id": event.get("sender_id")})
        while len(self._waiting) > max(int(self.waiting_max), 1):
            self._waiting.popleft()
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                logger.error("event archive: %d events held while the database is down; %d oldest dropped so far",
                             self.waiting_max, self._dropped)
        while self._waiting:
            batch = list(itertools.islice(self._waiting, max(int(self.batch_max), 1)))
            try:
                self._write(batch)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                if len(self._waiting) == len(events):
                    logger.error("event archive: database unavailable (%s); events wait in this process until "
                                 "it returns", type(exc).__name__)
                return
            for _ in batch:
                self._waiting.popleft()
        if self._dropped:
            logger.warning("event archive: database is back; %d events were dropped during the outage", self._dropped)
            self._dropped = 0

    def _write(self, events: list[dict[str, Any]]) -> None:
        """One transaction; the events are masked already (when they were published)."""
        rows = [{"sender_id": str(event.get("sender_id") or ""), "type_name": str(event.get("event") or ""),
                 "timestamp": event.get("timestamp"), "data": json.dumps(event, ensure_ascii=False)}
                for event in events]
        with self.engine.begin() as connection:
            connection.execute(ArchivedEvent.__table__.insert(), rows)

    def transcript(self, sender_id: str) -> list[dict[str, Any]]:
        """Every archived event of one conversation, oldest first (export, tests)."""
        with self.session_scope() as session:
            rows = session.execute(
                sa.select(ArchivedEvent.data).where(ArchivedEvent.sender_id == sender_id).order_by(ArchivedEvent.id)
            ).scalars()
            return [json.loads(data) for data in rows]

    def is_ready(self) -> bool:  # type: ignore[override]
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    async def close(self) -> None:
        self.engine.dispose()
