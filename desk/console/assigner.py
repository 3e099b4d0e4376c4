"""AutoAssigner: a periodic task in the console process that keeps the desk's availability true and hands
queued handoffs to the agents online (``desk.teams.TeamDesk.assign_waiting``).

Every round: agents whose console went quiet go offline (stale sessions); when agents use the switch and
none is online, the handoffs still queued are timed out at once (callback ticket, the customer is told:
``QueueTimeouts.time_out``), else the queued handoffs are offered to the online agents. Whatever moved is
published, so the assigned agent's console shows it at once (the queue stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from common.db import StoreUnavailable
from desk.agents import AgentStore
from desk.console.timeouts import QueueTimeouts
from desk.handoffs import HandoffQueue
from desk.live import QUEUE, Broker, conversation_topic
from desk.teams import TeamDesk

logger = logging.getLogger(__name__)


class AutoAssigner:
    def __init__(self, desk: TeamDesk, agents: AgentStore, queue: HandoffQueue, broker: Broker,
                 timeouts: QueueTimeouts, *, interval_s: float = 0.5) -> None:
        self._desk = desk
        self._agents = agents
        self._queue = queue
        self._broker = broker
        self._timeouts = timeouts
        self._interval = interval_s
        self._poke = asyncio.Event()

    def poke(self) -> None:
        """Look now (an agent went online, a conversation was transferred)."""
        self._poke.set()

    async def round(self) -> dict[str, list[int]]:
        done: dict[str, list[int]] = {"assigned": [], "unstaffed": []}
        try:
            if await asyncio.to_thread(self._agents.expire_stale):
                await self._broker.publish(QUEUE, {"type": "queue"})
            available = await asyncio.to_thread(self._agents.anyone_available)
            if available is False:
                for handoff in await asyncio.to_thread(self._queue.queued):
                    if await self._timeouts.time_out(handoff):
                        done["unstaffed"].append(handoff.id)
                return done
            offers = await asyncio.to_thread(self._desk.assign_waiting)
        except StoreUnavailable:
            logger.warning("auto-assignment: database unavailable")
            return done
        for offer in offers:
            handoff = await asyncio.to_thread(self._queue.get, offer.handoff_id)
            await self._broker.publish(conversation_topic(handoff.conversation_id), {"type": "handoff", "id": handoff.id})
            done["assigned"].append(offer.handoff_id)
        if offers:
            await self._broker.publish(QUEUE, {"type": "queue"})
        return done

    async def run(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # one bad round must not end the task
                logger.exception("auto-assignment: round failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self._interval)
            self._poke.clear()
