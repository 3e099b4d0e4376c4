"""What the WeChat channel keeps for a customer, read for the agent console.

WeChat takes customer-service messages only within 48 hours of the customer's last message and only
a few per message (``wechat.delivery``); what it would not take waits in the
``wechat_outbox`` table and goes out when the customer writes again. ``HeldMessages`` reads that
table (read-only, one short session per call, frozen snapshots) so the agent sees what is waiting
on a WeChat conversation (``wechat:<openid>``). Where WeChat was never set up the table may be
absent: then nothing is waiting. Imports only the table's definition (SQLAlchemy; no Rasa, Sanic or
wechatpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import sessionmaker

from common.db import StoreUnavailable
from common.ids import ConversationId
from wechat.outbox import HELD, OutboxMessage

# the outbox's reason → why it is waiting, in the console's words (held_reason_<kind> in i18n.yml)
WINDOW = "window"  # outside WeChat's 48-hour window
LIMIT = "limit"  # WeChat's message allowance per customer message is used up
NOT_ACCEPTED = "not_accepted"  # WeChat answered with another error, or was out of reach
REASON_KINDS = {
    "window_closed": WINDOW,
    "errcode_45015": WINDOW,
    "window_used_up": LIMIT,
    "errcode_45047": LIMIT,
}


def reason_kind(reason: str) -> str:
    return REASON_KINDS.get(reason, NOT_ACCEPTED)


def openid_of(conversation_id: str) -> str | None:
    """The customer's openid for ``wechat:<openid>``; None for any other conversation."""
    return ConversationId.parse(conversation_id).openid


@dataclass(frozen=True)
class HeldLine:
    id: int
    text: str
    source: str  # bot | agent
    kind: str  # window | limit | not_accepted
    held_since: datetime  # UTC, naive (as the outbox stores it)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "source": self.source, "reason": self.kind,
                "held_since": self.held_since.isoformat()}


def _line(row: OutboxMessage) -> HeldLine:
    return HeldLine(
        id=int(row.id),
        text=row.text,
        source="agent" if row.source == "agent" else "bot",
        kind=reason_kind(row.reason),
        held_since=row.created_at,
    )


class HeldMessages:
    """The messages waiting in ``wechat_outbox`` for one WeChat conversation's customer."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def _table_exists(self) -> bool:
        with self._sessions() as session:
            return inspect(session.connection()).has_table(OutboxMessage.__tablename__)

    def _read(self, query: Any, scalar: bool = False) -> Any:
        """Run ``query`` in one short session; None where the table does not exist."""
        try:
            with self._sessions.begin() as session:
                if scalar:
                    return session.scalar(query)
                return [_line(row) for row in session.scalars(query)]
        except DBAPIError as exc:  # SQLite: OperationalError, PostgreSQL: ProgrammingError for a missing table
            try:
                exists = self._table_exists()
            except DBAPIError as again:
                raise StoreUnavailable(str(again)) from again
            if not exists:
                return None
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise StoreUnavailable(str(exc.orig) if exc.orig else str(exc)) from exc
            raise

    def for_conversation(
        self, conversation_id: str, *, after_id: int = 0, source: str | None = None
    ) -> tuple[HeldLine, ...]:
        """What is held for the customer of ``wechat:<openid>``, oldest first (newer than ``after_id``,
        from ``source`` when given); nothing for another channel's conversation."""
        openid = openid_of(conversation_id)
        if openid is None:
            return ()
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.openid == openid, OutboxMessage.status == HELD, OutboxMessage.id > after_id)
            .order_by(OutboxMessage.id)
        )
        if source is not None:
            query = query.where(OutboxMessage.source == source)
        return tuple(self._read(query) or ())

    def last_id(self, conversation_id: str) -> int:
        """The newest outbox row of this customer (any status), 0 if none: a mark to find what is held after it."""
        openid = openid_of(conversation_id)
        if openid is None:
            return 0
        return int(self._read(select(func.max(OutboxMessage.id)).where(OutboxMessage.openid == openid),
                              scalar=True) or 0)
