"""The Redis rate limiter shares one bucket per sender between replicas (real redis-server, see conftest)."""

from __future__ import annotations

import pytest

from common.ratelimit import RedisRateLimiter


@pytest.mark.parametrize("replicas", [2])
async def test_redis_buckets_are_shared_by_replicas(redis_url: str, replicas: int) -> None:
    now = [1000.0]
    limiters = [RedisRateLimiter(redis_url, per_minute=60, burst=2, prefix="t-rl:", clock=lambda: now[0])
                for _ in range(replicas)]
    assert [await limiters[n % replicas].allow("a") for n in range(3)] == [True, True, False]
    now[0] += 1.0
    assert await limiters[1].allow("a")
