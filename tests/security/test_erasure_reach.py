"""Issue 11, item 8: erasure and export reach everything that names the person.

On SQLite and on a real PostgreSQL. Written first: rows of the customer's conversations stored without a
``customer_id`` kept their text, the WeChat openid stayed in conversations, sessions, handoffs, feedback,
reveals and reviews, ``LIKE '%:<openid>'`` missed ``evt:<openid>:…`` keys and took ``_`` as a wildcard,
and the export left out sessions and reveals.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from desk.models import (
    Conversation,
    ConversationSession,
    Feedback,
    Handoff,
    PiiReveal,
    Ticket,
    TicketContact,
    TranscriptReview,
)
from desk.privacy import PrivacyOffice
from desk.schema import create_all
from devtools.services import PostgresServer, ServiceUnavailable
from profiles.models import ChannelIdentity, Customer
from wechat.outbox import OutboxMessage
from wechat.stores import KeyValueRow

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # reflecting NUMERIC on SQLite
OPENID = "oWx_erase_me_1"  # "_" would match any character in a LIKE pattern
NEIGHBOUR = "oWxAeraseXmeY1"  # what "%:oWx_erase_me_1" matches with "_" as a wildcard
SECRET = "请回电 13812341234 张伟"
KEPT = "neighbour's own words"
NOW = datetime(2026, 12, 1, 12, 0)
EPOCH = 1_800_000_000.0


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path) -> Iterator[sessionmaker]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        server = request.getfixturevalue("postgres")
        engine = make_engine(server.create_database(f"erasure_{uuid.uuid4().hex[:8]}"))
    create_all(engine)
    factory = make_session_factory(engine)
    yield factory
    engine.dispose()


def _rows_of(sender: str, customer_id: str | None, text: str) -> list[object]:
    return [
        Conversation(id=sender, channel="wechat", customer_id=None, status="resolved"),
        ConversationSession(conversation_id=sender, started_at=NOW, channel="wechat"),
        Handoff(conversation_id=sender, customer_id=None, channel="wechat", reason="user_request", priority=5,
                status="resolved", summary=text, package={"last_messages": [{"text": text}]}),
        Ticket(customer_id=None, conversation_id=sender, topic="other", subject=text, channel="wechat"),
        Feedback(conversation_id=sender, customer_id=None, channel="wechat", rating=2, comment=text,
                 idempotency_key=f"{sender}:1800000000.000:bot"),
        TranscriptReview(conversation_id=sender, reviewer="boss", accuracy=3, empathy=3, resolution=3, notes=text),
    ]


def _setup(factory: sessionmaker) -> str:
    with factory.begin() as session:
        customer_id = "C000042"
        session.add(Customer(id=customer_id, name="张伟", registered_at=date(2025, 1, 1)))
        session.flush()
        session.add(ChannelIdentity(channel="wechat", external_id=OPENID, customer_id=customer_id))
        session.add_all(_rows_of(f"wechat:{OPENID}", customer_id, SECRET) + _rows_of(f"wechat:{NEIGHBOUR}", None, KEPT))
        session.flush()
        ticket = session.scalars(sa.select(Ticket).where(Ticket.conversation_id == f"wechat:{OPENID}")).one()
        session.add_all([
            TicketContact(ticket_id=ticket.id, conversation_id=f"wechat:{OPENID}", channel="wechat"),
            PiiReveal(supervisor="boss", customer_id=customer_id, field="phone", reason="callback",
                      conversation_id=f"wechat:{OPENID}"),
            OutboxMessage(openid=OPENID, text="held for the customer", source="agent", reason="window_closed"),
            OutboxMessage(openid=NEIGHBOUR, text=KEPT, source="agent", reason="window_closed"),
            KeyValueRow(key=f"window:{OPENID}", value="1", expires_at=EPOCH),
            KeyValueRow(key=f"evt:{OPENID}:1700000000:subscribe", value="done", expires_at=EPOCH),
            KeyValueRow(key=f"window:{NEIGHBOUR}", value="1", expires_at=EPOCH),
            KeyValueRow(key=f"evt:{NEIGHBOUR}:1700000000:subscribe", value="done", expires_at=EPOCH),
        ])
    return customer_id


def _everything(factory: sessionmaker) -> str:
    engine = factory.kw["bind"]
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return json.dumps({name: [[str(v) for v in row] for row in connection.execute(sa.select(table))]
                           for name, table in metadata.tables.items()}, ensure_ascii=False)


def test_erasure_leaves_no_trace_of_the_person_and_spares_the_neighbour(app: sessionmaker) -> None:
    customer_id = _setup(app)
    with app() as session:
        counts = {m.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(m))
                  for m in (Conversation, ConversationSession, Handoff, Ticket, Feedback, TranscriptReview)}
    PrivacyOffice(app, None).erase(customer_id, actor="boss", reason="customer asked")
    everything = _everything(app)
    assert OPENID not in everything
    assert "13812341234" not in everything and SECRET not in everything
    assert everything.count(NEIGHBOUR) >= 10 and KEPT in everything
    with app() as session:
        assert session.scalars(sa.select(KeyValueRow.key).where(KeyValueRow.key.contains(NEIGHBOUR))).all()
        after = {m.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (Conversation, ConversationSession, Handoff, Ticket, Feedback, TranscriptReview)}
        assert after == counts  # ratings, sessions and handoffs still count
        erased = session.scalars(sa.select(Handoff).where(Handoff.summary == "[erased]")).all()
        assert erased and all(h.package == {} for h in erased)
        pseudonyms = {h.conversation_id for h in erased}
        assert len(pseudonyms) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(Feedback)
                              .where(Feedback.conversation_id.in_(pseudonyms))) == 1


def test_export_holds_the_rows_without_customer_id_sessions_and_reveals(app: sessionmaker) -> None:
    customer_id = _setup(app)
    document = PrivacyOffice(app, None).export(customer_id, actor="boss")
    text = json.dumps(document, ensure_ascii=False, default=str)
    assert SECRET in text and KEPT not in text and NEIGHBOUR not in text
    assert [s["conversation_id"] for s in document["sessions"]] == [f"wechat:{OPENID}"]
    assert {r["field"] for r in document["reveals"]} >= {"phone", "export"}
    assert SECRET in [t["subject"] for t in document["tickets"]]
    assert SECRET in [h["summary"] for h in document["handoffs"]]
    assert SECRET in [f["comment"] for f in document["feedback"]]
    assert sorted(document["wechat_keys"]) == [f"evt:{OPENID}:1700000000:subscribe", f"window:{OPENID}"]
