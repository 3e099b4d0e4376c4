"""Shared short-lived state of the WeChat channel: one small key-value protocol, two backends.

Everything the channel must share between processes (the Rasa server, the desk console sending agent
replies, several Rasa workers) is a key with a time to live: the access token and its refresh lock,
handled messages (dedup by MsgId / sender+CreateTime) and their outcome, seen nonces, the
customer-service window and the last buttons shown to a customer. So one protocol serves them all:

- ``RedisStore``  (``REDIS_URL`` set): ``redis.asyncio``; ``SET NX PX`` makes claims atomic. The
  channel uses it through ``FallbackStore``: while Redis is unreachable the keys live in this
  process (``MemoryStore``) and the channel keeps answering; Redis is probed every few seconds and
  used again once it answers (as ``bot/lock_store.py`` does for Rasa's conversation locks).
- ``SQLStore``    (embedded default): a ``wechat_kv`` table in the application database
  (``DATABASE_URL``, SQLite by default). Chosen over an in-process dict because the token must be
  shared with the desk process that sends agent replies: WeChat invalidates an access token five
  minutes after another process fetches a new one. Claims are a primary-key insert, so they stay
  atomic across processes; calls run in a worker thread to keep the event loop free.

A backend that cannot be reached raises ``StoreUnavailable`` (``common.db``), whatever the backend.
Expired ``wechat_kv`` rows are deleted by ``purge_expired_rows``: by ``python -m desk.retention`` whatever the
retention age (an expired key holds nothing anyone may read) and by ``SQLStore`` itself, on a write at
most every ``PURGE_EVERY_S``, so the table stays bounded without the job; ``KeyValueData`` answers the
privacy office (``common.privacy``) and matches a key's ``:``-separated parts exactly (``window:<openid>``,
``evt:<openid>:<time>:<event>``), never with a pattern. The table is created by the schema's one entry point
(``desk.schema.create_all``, or Alembic in production), never by ``SQLStore``. No Rasa imports.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import Column, Float, String, Text, delete, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from common.db import Base, StoreUnavailable, make_engine, make_session_factory
from common.privacy import DataSubject, Identifiers

logger = logging.getLogger(__name__)
T = TypeVar("T")


class KeyValueStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_s: float) -> None: ...

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        """Set ``key`` only when it is absent (or expired); True when this call set it."""
        ...

    async def incr(self, key: str, ttl_s: float) -> int:
        """Add one to a counter (created at 1 with ``ttl_s``; the expiry is not extended)."""
        ...

    async def delete(self, key: str) -> None: ...


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def _unavailable_on(errors: Callable[[], tuple[type[BaseException], ...]], backend: str):  # type: ignore[no-untyped-def]
    """Turn a backend's "cannot reach it" errors into ``StoreUnavailable``."""

    def wrap(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        @functools.wraps(method)
        async def wrapped(*args: Any, **kwargs: Any) -> T:
            try:
                return await method(*args, **kwargs)
            except errors() as exc:
                # the driver's own message, never SQLAlchemy's (it quotes the statement's values)
                cause = getattr(exc, "orig", None) if isinstance(exc, SQLAlchemyError) else exc
                raise StoreUnavailable(f"{backend}: {type(exc).__name__}: {cause or ''}") from exc

        return wrapped

    return wrap


_redis_call = _unavailable_on(_redis_errors, "redis")
_sql_call = _unavailable_on(lambda: (SQLAlchemyError,), "wechat_kv")


class RedisStore:
    def __init__(self, url: str, *, prefix: str = "wechat:", timeout_s: float = 2.0) -> None:
        import redis.asyncio as redis_asyncio

        # short timeouts: a request waiting on a Redis that is gone would miss WeChat's 5 seconds
        self._redis = redis_asyncio.from_url(
            url, decode_responses=True, socket_connect_timeout=min(1.0, timeout_s), socket_timeout=timeout_s
        )
        self._prefix = prefix

    @_redis_call
    async def ping(self) -> None:
        await self._redis.ping()

    @_redis_call
    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    @_redis_call
    async def set(self, key: str, value: str, ttl_s: float) -> None:
        await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_s * 1000)))

    @_redis_call
    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_s * 1000)), nx=True))

    @_redis_call
    async def incr(self, key: str, ttl_s: float) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, px=max(1, int(ttl_s * 1000)), nx=True)  # INCR keeps this expiry
            pipe.incr(name)
            _, count = await pipe.execute()
        return int(count)

    @_redis_call
    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.close()


