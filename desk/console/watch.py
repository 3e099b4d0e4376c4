"""QueueWatcher: handoffs are queued by the action server (another process), so the console looks at
the open handoffs every ``interval_s`` (and at once when poked) and tells the live views what moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from common.db import StoreUnavailable
from desk.handoffs import HandoffQueue
from desk.live import QUEUE, Broker, conversation_topic

logger = logging.getLogger(__name__)


class QueueWatcher:
    def __init__(self, queue: HandoffQueue, broker: Broker, *, interval_s: float = 0.5) -> None:
        self._queue = queue
        self._broker = broker
        self._interval = interval_s
        self._poke = asyncio.Event()
        self._seen: dict[int, tuple[str, str | None]] | None = None

    def poke(self) -> None:
        """Look now (a customer line was just forwarded, an agent just claimed)."""
        self._poke.set()

    async def check(self) -> bool:
        """One look; publishes and returns True when the open handoffs changed."""
        try:
            rows = await asyncio.to_thread(self._queue.open_handoffs)
        except StoreUnavailable:
            logger.warning("queue watcher: database unavailable")
            return False
        current = {h.id: (h.status, h.agent_id) for h in rows}
        previous, self._seen = self._seen, current
        if previous is None or previous == current:
            return previous is None
        conversations = {h.id: h.conversation_id for h in rows}
        for handoff_id in set(previous) | set(current):
            if previous.get(handoff_id) != current.get(handoff_id) and handoff_id in conversations:
                await self._broker.publish(
                    conversation_topic(conversations[handoff_id]), {"type": "handoff", "id": handoff_id}
                )
        await self._broker.publish(QUEUE, {"type": "queue"})
        return True

    async def run(self) -> None:
        while True:
            await self.check()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self._interval)
            self._poke.clear()
