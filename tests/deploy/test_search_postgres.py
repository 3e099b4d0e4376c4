"""The production search path: jieba tokens matched by PostgreSQL full text ('simple' configuration) over
the GIN index that both create_all and the migration make."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from common.db import make_engine, make_session_factory
from desk.models import TRANSCRIPT_PG_INDEX
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
