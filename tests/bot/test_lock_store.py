"""FallbackRedisLockStore on a real redis-server: shared locks, in-process locks while Redis is down, recovery."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from bot.lock_store import FallbackRedisLockStore
from devtools.services import RedisServer, running_redis


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


async def take_turns(store: FallbackRedisLockStore, conversation: str, n: int = 3) -> list[str]:
    order: list[str] = []

    async def turn(name: str) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            order.append(f"{name}+")
            await asyncio.sleep(0.02)
            order.append(f"{name}-")

    await asyncio.gather(*(turn(str(i)) for i in range(n)))
    return order


def serialised(order: list[str]) -> bool:
    return all(order[i][:-1] == order[i + 1][:-1] for i in range(0, len(order), 2))


async def test_falls_back_to_in_process_locks_and_recovers(redis_server: RedisServer,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.lock_store")
    store = FallbackRedisLockStore(host="127.0.0.1", port=redis_server.port, db=1, retry_after_seconds=0.2)
    assert serialised(await take_turns(store, "c-1")) and not store.degraded
    redis_server.stop()
    assert serialised(await take_turns(store, "c-2"))  # still one turn at a time, in this process
    assert store.degraded and "Redis unavailable" in caplog.text
    returned = RedisServer(port=redis_server.port).start()
    try:
        await asyncio.sleep(0.3)
        assert serialised(await take_turns(store, "c-3"))
        assert not store.degraded and "Redis is back" in caplog.text
        assert store.memory.conversation_locks == {}
        assert store.red.set(store.key_prefix + "probe", "1")  # really talking to Redis again
    finally:
        returned.stop()