class MemoryStore:
    """The same protocol in this process only: where ``FallbackStore`` keeps keys while Redis is down."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._items: dict[str, tuple[str, float]] = {}
        self._clock = clock

    def _live(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._items[key]
            return None
        return item[0]

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl_s: float) -> None:
        self._items[key] = (value, self._clock() + ttl_s)

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        if self._live(key) is not None:
            return False
        self._items[key] = (value, self._clock() + ttl_s)
        return True

    async def incr(self, key: str, ttl_s: float) -> int:
        current = self._live(key)
        expires = self._items[key][1] if current is not None else self._clock() + ttl_s
        count = int(current or 0) + 1
        self._items[key] = (str(count), expires)
        return count

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)


class FallbackStore:
    """``RedisStore`` that keeps the channel working while Redis is unreachable.

    On the first failure it logs the outage once (ERROR) and serves every key from a ``MemoryStore``
    in this process; every ``retry_after_s`` it pings Redis, and once Redis answers it logs the
    recovery once (WARNING) and uses Redis again. While degraded, what is shared between processes
    (message dedup, the window, the access token) is shared within this process only: a WeChat
    retry that reaches another replica may run a turn twice, which is preferred to losing it. Keys
    written during the outage stay in memory and are not copied back.
    """

    def __init__(self, redis: RedisStore, *, retry_after_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redis = redis
        self.memory = MemoryStore()
        self.retry_after_s = retry_after_s
        self.degraded_since: float | None = None
        self._next_probe = 0.0
        self._clock = clock

    @property
    def degraded(self) -> bool:
        return self.degraded_since is not None

    def _fail(self, exc: BaseException) -> None:
        now = self._clock()
        if self.degraded_since is None:
            self.degraded_since = now
            logger.error("wechat store: Redis unavailable (%s); dedup, window, buttons and the access token are "
                         "kept in this process only until it returns", exc)
        self._next_probe = now + self.retry_after_s

    async def _redis_usable(self) -> bool:
        if self.degraded_since is None:
            return True
        now = self._clock()
        if now < self._next_probe:
            return False
        try:
            await self.redis.ping()
        except StoreUnavailable as exc:
            self._fail(exc)
            return False
        logger.warning("wechat store: Redis is back after %.0fs; the channel's keys are shared between "
                       "processes again", now - self.degraded_since)
        self.degraded_since = None
        return True

    async def _call(self, name: str, *args: Any) -> Any:
        if await self._redis_usable():
            try:
                return await getattr(self.redis, name)(*args)
            except StoreUnavailable as exc:
                self._fail(exc)
        return await getattr(self.memory, name)(*args)

    async def get(self, key: str) -> str | None:
        value = await self._call("get", key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl_s: float) -> None:
        await self._call("set", key, value, ttl_s)

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(await self._call("add", key, value, ttl_s))

    async def incr(self, key: str, ttl_s: float) -> int:
        return int(await self._call("incr", key, ttl_s))

    async def delete(self, key: str) -> None:
        await self._call("delete", key)

    async def close(self) -> None:
        await self.redis.close()


class KeyValueRow(Base):
    __tablename__ = "wechat_kv"

    key = Column(String(200), primary_key=True)
    value = Column(Text, nullable=False)
    expires_at = Column(Float, nullable=False, index=True)


class SQLStore:
    PURGE_EVERY_S = 600.0  # expired rows are also deleted by a write at most this often (the table's bound)

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._sessions = make_session_factory(engine)
        self._clock = clock
        self._next_purge = clock() + self.PURGE_EVERY_S

    def _purge_due(self) -> None:
        now = self._clock()
        if now >= self._next_purge:
            self._next_purge = now + self.PURGE_EVERY_S
            self.purge_expired()

    @classmethod
    def from_url(cls, database_url: str) -> SQLStore:
        return cls(make_engine(database_url))

    def _get(self, key: str) -> str | None:
        with self._sessions.begin() as s:
            row = s.get(KeyValueRow, key)
            return row.value if row is not None and row.expires_at > self._clock() else None

    def _set(self, key: str, value: str, ttl_s: float) -> None:
        self._purge_due()
        with self._sessions.begin() as s:
            s.merge(KeyValueRow(key=key, value=value, expires_at=self._clock() + ttl_s))

    def _add(self, key: str, value: str, ttl_s: float) -> bool:
        self._purge_due()
        now = self._clock()
        try:
            with self._sessions.begin() as s:
                s.execute(delete(KeyValueRow).where(KeyValueRow.key == key, KeyValueRow.expires_at <= now))
                s.add(KeyValueRow(key=key, value=value, expires_at=now + ttl_s))
            return True
        except IntegrityError:
            return False

    def _incr(self, key: str, ttl_s: float) -> int:
        now = self._clock()
        with self._sessions.begin() as s:
            row = s.execute(select(KeyValueRow).where(KeyValueRow.key == key).with_for_update()).scalar_one_or_none()
            if row is None or row.expires_at <= now:
                s.merge(KeyValueRow(key=key, value="1", expires_at=now + ttl_s))
                return 1
            row.value = str(int(row.value) + 1)
            return int(row.value)

    def _delete(self, key: str) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(KeyValueRow).where(KeyValueRow.key == key))

    def purge_expired(self) -> int:
        with self._sessions.begin() as s:
            return purge_expired_rows(s.connection(), now=self._clock())

    @_sql_call
    async def get(self, key: str) -> str | None:
        return await asyncio.to_thread(self._get, key)

    @_sql_call
    async def set(self, key: str, value: str, ttl_s: float) -> None:
        await asyncio.to_thread(self._set, key, value, ttl_s)

    @_sql_call
    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        return await asyncio.to_thread(self._add, key, value, ttl_s)

    @_sql_call
    async def incr(self, key: str, ttl_s: float) -> int:
        return await asyncio.to_thread(self._incr, key, ttl_s)

    @_sql_call
    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)


def _kv_present(connection: Connection) -> bool:
    return KeyValueRow.__tablename__ in inspect(connection).get_table_names()


def purge_expired_rows(connection: Connection, *, now: float) -> int:
    """Delete the ``wechat_kv`` rows expired at ``now`` (epoch seconds); the count deleted."""
    if not _kv_present(connection):
        return 0
    removed = int(connection.execute(delete(KeyValueRow).where(KeyValueRow.expires_at <= now)).rowcount or 0)
    if removed:
        logger.info("wechat_kv: %d expired rows deleted", removed)
    return removed


def keys_naming(connection: Connection, openids: list[str]) -> list[str]:
    """The keys one of whose ``:``-separated parts is exactly one of ``openids``."""
    if not openids or not _kv_present(connection):
        return []
    wanted = set(openids)
    found: list[str] = []
    for openid in wanted:
        candidates = connection.execute(select(KeyValueRow.key).where(
            KeyValueRow.key.contains(openid, autoescape=True))).scalars()
        found.extend(key for key in candidates if wanted & set(key.split(":")))
    return sorted(set(found))


def erase_openids(connection: Connection, openids: list[str]) -> int:
    keys = keys_naming(connection, openids)
    if not keys:
        return 0
    return int(connection.execute(delete(KeyValueRow).where(KeyValueRow.key.in_(keys))).rowcount or 0)


class KeyValueData:
    """The channel's keys naming the customer's openids (embedded store; with Redis they expire by themselves)."""

    tables = (KeyValueRow.__tablename__,)

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers()

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        return {"wechat_keys": keys_naming(session.connection(), sorted(subject.openids))}

    def erase(self, session: Session, subject: DataSubject) -> None:
        erase_openids(session.connection(), sorted(subject.openids))


def make_store(*, redis_url: str | None, database_url: str) -> KeyValueStore:
    """Redis (with the in-process fallback) when ``REDIS_URL`` is set, else the embedded SQL store."""
    if redis_url:
        return FallbackStore(RedisStore(redis_url))
    return SQLStore.from_url(database_url)
