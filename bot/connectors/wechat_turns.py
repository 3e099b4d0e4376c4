"""The 5-second rule: one bot turn per WeChat message, answered passively or through the API.

WeChat waits 5 seconds for the answer to a message, then drops the connection and retries (three
tries in all). ``TurnRunner.handle`` starts the bot turn and waits for it until the reply budget
(4.5 s from arrival) runs out:

- done in time: the bot's text is the passive reply (the cheapest, and it does not count against
  the customer-service allowance);
- not done: the answer is "success" at once, and the turn, which keeps running, is delivered
  through the customer-service API when it ends.

Each message is processed once. Its key (MsgId, or sender + CreateTime for events) is claimed in
the shared store; a retry arriving in the same process waits on the same turn, and any retry gets
the first request's outcome: the same passive reply again (the first one may not have reached
WeChat, which is why it retried) or "success" when the answer goes through the API. Nonces are
remembered for the timestamp window with the body they signed: the same nonce with another body is
a replay and is refused. No Rasa imports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable

from bot.connectors.wechat_api import Inbound
from bot.connectors.wechat_delivery import ServiceWindow, WeChatDelivery
from bot.connectors.wechat_stores import KeyValueStore
from bot.connectors.wechat_text import ButtonMemory, bot_input, render

logger = logging.getLogger(__name__)

RunBot = Callable[[Inbound, str], Awaitable[list[dict[str, Any]]]]
MESSAGE_TTL_S = 3600.0
PENDING, DEFERRED, NOTHING, REPLY = "pending", "deferred", "nothing", "reply:"


class MessageLedger:
    def __init__(self, store: KeyValueStore, *, nonce_ttl_s: float = 600) -> None:
        self._store = store
        self._nonce_ttl = nonce_ttl_s

    async def claim(self, key: str) -> bool:
        return await self._store.add(f"seen:{key}", PENDING, MESSAGE_TTL_S)

    async def settle(self, key: str, outcome: str) -> None:
        await self._store.set(f"seen:{key}", outcome, MESSAGE_TTL_S)

    async def outcome(self, key: str) -> str | None:
        return await self._store.get(f"seen:{key}")

    async def nonce_ok(self, nonce: str, body_digest: str) -> bool:
        """A nonce is used once; an identical request again (a WeChat retry) is not a replay."""
        if await self._store.add(f"nonce:{nonce}", body_digest, self._nonce_ttl):
            return True
        return await self._store.get(f"nonce:{nonce}") == body_digest


class TurnRunner:
    def __init__(
        self,
        run_bot: RunBot,
        *,
        store: KeyValueStore,
        delivery: WeChatDelivery,
        window: ServiceWindow,
        menu: dict[str, str],
        budget_s: float = 4.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._run_bot = run_bot
        self.ledger = MessageLedger(store)
        self.buttons = ButtonMemory(store)
        self._delivery = delivery
        self._window = window
        self._menu = menu
        self._budget = budget_s
        self._clock = clock
        self._turns: dict[str, asyncio.Future[str]] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def drain(self) -> None:
        """Wait for the answers still on their way through the API (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def handle(self, inbound: Inbound, received_at: float) -> str:
        """The passive reply text for this request ("" means answer "success").

        The work runs in its own task: when WeChat drops the connection (and Sanic cancels the
        request), the message is still decided and answered, and the retry finds the outcome.
        """
        return await asyncio.shield(self._spawn(self._handle(inbound, received_at)))

    async def _handle(self, inbound: Inbound, received_at: float) -> str:
        key = inbound.dedup_key
        deadline = received_at + self._budget
        decided = self._turns.get(key)
        if decided is not None:  # a retry while the first request is still deciding
            return await asyncio.shield(decided)
        if not await self.ledger.claim(key):
            return await self._earlier_outcome(key, deadline)
        decided = asyncio.get_running_loop().create_future()
        self._turns[key] = decided
        reply, outcome = "", NOTHING
        try:
            reply, outcome = await self._first(inbound, deadline)
        finally:
            decided.set_result(reply)
            # the bookkeeping after the decision is off the clock; retries in this process keep
            # attaching to ``decided`` until the outcome is in the shared store
            self._spawn(self._settle(key, outcome))
        return reply

    async def _settle(self, key: str, outcome: str) -> None:
        try:
            await self.ledger.settle(key, outcome)
        finally:
            self._turns.pop(key, None)

    async def _earlier_outcome(self, key: str, deadline: float) -> str:
        """A retry of a message claimed earlier, perhaps by another process: replay its outcome."""
        while True:
            outcome = await self.ledger.outcome(key)
            if outcome is not None and outcome.startswith(REPLY):
                return outcome[len(REPLY):]
            if outcome != PENDING or self._clock() >= deadline:
                return ""
            await asyncio.sleep(0.05)

    async def _first(self, inbound: Inbound, deadline: float) -> tuple[str, str]:
        """(passive reply, outcome to record) for a message seen for the first time."""
        opening = self._spawn(self._customer_wrote(inbound.openid))
        text = await bot_input(inbound, menu=self._menu, buttons=self.buttons)
        if text is None:
            return "", NOTHING
        turn = asyncio.ensure_future(self._run_bot(inbound, text))
        try:
            messages = await asyncio.wait_for(asyncio.shield(turn), timeout=max(0.0, deadline - self._clock()))
        except asyncio.TimeoutError:
            self._spawn(self._deliver_later(inbound.openid, turn, opening))
            return "", DEFERRED
        except Exception:
            logger.exception("wechat turn failed (openid=%s)", inbound.openid)
            return "", NOTHING
        reply, buttons = render(messages)
        # stored before the reply leaves, so the customer's "2" can never arrive before its buttons
        try:
            await self.buttons.remember(inbound.openid, buttons)
        except Exception:  # the answer still goes out; only numbered choices are lost
            logger.exception("could not keep the buttons of openid=%s", inbound.openid)
        return reply, (REPLY + reply if reply else NOTHING)

    async def _customer_wrote(self, openid: str) -> None:
        """A message from the customer reopens the service window: send what was held for them."""
        await self._window.opened(openid)
        await self._delivery.flush(openid)

    async def _deliver_later(
        self, openid: str, turn: asyncio.Future[list[dict[str, Any]]], opening: asyncio.Future[Any]
    ) -> None:
        await asyncio.gather(opening, return_exceptions=True)  # the window is open before we send
        try:
            messages = await turn
        except Exception:
            logger.exception("wechat turn failed after the reply budget (openid=%s)", openid)
            return
        reply, buttons = render(messages)
        await self.buttons.remember(openid, buttons)
        if reply:
            await self._delivery.deliver(openid, reply, source="bot")
