"""The callback outbox: requests spooled on disk while the database is down become tickets once it is back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from desk.models import Ticket
from desk.outbox import CallbackOutbox, CallbackRequest
from desk.tickets import TicketStore
from devtools.services import free_port


def unreachable_store() -> TicketStore:
    """The real store on a PostgreSQL URL where nothing listens: every call raises StoreUnavailable."""
    engine = make_engine(f"postgresql+psycopg2://nobody@127.0.0.1:{free_port()}/none")
    return TicketStore(make_session_factory(engine))


def request(conversation: str) -> CallbackRequest:
    return CallbackRequest(conversation_id=conversation, channel="rest", topic="refund", subject="callback: refund")


def test_spooled_callbacks_are_written_once_when_the_database_returns(
        tmp_path: Path, session_factory: sessionmaker) -> None:
    outbox = CallbackOutbox(tmp_path)
    outbox.add(request("c-1"))
    outbox.add(request("c-2"))
    assert outbox.flush(unreachable_store()) == 0
    assert [r.conversation_id for r in outbox.pending()] == ["c-1", "c-2"]  # kept, in order
    assert outbox.flush(TicketStore(session_factory)) == 2
    assert outbox.pending() == [] and outbox.flush(TicketStore(session_factory)) == 0
    with session_factory() as session:
        rows = session.execute(select(Ticket.conversation_id, Ticket.topic, Ticket.subject)
                               .where(Ticket.conversation_id.in_(["c-1", "c-2"])).order_by(Ticket.id)).all()
    assert [tuple(r) for r in rows] == [("c-1", "refund", "callback: refund"), ("c-2", "refund", "callback: refund")]


def test_a_request_written_twice_still_makes_one_ticket(tmp_path: Path, session_factory: sessionmaker) -> None:
    store = TicketStore(session_factory)
    for _ in range(2):  # a crash between writing and truncating the spool
        outbox = CallbackOutbox(tmp_path)
        outbox.add(request("c-3"))
        outbox.flush(store)
    with session_factory() as session:
        assert len(session.scalars(select(Ticket).where(Ticket.conversation_id == "c-3")).all()) == 1
