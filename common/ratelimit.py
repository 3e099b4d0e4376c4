"""Rate limiting per sender: a token bucket keyed by the conversation id.

Each key has a bucket of ``burst`` tokens refilled at ``per_minute / 60`` tokens a second; a customer
line takes one token, and a line that finds the bucket empty is refused (HTTP 429, or an error frame
on a WebSocket). Used by the Rasa REST channel (``bot.connectors.rest``) and the console's web
chat sockets (``desk.console.routes.chat`` / ``widget``), behind one small interface:

* ``InProcessRateLimiter``: the embedded default; buckets in a bounded dict (least recently used
  dropped first), so one process = one budget.
* ``RedisRateLimiter``: chosen when ``REDIS_URL`` is set, so every replica shares a sender's budget;
  one Lua script refills and takes atomically. While Redis cannot be reached each process keeps the
  same budget in a bounded in-process limiter (the assistant keeps answering within the limit rather
  than letting everything through; the outage is logged once a minute at most).

``limiter_from_settings`` returns ``None`` when ``RATE_LIMIT_PER_MINUTE`` is 0 (no limit).
Nothing connects at import; the Redis client is made on first use.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from common.settings import Settings

logger = logging.getLogger(__name__)


class RateLimiter(Protocol):
    async def allow(self, key: str) -> bool:
        """Take one token from ``key``'s bucket; False when it is empty."""
        ...


class InProcessRateLimiter:
    def __init__(
        self, *, per_minute: int, burst: int, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(max(burst, 1))
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, stamp)

    def take(self, key: str) -> bool:
        now = self._clock()
        tokens, stamp = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - stamp) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return allowed

    async def allow(self, key: str) -> bool:
        return self.take(key)


# KEYS[1] bucket; ARGV: rate (tokens/s), burst, now (s), ttl (s). Returns 1 when a token was taken.
_LUA = """
local b = redis.call('HMGET', KEYS[1], 't', 's')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, stamp = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens = burst; stamp = now end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return ok
"""


class RedisRateLimiter:
    def __init__(
        self, url: str, *, per_minute: int, burst: int, prefix: str = "ratelimit:",
        client: Any | None = None, clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._rate = per_minute / 60.0
        self._burst = max(burst, 1)
        self._prefix = prefix
        self._client = client
        self._clock = clock
        self._script: Any | None = None
        # a bucket left alone this long is full again: Redis may forget it
        self._ttl = max(int(self._burst / self._rate) + 1, 1) if self._rate > 0 else 3600
        # the same budget per process while Redis is unreachable (bounded: least recently used dropped)
        self._fallback = InProcessRateLimiter(per_minute=per_minute, burst=burst, max_keys=50_000)
        self._warned_at = float("-inf")

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio as redis_asyncio

            self._client = redis_asyncio.from_url(self._url, socket_timeout=0.5, socket_connect_timeout=0.5)
        if self._script is None:
            self._script = self._client.register_script(_LUA)
        return self._script

    async def allow(self, key: str) -> bool:
        try:
            script = self._redis()
            result = await script(
                keys=[self._prefix + key], args=[self._rate, self._burst, self._clock(), self._ttl]
            )
            return bool(int(result))
        except Exception as exc:  # Redis down or unreachable: the in-process budget decides, say so
            now = time.monotonic()
            if now - self._warned_at >= 60:
                self._warned_at = now
                logger.warning("rate limiter: Redis unavailable (%s); this process's own budget applies",
                               type(exc).__name__)
            return self._fallback.take(key)


def limiter_from_settings(settings: Settings, *, prefix: str = "ratelimit:") -> RateLimiter | None:
    if settings.rate_limit_per_minute <= 0:
        return None
    if settings.redis_url:
        return RedisRateLimiter(
            settings.redis_url, per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst,
            prefix=prefix,
        )
    return InProcessRateLimiter(per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst)
