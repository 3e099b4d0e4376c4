"""The per-sender token bucket: burst, refill, independent senders, off when the rate is 0, Redis shares it."""

from __future__ import annotations

import dataclasses

from common.ratelimit import InProcessRateLimiter, RedisRateLimiter, limiter_from_settings
from common.settings import Settings


async def test_a_burst_then_one_line_per_refill() -> None:
    now = [0.0]
    limiter = InProcessRateLimiter(per_minute=60, burst=3, clock=lambda: now[0])
    assert [await limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert await limiter.allow("b")  # another sender has its own bucket
    now[0] += 1.0
    assert await limiter.allow("a") and not await limiter.allow("a")


def test_buckets_are_bounded() -> None:
    limiter = InProcessRateLimiter(per_minute=60, burst=1, max_keys=10)
    for n in range(100):
        limiter.take(f"s{n}")
    assert len(limiter._buckets) == 10


def test_settings_pick_the_limiter() -> None:
    assert limiter_from_settings(dataclasses.replace(Settings(), rate_limit_per_minute=0)) is None
    assert isinstance(limiter_from_settings(Settings()), InProcessRateLimiter)
    assert isinstance(limiter_from_settings(dataclasses.replace(Settings(), redis_url="redis://x")), RedisRateLimiter)


async def test_redis_unreachable_keeps_answering_within_the_process_budget() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", per_minute=60, burst=2)
    assert await limiter.allow("a") and await limiter.allow("a")
    assert not await limiter.allow("a")  # bounded while Redis is down (issue 11 item 12)
