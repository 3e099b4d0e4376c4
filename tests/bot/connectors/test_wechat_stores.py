"""wechat_stores under outages: a real redis-server stopped and started again, the SQL store's database gone."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
import redis

from common.db import StoreUnavailable, make_engine
from devtools.services import RedisServer
from tests.bot.connectors.conftest import restart
from wechat.stores import FallbackStore, MemoryStore, RedisStore, SQLStore, make_store


async def test_memory_store_keeps_the_contract() -> None:
    store = MemoryStore()
    assert await store.add("k", "first", 5) and not await store.add("k", "second", 5)
    assert [await store.incr("n", 5) for _ in range(3)] == [1, 2, 3]
    await store.set("short", "v", 0.02)
    await asyncio.sleep(0.05)
    assert await store.get("short") is None and await store.add("short", "again", 5)


async def test_redis_down_the_store_serves_from_this_process_and_returns_to_redis(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wechat.stores")
    prefix = f"fb{time.monotonic_ns()}:"
    store = FallbackStore(RedisStore(redis_server.url, prefix=prefix), retry_after_s=0.2)
    try:
        assert await store.add("seen:1", "pending", 60) and not store.degraded
        redis_server.stop()
        # the channel keeps working: claims stay atomic in this process, counters count
        assert await store.add("seen:2", "pending", 60) is True
        assert await store.add("seen:2", "pending", 60) is False
        assert [await store.incr("window-count:o", 60) for _ in range(2)] == [1, 2]
        assert store.degraded
        assert [r.levelname for r in caplog.records if "Redis unavailable" in r.message] == ["ERROR"]  # once
        restart(redis_server)
        await asyncio.sleep(0.3)
        await store.set("token", "fresh", 60)
        assert not store.degraded and "Redis is back" in caplog.text
        direct = redis.Redis.from_url(redis_server.url, decode_responses=True)
        assert direct.get(prefix + "token") == "fresh"  # written to Redis again, not to memory
    finally:
        await store.close()


async def test_without_the_fallback_an_outage_is_store_unavailable(redis_server: RedisServer, tmp_path: Path) -> None:
    bare = RedisStore(redis_server.url, prefix="bare:")
    redis_server.stop()
    with pytest.raises(StoreUnavailable):
        await bare.get("k")
    await bare.close()
    from desk.schema import create_all

    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_all(engine)
    sql = SQLStore(engine)
    (tmp_path / "app.db").unlink()  # the database is gone (a new empty file has no wechat_kv table)
    with pytest.raises(StoreUnavailable):
        await sql.set("k", "v", 5)


def test_the_channel_gets_redis_with_the_fallback(tmp_path: Path) -> None:
    store = make_store(redis_url="redis://127.0.0.1:1/0", database_url=f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(store, FallbackStore)


def test_the_constructors_create_no_table(tmp_path: Path) -> None:
    """The schema has one entry point (``desk.schema.create_all``, Alembic in production)."""
    import sqlalchemy as sa

    from wechat.outbox import Outbox

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    SQLStore(engine)
    Outbox(engine)
    assert sa.inspect(engine).get_table_names() == []
