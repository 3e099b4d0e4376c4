"""The production search path: jieba tokens matched by PostgreSQL full text ('simple' configuration) over
the GIN index that both create_all and the migration make."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from alembic import command

from common.db import make_engine, make_session_factory
from desk.models import TRANSCRIPT_PG_INDEX, TranscriptIndexState, TranscriptLine
from desk.schema import create_all
from desk.search import TranscriptSearch
from tests.deploy.test_migrations import alembic_config


def lines(*texts: str) -> list[dict]:
    return [{"event": "user", "text": text, "timestamp": float(i + 1)} for i, text in enumerate(texts)]


def check_search(engine: sa.engine.Engine) -> None:
    search = TranscriptSearch(make_session_factory(engine))
    search.index_events("web-a", lines("我想查询退款进度", "我的手机 13812341234"))
    search.index_events("web-b", lines("Where is my refund?", "物流到哪里了"))
    assert [h.conversation_id for h in search.search("退款")] == ["web-a"]
    assert [h.text for h in search.search("退款进度")] == ["我想查询退款进度"]
    assert [h.conversation_id for h in search.search("REFUND")] == ["web-b"]
    assert search.search("ref") == []
    assert search.search("退款 物流") == []
    assert search.search("13812341234") == []  # only the masked text is indexed
    with engine.connect() as connection:
        definition = connection.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'transcript_lines' AND indexname = :n"),
            {"n": TRANSCRIPT_PG_INDEX}).scalar()
    assert definition is not None and "gin" in definition and "to_tsvector('simple'" in definition


def test_search_on_postgresql_after_create_all(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        create_all(engine)
        check_search(engine)
    finally:
        engine.dispose()


def test_search_on_postgresql_after_the_migrations(pg_url: str) -> None:
    command.upgrade(alembic_config(pg_url), "head")
    engine = make_engine(pg_url)
    try:
        check_search(engine)
    finally:
        engine.dispose()


def _in_thread(work) -> tuple[threading.Thread, dict]:  # type: ignore[no-untyped-def]
    result: dict = {}

    def run() -> None:
        try:
            result["value"] = work()
        except Exception as exc:  # noqa: BLE001 - the test reads it
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_two_consoles_indexing_one_conversation_keep_each_line_once(pg_url: str) -> None:
    """Two console replicas index in the background (and on search): while one is writing a
    conversation's new lines, the other waits for it and then finds nothing new, instead of writing the
    same lines again; the first index of a conversation by both at once ends with one state row."""
    engine = make_engine(pg_url)
    try:
        create_all(engine)
        factory = make_session_factory(engine)
        search = TranscriptSearch(factory)
        search.index_events("web-a", lines("第一句"))
        events = lines("第一句", "第二句", "第三句")
        with factory() as other:  # the other replica, half-way through writing lines 2 and 3
            with other.begin():
                state = other.get(TranscriptIndexState, "web-a", with_for_update=True)
                thread, result = _in_thread(lambda: search.index_events("web-a", events))
                time.sleep(0.5)
                for line in events[1:]:
                    other.add(TranscriptLine(conversation_id="web-a", sender="customer", timestamp=line["timestamp"],
                                             text=line["text"], tokens=line["text"]))
                state.indexed_until = 3.0
            thread.join(10)
        assert result == {"value": 0}
        with factory() as session:
            texts = session.scalars(sa.select(TranscriptLine.text).where(TranscriptLine.conversation_id == "web-a")
                                    .order_by(TranscriptLine.timestamp)).all()
        assert texts == ["第一句", "第二句", "第三句"]

        with factory() as other:  # both index "web-b" for the first time
            with other.begin():
                other.add(TranscriptIndexState(conversation_id="web-b", indexed_until=2.0))
                other.add_all(TranscriptLine(conversation_id="web-b", sender="customer", timestamp=line["timestamp"],
                                             text=line["text"], tokens=line["text"]) for line in events[:2])
                other.flush()
                thread, result = _in_thread(lambda: search.index_events("web-b", events))
                time.sleep(0.5)
            thread.join(10)
        assert result == {"value": 1}  # only the line the other replica had not written
        with factory() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(TranscriptLine)
                                  .where(TranscriptLine.conversation_id == "web-b")) == 3
    finally:
        engine.dispose()
