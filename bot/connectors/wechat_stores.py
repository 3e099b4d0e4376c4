"""Shared short-lived state of the WeChat channel: one small key-value protocol, two backends.

Everything the channel must share between processes (the Rasa server, the desk console sending agent
replies, several Rasa workers) is a key with a time to live: the access token and its refresh lock,
handled messages (dedup by MsgId / sender+CreateTime) and their outcome, seen nonces, the
customer-service window and the last buttons shown to a customer. So one protocol serves them all:

- ``RedisStore``  (``REDIS_URL`` set): ``redis.asyncio``; ``SET NX PX`` makes claims atomic.
- ``SQLStore``    (embedded default): a ``wechat_kv`` table in the application database
  (``DATABASE_URL``, SQLite by default). Chosen over an in-process dict because the token must be
  shared with the desk process that sends agent replies: WeChat invalidates an access token five
  minutes after another process fetches a new one. Claims are a primary-key insert, so they stay
  atomic across processes; calls run in a worker thread to keep the event loop free.

No Rasa imports.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable, Protocol

from sqlalchemy import Column, Float, String, Text, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from common.db import Base, make_engine, make_session_factory


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


class RedisStore:
    def __init__(self, url: str, *, prefix: str = "wechat:") -> None:
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url, decode_responses=True)
        self._prefix = prefix

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl_s: float) -> None:
        await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_s * 1000)))

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_s * 1000)), nx=True))

    async def incr(self, key: str, ttl_s: float) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, px=max(1, int(ttl_s * 1000)), nx=True)  # INCR keeps this expiry
            pipe.incr(name)
            _, count = await pipe.execute()
        return int(count)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.close()


class KeyValueRow(Base):
    __tablename__ = "wechat_kv"

    key = Column(String(200), primary_key=True)
    value = Column(Text, nullable=False)
    expires_at = Column(Float, nullable=False, index=True)


class SQLStore:
    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        Base.metadata.create_all(engine, tables=[KeyValueRow.__table__])
        self._sessions = make_session_factory(engine)
        self._clock = clock

    @classmethod
    def from_url(cls, database_url: str) -> "SQLStore":
        return cls(make_engine(database_url))

    def _get(self, key: str) -> str | None:
        with self._sessions.begin() as s:
            row = s.get(KeyValueRow, key)
            return row.value if row is not None and row.expires_at > self._clock() else None

    def _set(self, key: str, value: str, ttl_s: float) -> None:
        with self._sessions.begin() as s:
            s.merge(KeyValueRow(key=key, value=value, expires_at=self._clock() + ttl_s))

    def _add(self, key: str, value: str, ttl_s: float) -> bool:
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
            return int(s.execute(delete(KeyValueRow).where(KeyValueRow.expires_at <= self._clock())).rowcount or 0)

    async def get(self, key: str) -> str | None:
        return await asyncio.to_thread(self._get, key)

    async def set(self, key: str, value: str, ttl_s: float) -> None:
        await asyncio.to_thread(self._set, key, value, ttl_s)

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        return await asyncio.to_thread(self._add, key, value, ttl_s)

    async def incr(self, key: str, ttl_s: float) -> int:
        return await asyncio.to_thread(self._incr, key, ttl_s)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)


def make_store(*, redis_url: str | None, database_url: str) -> KeyValueStore:
    """Redis when ``REDIS_URL`` is set, else the embedded SQL store."""
    if redis_url:
        return RedisStore(redis_url)
    return SQLStore.from_url(database_url)
