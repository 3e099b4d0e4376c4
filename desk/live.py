"""Live notifications inside the desk: who must redraw what, now.

Publishers say *that* something changed on a topic (the queue, one conversation's transcript and
typing, one customer's connection); subscribers react. ``Broker`` is the seam, with two implementations
picked by ``broker_from_settings``: ``InProcessBroker`` serves one console process (the embedded
default); ``RedisBroker`` (when ``REDIS_URL`` is set) carries the same messages over Redis pub/sub, so a
handoff claimed on one console replica redraws the queue on every other one, and an agent message
reaches a customer connected to another replica. ``has_subscribers`` asks either one whether a topic
has a listener anywhere (the queue sweeper's "is the customer still connected").

Topics are strings built by the helpers below; messages are small JSON-able dicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from common.settings import Settings

logger = logging.getLogger(__name__)

QUEUE = "queue"
SUBSCRIBER_BUFFER = 256
REDIS_WAIT_S = 1.0  # the longest a publish or a count waits for Redis before this replica goes on alone


def conversation_topic(conversation_id: str) -> str:
    """Changes to a conversation's transcript or handoff, for the agents viewing it."""
    return f"conversation:{conversation_id}"


def customer_topic(conversation_id: str) -> str:
    """Messages to push to the customer's live connection(s)."""
    return f"customer:{conversation_id}"


