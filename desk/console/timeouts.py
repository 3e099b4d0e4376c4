"""QueueTimeouts: a periodic task in the console process that ends queued handoffs nobody took.

* Abandoned: while queued the customer has said nothing for ``HANDOFF_ABANDON_MINUTES`` *and* is not
  connected (no open widget or web chat socket for the conversation on any console replica: the broker counts the customer
  topic's subscribers), or ``customer_left`` was called. The bot is resumed silently. The default (2 min)
  is shorter than the queue timeout (5 min), so a customer who closed the chat is abandoned before the
  timeout; a customer still connected is never called gone, and where presence cannot be known (WeChat,
  or a broker that cannot count subscribers) the timeout applies, which tells the customer and books a
  callback.
* Timed out: no agent claimed within ``HANDOFF_TIMEOUT_MINUTES``. A callback ticket is saved, the bot is
  resumed and ``EXTERNAL_handoff_timed_out`` is triggered, so the bot tells the customer politely (response
  ``utter_handoff_timed_out``) in their channel.

Both go through ``HandoffQueue.transition`` (one conditional update), so a claim that lands at the same
moment wins or loses cleanly: a handoff an agent has claimed is never timed out.

Every sweep first retries the resumes Rasa did not accept when a handoff ended (resolved, back to the
bot, timed out, abandoned while Rasa was out of reach: ``resume_pending``, ``desk.resolution``), until
Rasa accepts them, so a customer is never left in a paused conversation with no open handoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from common.db import StoreUnavailable
from desk.errors import InvalidTransition
from desk.gateway import ChannelUnavailable, GatewayRouter, OutboundMessage
from desk.handoffs import HandoffQueue
from desk.live import QUEUE, Broker, conversation_topic, customer_topic, has_subscribers
from desk.models import HandoffStatus, TicketTopic
from desk.rasa_client import RasaClient, RasaUnavailable
from desk.resolution import ABANDONED, TIMED_OUT, resume, resume_or_mark
from desk.schemas import HandoffView
from desk.tickets import TicketStore

logger = logging.getLogger(__name__)


class QueueTimeouts:
    def __init__(
        self,
        queue: HandoffQueue,
        rasa: RasaClient,
        tickets: TicketStore,
        broker: Broker,
        gateways: GatewayRouter,
        *,
        timeout_minutes: int,
        abandon_minutes: int,
        interval_s: float = 30.0,
        clock: Callable[[], datetime] = datetime.utcnow,
    ) -> None:
        self._queue = queue
        self._rasa = rasa
        self._tickets = tickets
        self._broker = broker
        self._gateways = gateways
        self._timeout = timedelta(minutes=timeout_minutes) if timeout_minutes > 0 else None
        self._abandon = timedelta(minutes=abandon_minutes) if abandon_minutes > 0 else None
        self._interval = interval_s
        self._clock = clock

    async def _last_customer_line(self, handoff: HandoffView) -> datetime:
        try:
            tracker = await self._rasa.tracker(handoff.conversation_id)
        except RasaUnavailable:
            return self._clock()  # unknown: never call a customer gone on a guess
        stamps = [float(e.get("timestamp") or 0) for e in tracker.get("events") or [] if e.get("event") == "user"]
        last = datetime.utcfromtimestamp(max(stamps)) if stamps else handoff.created_at
        return max(last, handoff.created_at)

    async def sweep(self) -> dict[str, list[int]]:
        """One look at the queue; returns the ids it abandoned and timed out."""
        done: dict[str, list[int]] = {"abandoned": [], "timed_out": []}
        await self.retry_resumes()
        try:
            queued = await asyncio.to_thread(self._queue.queued)
        except StoreUnavailable:
            logger.warning("queue timeouts: database unavailable")
            return done
        now = self._clock()
        for handoff in queued:
            waited = now - handoff.created_at
            silent = (self._abandon is not None and waited >= self._abandon
                      and await self._connected(handoff) is False
                      and now - await self._last_customer_line(handoff) >= self._abandon)
            if silent:
                if await self.abandon(handoff):
                    done["abandoned"].append(handoff.id)
                continue
            if self._timeout is not None and waited >= self._timeout and await self.time_out(handoff):
                done["timed_out"].append(handoff.id)
        return done

    async def _connected(self, handoff: HandoffView) -> bool | None:
        """Whether the customer has a live connection to a console replica (None: cannot be known here)."""
        if not self._gateways.carries_bot_lines(handoff.channel):
            return None  # a channel with no connection of its own here (WeChat)
        # None too for a broker that cannot count; with Redis, a socket on any replica counts
        return await has_subscribers(self._broker, customer_topic(handoff.conversation_id))

    async def retry_resumes(self) -> list[int]:
        """Resume the conversations of handoffs marked ``resume_pending``; the ids Rasa accepted.

        Stops at the first refusal (Rasa is still out of reach: the next sweep tries again). A
        conversation that has an open handoff again is left paused for that handoff.
        """
        resumed: list[int] = []
        try:
            pending = await asyncio.to_thread(self._queue.resume_pending)
        except StoreUnavailable:
            logger.warning("pending resumes: database unavailable")
            return resumed
        for handoff in pending:
            ending = str(handoff.package.get("resume_pending"))
            try:
                if await asyncio.to_thread(self._queue.open_for, handoff.conversation_id) is None:
                    messages = await resume(self._rasa, handoff.conversation_id, ending)
                    await self._deliver(handoff, messages)
                await asyncio.to_thread(self._queue.clear_resume_pending, handoff.id)
            except RasaUnavailable as exc:
                logger.warning("pending resumes: Rasa still out of reach (%d waiting): %s", len(pending), exc)
                break
            except StoreUnavailable:
                logger.warning("pending resumes: database unavailable")
                break
            logger.info("handoff %s (%s): the bot has resumed the conversation", handoff.id, ending)
            resumed.append(handoff.id)
            await self._changed(handoff)
        return resumed

    async def customer_left(self, conversation_id: str) -> bool:
        """The customer closed the chat while queued: abandoned (for the widget's close event)."""
        handoff = await asyncio.to_thread(self._queue.open_for, conversation_id)
        if handoff is None or handoff.status != HandoffStatus.QUEUED.value:
            return False
        return await self.abandon(handoff)

    async def abandon(self, handoff: HandoffView) -> bool:
        if not await self._move(handoff, HandoffStatus.ABANDONED):
            return False
        # a customer who comes back talks to the bot again (resume_pending until Rasa accepts)
        await resume_or_mark(self._queue, self._rasa, handoff, ABANDONED)
        await self._changed(handoff)
        return True

    async def time_out(self, handoff: HandoffView) -> bool:
        if not await self._move(handoff, HandoffStatus.TIMED_OUT):
            return False
        try:
            await asyncio.to_thread(
                self._tickets.record_contact,
                customer_id=handoff.customer_id,
                conversation_id=handoff.conversation_id,
                channel=handoff.channel,
                topic=TicketTopic.OTHER.value,
                order_id=(handoff.package.get("summary_facts") or {}).get("order_id"),
                subject=f"callback: {handoff.summary}"[:300],
                team=handoff.team,
            )
        except Exception:  # the customer is still told; the supervisor sees the timed-out handoff
            logger.exception("timed-out handoff %s: the callback ticket was not saved", handoff.id)
        ending = await resume_or_mark(self._queue, self._rasa, handoff, TIMED_OUT)
        if ending.resumed:  # else the sweep resumes it (and tells the customer) once Rasa answers
            await self._deliver(handoff, ending.messages)
        await self._changed(handoff)
        return True

    async def _move(self, handoff: HandoffView, wanted: HandoffStatus) -> bool:
        try:
            await asyncio.to_thread(self._queue.transition, handoff.id, wanted)
        except InvalidTransition:  # claimed (or ended) a moment ago: leave it
            return False
        return True

    async def _deliver(self, handoff: HandoffView, messages: list[dict[str, Any]]) -> None:
        if not self._gateways.carries_bot_lines(handoff.channel):
            return  # the channel's output inside Rasa has sent them
        try:
            for message in messages:
                await self._gateways.send(handoff.channel, handoff.conversation_id, OutboundMessage.from_rasa(message))
        except ChannelUnavailable:
            logger.warning("handoff %s: the bot's lines were kept, not delivered", handoff.id)

    async def _changed(self, handoff: HandoffView) -> None:
        await self._broker.publish(conversation_topic(handoff.conversation_id), {"type": "handoff", "id": handoff.id})
        await self._broker.publish(QUEUE, {"type": "queue"})

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # one bad sweep must not end the task
                logger.exception("queue timeouts: sweep failed")
            await asyncio.sleep(self._interval)
