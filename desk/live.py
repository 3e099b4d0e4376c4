"""Live notifications inside the desk: who must redraw what, now.

Publishers say *that* something changed on a topic (the queue, one conversation's transcript, one
customer's connection); subscribers react. ``Broker`` is the seam: ``InProcessBroker`` serves one
console process; with several replicas a Redis pub/sub broker with the same two methods plugs in
(``create_app(broker=...)``), so an agent message reaches a customer connected to another replica.

Topics are strings built by the helpers below; messages are small JSON-able dicts.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Protocol

QUEUE = "queue"
SUBSCRIBER_BUFFER = 256


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
