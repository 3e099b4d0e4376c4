"""Rasa's Redis lock store that keeps answering when Redis is down (issue 6, "Faults").

Several Rasa replicas serve one conversation one turn at a time through ``RedisLockStore``. When
Redis is unreachable, Rasa's store raises and every turn fails with a ``LockError``. This subclass
falls back to an in-process lock per conversation instead (single-replica locking: two turns of one
conversation on two replicas are no longer serialised; no lock is lost on this replica), logs the
outage once at ERROR and the recovery once at WARNING, and probes Redis every ``retry_after_seconds``.
A conversation whose lock lives in memory keeps it until its turn is done, so a turn never switches
stores half-way.

    lock_store:
      type: bot.lock_store.FallbackRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      ...                      # the same keys as Rasa's `type: redis`
      retry_after_seconds: 5
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class FallbackRedisLockStore(RedisLockStore):
    """``RedisLockStore`` with an in-process fallback while Redis is unavailable (see module doc)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        self.retry_after_seconds = float(kwargs.pop("retry_after_seconds", 5))
        connect_timeout = float(kwargs.pop("socket_connect_timeout", 1))
        super().__init__(**kwargs)
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = connect_timeout
        self.memory = InMemoryLockStore()
        self.degraded_since: float | None = None
        self._next_probe = 0.0
        self._errors = _redis_errors()

    @property
    def degraded(self) -> bool:
        return self.degraded_since is not None

    def _fail(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self.degraded_since is None:
            self.degraded_since = now
            logger.error("lock store: Redis unavailable (%s: %s); conversation locks are held in this process "
                         "only (single-replica locking) until it returns", type(exc).__name__, exc)
        self._next_probe = now + self.retry_after_seconds

    def _redis_usable(self) -> bool:
        if self.degraded_since is None:
            return True
        now = time.monotonic()
        if now < self._next_probe:
            return False
        try:
            self.red.ping()
        except self._errors as exc:
            self._fail(exc)
            return False
        logger.warning("lock store: Redis is back after %.0fs; conversation locks are shared between replicas "
                       "again", now - self.degraded_since)
        self.degraded_since = None
        return True

    def _in_memory(self, conversation_id: str) -> bool:
        return conversation_id in self.memory.conversation_locks or not self._redis_usable()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        if self._in_memory(conversation_id):
            return self.memory.get_lock(conversation_id)
        try:
            return super().get_lock(conversation_id)
        except self._errors as exc:
            self._fail(exc)
            return self.memory.get_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        if self._in_memory(lock.conversation_id):
            self.memory.save_lock(lock)
            return
        try:
            super().save_lock(lock)
        except self._errors as exc:
            self._fail(exc)
            self.memory.save_lock(lock)

    def delete_lock(self, conversation_id: str) -> None:
        if conversation_id in self.memory.conversation_locks:
            self.memory.delete_lock(conversation_id)
            return
        if not self._redis_usable():
            return
        try:
            super().delete_lock(conversation_id)
        except self._errors as exc:
            self._fail(exc)
