"""The Redis live broker: what one console replica publishes reaches the subscribers of another (real
redis-server on a free loopback port), presence counts every replica, and an outage keeps one replica's
own views updating."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator

import pytest

from common.settings import Settings
from desk.live import InProcessBroker, RedisBroker, broker_from_settings, has_subscribers
from devtools.services import RedisServer, running_redis

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def test_settings_pick_the_broker() -> None:
    assert isinstance(broker_from_settings(Settings()), InProcessBroker)
    assert isinstance(broker_from_settings(dataclasses.replace(Settings(), redis_url="redis://x")), RedisBroker)


async def test_a_message_published_on_one_replica_reaches_the_other_within_a_second(redis: RedisServer) -> None:
    one, other = RedisBroker(redis.url, prefix="t1:"), RedisBroker(redis.url, prefix="t1:")
    try:
        async with other.subscribe("queue") as on_other, one.subscribe("queue") as on_one:
            began = time.monotonic()
            await one.publish("queue", {"type": "queue", "n": 1})
            assert await on_other.next(timeout=1) == {"type": "queue", "n": 1}
            assert time.monotonic() - began < 1.0
            # the publisher's own subscribers get it once, back from Redis
            assert await on_one.next(timeout=1) == {"type": "queue", "n": 1}
            assert await on_one.next(timeout=0.2) is None
            await one.publish("conversation:c1", {"type": "transcript"})  # nobody listens to that topic
            assert await on_other.next(timeout=0.2) is None
    finally:
        await one.close()
        await other.close()


async def test_presence_counts_subscribers_on_every_replica(redis: RedisServer) -> None:
    one, other = RedisBroker(redis.url, prefix="t2:"), RedisBroker(redis.url, prefix="t2:")
    try:
        assert await has_subscribers(one, "customer:c9") is False
        async with other.subscribe("customer:c9"), other.subscribe("customer:c9"):
            assert one.subscribers("customer:c9") == 0  # nobody on this replica ...
            assert await has_subscribers(one, "customer:c9") is True  # ... but the customer is connected
        await asyncio.sleep(0.1)
        assert await has_subscribers(one, "customer:c9") is False  # the last one left: unsubscribed
    finally:
        await one.close()
        await other.close()


async def test_in_process_presence() -> None:
    broker = InProcessBroker()
    assert await has_subscribers(broker, "customer:c1") is False
    async with broker.subscribe("customer:c1"):
        assert await has_subscribers(broker, "customer:c1") is True


async def test_without_redis_one_replica_still_updates_its_own_views() -> None:
    broker = RedisBroker("redis://127.0.0.1:1/0", prefix="t3:", retry_s=0.05)
    try:
        async with broker.subscribe("queue") as subscription:
            await broker.publish("queue", {"type": "queue"})
            assert await subscription.next(timeout=1) == {"type": "queue"}
            assert await has_subscribers(broker, "queue") is True
        # nobody here: a customer may be connected to another replica, so it cannot be known
        assert await has_subscribers(broker, "customer:c1") is None
    finally:
        await broker.close()


async def test_a_restarted_redis_is_subscribed_again() -> None:
    server = RedisServer().start()
    port = server.port
    one, other = RedisBroker(server.url, prefix="t4:", retry_s=0.1), RedisBroker(server.url, prefix="t4:")
    try:
        async with other.subscribe("queue") as on_other:
            server.stop()
            await asyncio.sleep(0.3)
            server = RedisServer(port=port).start()
            deadline = time.monotonic() + 10
            received = None
            while received is None and time.monotonic() < deadline:
                await one.publish("queue", {"type": "queue"})
                received = await on_other.next(timeout=0.3)
            assert received == {"type": "queue"}
    finally:
        await one.close()
        await other.close()
        server.stop()


async def test_a_topic_left_and_joined_again_still_delivers(redis: RedisServer) -> None:
    one, other = RedisBroker(redis.url, prefix="t5:"), RedisBroker(redis.url, prefix="t5:")
    try:
        for attempt in range(3):
            async with other.subscribe("conversation:c1") as subscription:
                await one.publish("conversation:c1", {"type": "transcript", "n": attempt})
                assert await subscription.next(timeout=1) == {"type": "transcript", "n": attempt}
            await asyncio.sleep(1.2)  # the reader waits on a connection with no channel for a while
    finally:
        await one.close()
        await other.close()
