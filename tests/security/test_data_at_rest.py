"""Issue 11, items 6 and 12 (wechat_kv): what the WeChat channel keeps at rest is masked and purged.

Written first: held lines were stored raw and never removed; ``wechat_kv`` rows outlived their expiry.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from common.db import make_engine, make_session_factory
from desk.models import Handoff
from desk.retention import purge
from desk.schema import create_all
from wechat.outbox import DELIVERED, HELD, Outbox, OutboxMessage
from wechat.stores import KeyValueRow, SQLStore

DAY = 86400.0
NOW = datetime(2026, 12, 1, 12, 0)
EPOCH_NOW = (NOW - datetime(1970, 1, 1)).total_seconds()


def _rows(engine: sa.engine.Engine, table: str) -> str:
    with engine.connect() as connection:
        return " ".join(str(tuple(r)) for r in connection.execute(sa.text(f"SELECT * FROM {table}")))  # noqa: S608


def test_a_held_line_is_stored_masked(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_all(engine)
    outbox = Outbox(engine)
    asyncio.run(outbox.hold(openid="o-1", text="请回电 13812341234，或写信到 zhang.wei@example.com",
                            source="agent", reason="window_closed"))
    stored = _rows(engine, "wechat_outbox")
    assert "13812341234" not in stored and "zhang.wei@example.com" not in stored
    held = asyncio.run(outbox.held("o-1"))
    assert len(held) == 1 and "1234" in held[0].text and "13812341234" not in held[0].text


def _tracker(path: Path, rows: list[tuple[str, float]]) -> sa.engine.Engine:
    engine = make_engine(f"sqlite:///{path}")
    metadata = sa.MetaData()
    events = sa.Table("events", metadata, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("sender_id", sa.String(255)), sa.Column("timestamp", sa.Float),
                      sa.Column("data", sa.Text))
    metadata.create_all(engine)
    with engine.begin() as connection:
        for sender, stamp in rows:
            connection.execute(events.insert().values(sender_id=sender, timestamp=stamp, data="{}"))
    return engine


@pytest.fixture
def app_engine(tmp_path: Path) -> sa.engine.Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_all(engine)
    for table in (OutboxMessage.__table__, KeyValueRow.__table__):
        table.create(engine, checkfirst=True)
    return engine


def test_retention_removes_delivered_and_expired_outbox_rows(app_engine: sa.engine.Engine, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    factory = make_session_factory(app_engine)
    with factory.begin() as session:
        session.add_all([
            OutboxMessage(openid="o-1", text="sent yesterday", source="bot", reason="window_closed",
                          status=DELIVERED, created_at=NOW - timedelta(days=2), delivered_at=NOW - timedelta(days=1)),
            OutboxMessage(openid="o-2", text="held long ago", source="bot", reason="window_closed",
                          status=HELD, created_at=NOW - timedelta(days=40)),
            OutboxMessage(openid="o-3", text="held this week", source="agent", reason="window_closed",
                          status=HELD, created_at=NOW - timedelta(days=3)),
        ])
    tracker = _tracker(tmp_path / "t.db", [])
    with caplog.at_level(logging.INFO):
        purge(tracker, older_than_days=30, clock=lambda: EPOCH_NOW, app_engine=app_engine)
    with factory() as session:
        left = [m.text for m in session.scalars(sa.select(OutboxMessage))]
    assert left == ["held this week"]
    assert "wechat_outbox" in caplog.text


def test_retention_purges_expired_wechat_kv_rows(app_engine: sa.engine.Engine, tmp_path: Path) -> None:
    factory = make_session_factory(app_engine)
    with factory.begin() as session:
        session.add_all([KeyValueRow(key="window:o-1", value="1", expires_at=EPOCH_NOW - 10),
                         KeyValueRow(key="buttons:o-1", value="[]", expires_at=EPOCH_NOW + 3600)])
    purge(_tracker(tmp_path / "t.db", []), older_than_days=30, clock=lambda: EPOCH_NOW, app_engine=app_engine)
    with factory() as session:
        assert [r.key for r in session.scalars(sa.select(KeyValueRow))] == ["buttons:o-1"]


def test_expired_wechat_kv_rows_go_even_with_retention_off(app_engine: sa.engine.Engine, tmp_path: Path) -> None:
    store = SQLStore(app_engine, clock=lambda: EPOCH_NOW)
    asyncio.run(store.set("window:o-9", "1", ttl_s=-1))
    purge(_tracker(tmp_path / "t.db", []), older_than_days=0, clock=lambda: EPOCH_NOW, app_engine=app_engine)
    assert "window:o-9" not in _rows(app_engine, "wechat_kv")


def test_retention_removes_transcript_lines_from_handoff_packages(app_engine: sa.engine.Engine,
                                                                   tmp_path: Path) -> None:
    factory = make_session_factory(app_engine)
    package = {"reason": "user_request", "last_messages": [{"sender": "user", "text": "我的电话 138****1234"}],
               "profile": {"segment": "guest"}}
    with factory.begin() as session:
        session.add_all([
            Handoff(conversation_id="old", channel="rest", reason="user_request", priority=5, status="resolved",
                    summary="guest", package=package, created_at=NOW - timedelta(days=40)),
            Handoff(conversation_id="new", channel="rest", reason="user_request", priority=5, status="resolved",
                    summary="guest", package=package, created_at=NOW - timedelta(days=1)),
        ])
    tracker = _tracker(tmp_path / "t.db", [("old", EPOCH_NOW - 40 * DAY), ("new", EPOCH_NOW - DAY)])
    purge(tracker, older_than_days=30, clock=lambda: EPOCH_NOW, app_engine=app_engine)
    with factory() as session:
        packages = {h.conversation_id: h.package for h in session.scalars(sa.select(Handoff))}
    assert "138****1234" not in json.dumps(packages["old"], ensure_ascii=False)
    assert packages["old"]["profile"] == {"segment": "guest"} and packages["old"]["last_messages"] == []
    assert packages["new"]["last_messages"] == package["last_messages"]


def test_the_embedded_store_purges_expired_keys_itself_as_it_writes(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    now = [EPOCH_NOW]
    engine = make_engine(f"sqlite:///{tmp_path / 'kv.db'}")
    create_all(engine)
    store = SQLStore(engine, clock=lambda: now[0])
    for n in range(50):
        asyncio.run(store.set(f"seen:evt:o-{n}:1:subscribe", "done", ttl_s=60))
    now[0] += SQLStore.PURGE_EVERY_S + 61
    with caplog.at_level(logging.INFO):
        asyncio.run(store.set("window:o-new", "1", ttl_s=60))
    assert _rows(engine, "wechat_kv").count("seen:") == 0 and "window:o-new" in _rows(engine, "wechat_kv")
    assert "wechat_kv: 50 expired rows deleted" in caplog.text
