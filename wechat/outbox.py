"""Messages WeChat would not take yet: kept in the ``wechat_outbox`` table, never dropped.

A customer-service message can be refused because the customer last wrote more than 48 hours ago
(errcode 45015), because too many were sent since (45047), or because the API was unreachable. The
message is kept here with ``status = held`` and the reason; ``held()`` is the list an agent works
from, and ``WeChatDelivery.flush`` sends a customer's held messages when they write again (which
reopens the window). No Rasa imports.

At rest the text is masked (``common.masking``) like every other store: a held line is delivered as
stored, so a phone number or e-mail in it reaches the customer masked. Delivered rows and rows held
longer than the transcript retention age are removed by ``purge`` (``python -m desk.retention``);
``OutboxData`` answers the privacy office for the table (``common.privacy``). The table is created by
the schema's one entry point (``desk.schema.create_all``, or Alembic in production), never here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, String, Text, delete, inspect, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from common.db import Base, make_engine, make_session_factory
from common.masking import mask_text
from common.privacy import DataSubject, Identifiers, plain

logger = logging.getLogger(__name__)

HELD = "held"
DELIVERED = "delivered"


class OutboxMessage(Base):
    __tablename__ = "wechat_outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    openid = Column(String(64), nullable=False, index=True)
    text = Column(Text, nullable=False)
    source = Column(String(32), nullable=False)  # bot | agent
    reason = Column(String(64), nullable=False)  # window_closed | window_used_up | errcode_45015 | errcode_45047 | errcode_-1 ...
    status = Column(String(16), nullable=False, default=HELD, index=True)
    attempts = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    delivered_at = Column(DateTime, nullable=True)


@dataclass(frozen=True)
class HeldMessage:
    id: int
    openid: str
    text: str
    source: str
    reason: str
    created_at: datetime


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self._sessions = make_session_factory(engine)

    @classmethod
    def from_url(cls, database_url: str) -> Outbox:
        return cls(make_engine(database_url))

    def _hold(self, openid: str, text: str, source: str, reason: str) -> int:
        with self._sessions.begin() as s:
            row = OutboxMessage(openid=openid, text=mask_text(text), source=source, reason=reason, status=HELD, attempts=1)
            s.add(row)
            s.flush()
            return int(row.id)

    def _held(self, openid: str | None) -> list[HeldMessage]:
        query = select(OutboxMessage).where(OutboxMessage.status == HELD).order_by(OutboxMessage.id)
        if openid is not None:
            query = query.where(OutboxMessage.openid == openid)
        with self._sessions.begin() as s:
            return [
                HeldMessage(r.id, r.openid, r.text, r.source, r.reason, r.created_at) for r in s.scalars(query)
            ]

    def _mark(self, message_id: int, *, delivered: bool, reason: str | None = None) -> None:
        values: dict[str, object] = {"attempts": OutboxMessage.attempts + 1}
        if delivered:
            values.update(status=DELIVERED, delivered_at=datetime.utcnow())
        if reason:
            values["reason"] = reason
        with self._sessions.begin() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))

    async def hold(self, *, openid: str, text: str, source: str, reason: str) -> int:
        return await asyncio.to_thread(self._hold, openid, text, source, reason)

    async def held(self, openid: str | None = None) -> list[HeldMessage]:
        """Messages waiting for the customer's next message or for an agent, oldest first."""
        return await asyncio.to_thread(self._held, openid)

    async def delivered(self, message_id: int) -> None:
        await asyncio.to_thread(self._mark, message_id, delivered=True)

    async def still_held(self, message_id: int, reason: str) -> None:
        await asyncio.to_thread(self._mark, message_id, delivered=False, reason=reason)


def _present(connection: Connection) -> bool:
    return OutboxMessage.__tablename__ in inspect(connection).get_table_names()


def purge(connection: Connection, *, held_before: datetime) -> int:
    """Delete every delivered row and every row held since before ``held_before``; the count deleted."""
    if not _present(connection):
        return 0
    removed = int(connection.execute(delete(OutboxMessage).where(or_(
        OutboxMessage.status == DELIVERED, OutboxMessage.created_at < held_before))).rowcount or 0)
    if removed:
        logger.info("wechat_outbox: %d delivered or expired rows deleted", removed)
    return removed


def rows_for_openids(connection: Connection, openids: list[str]) -> list[dict[str, object]]:
    if not openids or not _present(connection):
        return []
    query = select(OutboxMessage.__table__).where(OutboxMessage.openid.in_(openids)).order_by(OutboxMessage.id)
    return [dict(row._mapping) for row in connection.execute(query)]


def erase_openids(connection: Connection, openids: list[str]) -> int:
    if not openids or not _present(connection):
        return 0
    return int(connection.execute(delete(OutboxMessage).where(OutboxMessage.openid.in_(openids))).rowcount or 0)


class OutboxData:
    """The messages held for the customer's openids: exported, and deleted on erasure."""

    tables = (OutboxMessage.__tablename__,)

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers()  # rows name an openid only; the customer's openids come from profiles

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        rows = rows_for_openids(session.connection(), sorted(subject.openids))
        return {"wechat_held_messages": [plain(r) for r in rows]}

    def erase(self, session: Session, subject: DataSubject) -> None:
        erase_openids(session.connection(), sorted(subject.openids))
