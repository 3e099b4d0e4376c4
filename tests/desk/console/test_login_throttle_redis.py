"""Sign-in throttling in Redis: two console replicas count the same failures (real redis-server), with the
in-process rules (pair, address, user anywhere; known addresses pass), and Redis out of reach still throttles."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from common.settings import Settings
from desk.console.routes.auth import LoginThrottle, RedisLoginThrottle, login_throttle_from_settings
from devtools.services import RedisServer, running_redis

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def _replicas(url: str, n: int = 2, **limits: float) -> tuple[list[RedisLoginThrottle], list[float]]:
    now = [1_000_000.0]
    prefix = f"t-login-{uuid.uuid4().hex[:6]}:"
    settings = {"per_user": 2, "per_ip": 0, "window_s": 900, **limits}
    return [RedisLoginThrottle(url, prefix=prefix, clock=lambda: now[0], **settings)  # type: ignore[arg-type]
            for _ in range(n)], now


def test_settings_pick_the_throttle() -> None:
    assert isinstance(login_throttle_from_settings(Settings()), LoginThrottle)
    shared = login_throttle_from_settings(dataclasses.replace(Settings(), redis_url="redis://x"))
    assert isinstance(shared, RedisLoginThrottle)


async def test_failures_on_one_replica_count_on_the_other(redis: RedisServer) -> None:
    (one, other), now = _replicas(redis.url)
    await one.record_failure("li.na", "10.0.0.1")
    now[0] += 600
    await other.record_failure("Li.Na", "10.0.0.1")
    assert await one.wait_s("li.na", "10.0.0.1") == 300  # the first failure leaves the window then
    assert await other.wait_s("li.na", "10.0.0.1") == 300
    assert await other.wait_s("li.na", "10.0.0.2") == 0  # the pair is throttled, not the user
    now[0] += 300
    assert await one.wait_s("li.na", "10.0.0.1") == 0
    await one.record_failure("li.na", "10.0.0.1")
    assert await other.wait_s("li.na", "10.0.0.1") == 600
    await other.record_success("LI.NA", "10.0.0.1")
    assert await one.wait_s("li.na", "10.0.0.1") == 0


async def test_a_distributed_guesser_is_slowed_but_the_owners_known_address_passes(redis: RedisServer) -> None:
    (one, other), _ = _replicas(redis.url, per_user=5, per_ip=20)
    await one.record_success("supervisor", "198.51.100.7")
    for n in range(50):  # one guess from each of 50 addresses, alternating replicas
        await (one, other)[n % 2].record_failure("supervisor", f"203.0.113.{n}")
    assert await other.wait_s("supervisor", "192.0.2.55") > 0  # a new address now waits
    assert await one.wait_s("supervisor", "198.51.100.7") == 0  # the owner's address does not
    assert await one.wait_s("agent1", "192.0.2.55") == 0  # nor does anyone else


async def test_per_address_limit_is_shared(redis: RedisServer) -> None:
    (one, other), _ = _replicas(redis.url, per_user=5, per_ip=4)
    for n in range(4):
        await (one, other)[n % 2].record_failure(f"guess{n}", "203.0.113.9")
    assert await one.wait_s("agent1", "203.0.113.9") > 0 and await other.wait_s("agent1", "203.0.113.9") > 0


async def test_redis_out_of_reach_still_throttles_per_replica() -> None:
    throttle = RedisLoginThrottle("redis://127.0.0.1:1/0", per_user=2, per_ip=0, window_s=900)
    await throttle.record_failure("li.na", "10.0.0.1")
    await throttle.record_failure("li.na", "10.0.0.1")
    assert await throttle.wait_s("li.na", "10.0.0.1") > 0