class Subscription(Protocol):
    async def next(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message, or None when ``timeout`` seconds pass first."""


class Broker(Protocol):
    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...


class _QueueSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=SUBSCRIBER_BUFFER)

    def offer(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            # a stalled reader loses its oldest notification rather than blocking every publisher
            self.queue.get_nowait()
        self.queue.put_nowait(message)

    async def next(self, timeout: float | None = None) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None


class InProcessBroker:
    """Fan-out to the subscribers of this process (one event loop)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_QueueSubscription]] = {}

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        for subscription in list(self._subscribers.get(topic, ())):
            subscription.offer(message)

    def subscribers(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        subscription = _QueueSubscription()
        self._subscribers.setdefault(topic, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[topic]


async def has_subscribers(broker: Broker, topic: str) -> bool | None:
    """Whether anyone (on any replica the broker reaches) listens to ``topic``; None when it cannot tell."""
    counter = getattr(broker, "subscriber_count", None)
    if counter is not None:
        count = await counter(topic)
        return None if count is None else count > 0
    local = getattr(broker, "subscribers", None)
    return None if local is None else local(topic) > 0


class RedisBroker:
    """Fan-out across console replicas through Redis pub/sub (chosen when ``REDIS_URL`` is set).

    One pub/sub connection per process: the first local subscriber of a topic subscribes this process to
    the Redis channel (``prefix + topic``) and the last one to leave unsubscribes it; one reader task hands
    what arrives to the local subscribers (an ``InProcessBroker``). A publish goes to Redis only, so this
    process's own subscribers get it back from Redis once, like every other replica's. ``subscribe`` returns
    once Redis has confirmed the subscription, so a view that subscribes and then reads a snapshot misses
    nothing in between. While Redis cannot be reached, publishes reach this process's subscribers directly
    (one replica keeps working on its own; the outage is logged once a minute at most) and the reader
    reconnects and subscribes again every ``retry_s``.
    """

    def __init__(self, url: str, *, prefix: str = "live:", client: Any | None = None, retry_s: float = 1.0) -> None:
        self._url = url
        self._prefix = prefix
        self._client = client
        self._retry_s = retry_s
        self._local = InProcessBroker()
        self._pubsub: Any | None = None
        self._reader: asyncio.Task[None] | None = None
        self._channels: set[str] = set()  # topics this process is subscribed to in Redis
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lock: asyncio.Lock | None = None
        self._warned_at = float("-inf")

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio as redis_asyncio

            self._client = redis_asyncio.from_url(self._url, socket_connect_timeout=1.0, health_check_interval=0)
        return self._client

    def _warn(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at >= 60:
            self._warned_at = now
            logger.warning("live updates: Redis unavailable on %s (%s); this replica's own views still update",
                           what, type(exc).__name__)

    def subscribers(self, topic: str) -> int:
        """Subscribers of ``topic`` in this process only (``subscriber_count`` counts every replica)."""
        return self._local.subscribers(topic)

    async def subscriber_count(self, topic: str) -> int | None:
        """Replicas with a subscriber of ``topic`` (Redis ``PUBSUB NUMSUB``). While Redis is out of reach:
        this process's count when it has one, else None (another replica may hold the connection)."""
        try:
            [(_, count)] = await asyncio.wait_for(self._redis().pubsub_numsub(self._prefix + topic), REDIS_WAIT_S)
            return max(int(count), 1 if self._local.subscribers(topic) else 0)
        except Exception as exc:  # noqa: BLE001 - Redis out of reach: what this process knows
            self._warn("count", exc)
            return self._local.subscribers(topic) or None

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(
                self._redis().publish(self._prefix + topic, json.dumps(message, ensure_ascii=False)), REDIS_WAIT_S
            )
        except Exception as exc:  # noqa: BLE001 - Redis out of reach: this replica's views still update
            self._warn("publish", exc)
            await self._local.publish(topic, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        async with self._local.subscribe(topic) as subscription:
            await self._join(topic)
            try:
                yield subscription
            finally:
                await self._leave(topic)  # still counted here: leaves Redis when it is the last one

    async def _join(self, topic: str) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if topic in self._channels:
                return
            confirmed = self._confirmed.setdefault(topic, asyncio.Event())
            self._channels.add(topic)
            try:
                if self._pubsub is None:
                    self._pubsub = self._redis().pubsub()
                await self._pubsub.subscribe(self._prefix + topic)
            except Exception as exc:  # noqa: BLE001 - the reader subscribes again once Redis is back
                self._warn("subscribe", exc)
                confirmed.set()
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(confirmed.wait(), 2.0)

    async def _leave(self, topic: str) -> None:
        if self._lock is None:
            return
        async with self._lock:
            if topic not in self._channels or self._local.subscribers(topic) > 1:
                return
            self._channels.discard(topic)
            self._confirmed.pop(topic, None)
            if self._pubsub is not None:
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(self._prefix + topic)

    async def _read(self) -> None:
        while True:
            try:
                pubsub = self._pubsub
                if pubsub is None or pubsub.connection is None:
                    await self._reconnect()
                    continue
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                channel = message.get("channel")
                channel = channel.decode() if isinstance(channel, bytes) else str(channel or "")
                if not channel.startswith(self._prefix):
                    continue
                topic = channel[len(self._prefix):]
                if message["type"] == "subscribe":
                    event = self._confirmed.get(topic)
                    if event is not None:
                        event.set()
                elif message["type"] == "message":
                    await self._local.publish(topic, json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - connection lost: start again with a fresh one
                self._warn("receive", exc)
                await asyncio.sleep(self._retry_s)
                await self._reconnect()

    async def _reconnect(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self._fresh_pubsub()
        if not self._channels or self._pubsub is None:
            await asyncio.sleep(self._retry_s)

    async def _fresh_pubsub(self) -> None:
        old, self._pubsub = self._pubsub, None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.reset()
        try:
            pubsub = self._redis().pubsub()
            topics = sorted(self._channels)
            if topics:
                await pubsub.subscribe(*(self._prefix + t for t in topics))
            self._pubsub = pubsub
        except Exception as exc:  # noqa: BLE001
            self._warn("reconnect", exc)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.reset()
            self._pubsub = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose() if hasattr(self._client, "aclose") else await self._client.close()


def broker_from_settings(settings: Settings) -> Broker:
    """Redis pub/sub when ``REDIS_URL`` is set (several console replicas), else in-process (the embedded default)."""
    if settings.redis_url:
        return RedisBroker(settings.redis_url)
    return InProcessBroker()
