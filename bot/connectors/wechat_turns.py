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
a replay and is refused.

A message is never lost to a store failure (Redis or the SQL store unreachable, ``StoreUnavailable``):
before the bot has run, nothing terminal is recorded. The claim is released (and, should the release
fail too, it is only a lease of ``budget + 1`` seconds, which runs out by itself), and ``RetryLater``
tells the webhook to leave the request unanswered, so that WeChat retries it and the retry runs the
turn. A retry that finds the claim gone takes it; one that finds it still pending past its own
deadline (the first request's process stopped or lost its store) is left unanswered as well. Once
the bot has run, its answer goes out whatever the store does afterwards. No Rasa imports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from common.db import StoreUnavailable
from wechat.api import Inbound
from wechat.delivery import ServiceWindow, WeChatDelivery, opens_window
from wechat.stores import KeyValueStore
from wechat.text import ButtonMemory, bot_input, render

logger = logging.getLogger(__name__)

RunBot = Callable[[Inbound, str], Awaitable[list[dict[str, Any]]]]
MESSAGE_TTL_S = 3600.0
KEEP_DECIDED_S = 60.0  # how long retries in this process find a decision the store could not record
PENDING, DEFERRED, NOTHING, REPLY = "pending", "deferred", "nothing", "reply:"


class RetryLater(Exception):
    """The message was not taken: leave the request unanswered so that WeChat sends it again."""


class MessageLedger:
    def __init__(self, store: KeyValueStore, *, nonce_ttl_s: float = 600, claim_ttl_s: float = 5.5) -> None:
        self._store = store
        self._nonce_ttl = nonce_ttl_s
        self._claim_ttl = claim_ttl_s

    async def claim(self, key: str) -> bool:
        """Take a message for this request: a lease until ``settle`` records the outcome."""
        return await self._store.add(f"seen:{key}", PENDING, self._claim_ttl)

    async def release(self, key: str) -> None:
        await self._store.delete(f"seen:{key}")

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
        self.ledger = MessageLedger(store, claim_ttl_s=budget_s + 1.0)
        self.buttons = ButtonMemory(store)
        self._delivery = delivery
        self._window = window
        self._menu = menu
        self._budget = budget_s
        self._clock = clock
        self._turns: dict[str, asyncio.Future[str | None]] = {}  # None: not taken, claim again
        self._background: set[asyncio.Task[Any]] = set()

    def _spawn(self, coroutine: Awaitable[Any], *, awaited: bool = False) -> asyncio.Future[Any]:
        """A task of this runner. Its exception is always retrieved here, so none is left for the loop to
        report as "Task exception was never retrieved"; it is logged unless ``awaited`` (a caller waits
        for it and handles it, see ``handle``)."""
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(lambda done: self._reap(done, log=not awaited))
        return task

    def _reap(self, task: asyncio.Future[Any], *, log: bool) -> None:
        self._background.discard(task)
        if task.cancelled():
            return
        exc = task.exception()  # retrieved
        if exc is None or not log:
            return
        if isinstance(exc, (RetryLater, StoreUnavailable)):
            logger.warning("wechat: %s", exc)
        else:
            logger.error("wechat: background work ended in %s", type(exc).__name__, exc_info=exc)

    async def drain(self) -> None:
        """Wait for the answers still on their way through the API (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def handle(self, inbound: Inbound, received_at: float) -> str:
        """The passive reply text for this request ("" means answer "success").

        The work runs in its own task: when WeChat drops the connection (and Sanic cancels the
        request), the message is still decided and answered, and the retry finds the outcome.
        """
        task = self._spawn(self._handle(inbound, received_at), awaited=True)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # the request is gone (WeChat dropped it): nobody waits for this answer any more, so say
            # how the message ended here (RetryLater: WeChat's next try takes it)
            task.add_done_callback(lambda done: self._unanswered(inbound.dedup_key, done))
            raise

    @staticmethod
    def _unanswered(key: str, task: asyncio.Future[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, (RetryLater, StoreUnavailable)):
            logger.info("wechat message %s: request gone, left for WeChat to retry (%s)", key, exc)
        elif exc is not None:
            logger.error("wechat message %s: request gone, turn ended in %s", key, type(exc).__name__, exc_info=exc)

    async def _handle(self, inbound: Inbound, received_at: float) -> str:
        key = inbound.dedup_key
        deadline = received_at + self._budget
        while True:
            decided = self._turns.get(key)
            if decided is not None:  # a retry while the first request is still deciding
                earlier = await asyncio.shield(decided)
            elif await self.ledger.claim(key):  # StoreUnavailable here: nothing is recorded
                break
            else:
                earlier = await self._earlier_outcome(key, deadline)
            if earlier is not None:
                return earlier
            # the first request did not take the message (its claim was released or ran out)
        decided = asyncio.get_running_loop().create_future()
        self._turns[key] = decided
        try:
            reply, outcome = await self._first(inbound, deadline)
        except StoreUnavailable as exc:  # only possible before the bot ran (see _first)
            self._turns.pop(key, None)
            decided.set_result(None)
            await self._release(key)
            raise RetryLater(f"store unavailable before the turn ({exc})") from exc
        except BaseException:
            decided.set_result("")
            self._spawn(self._settle(key, NOTHING))
            raise
        decided.set_result(reply)
        # the bookkeeping after the decision is off the clock; retries in this process keep
        # attaching to ``decided`` until the outcome is in the shared store
        self._spawn(self._settle(key, outcome))
        return reply

    async def _release(self, key: str) -> None:
        try:
            await self.ledger.release(key)
        except StoreUnavailable:  # the claim's lease runs out by itself
            logger.warning("wechat: could not release the claim on %s; it expires by itself", key)

    async def _settle(self, key: str, outcome: str) -> None:
        try:
            await self.ledger.settle(key, outcome)
        except StoreUnavailable as exc:
            # retries reaching this process still get the outcome; elsewhere the lease runs out
            logger.warning("wechat: could not record the outcome of %s (%s)", key, exc)
            asyncio.get_running_loop().call_later(KEEP_DECIDED_S, self._turns.pop, key, None)
            return
        self._turns.pop(key, None)

    async def _earlier_outcome(self, key: str, deadline: float) -> str | None:
        """A retry of a message claimed earlier, perhaps by another process: replay its outcome.

        None when the claim is gone without an outcome (released or run out): the caller takes it.
        """
        while True:
            outcome = await self.ledger.outcome(key)
            if outcome is None:
                return None
            if outcome.startswith(REPLY):
                return outcome[len(REPLY):]
            if outcome != PENDING:
                return ""
            if self._clock() >= deadline:  # still undecided: the first request's process is stuck
                raise RetryLater(f"{key} is still pending elsewhere")
            await asyncio.sleep(0.05)

    async def _first(self, inbound: Inbound, deadline: float) -> tuple[str, str]:
        """(passive reply, outcome to record) for a message seen for the first time.

        Raises ``StoreUnavailable`` only before the bot runs; after that, store failures are logged.
        """
        # only what WeChat counts as an interaction reopens the window (not unsubscribe, VIEW, ...)
        opening = self._spawn(self._customer_wrote(inbound.openid) if opens_window(inbound) else asyncio.sleep(0))
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
        try:
            await self._window.opened(openid)
            await self._delivery.flush(openid)
        except StoreUnavailable as exc:  # held messages wait for the customer's next message
            logger.warning("wechat: window not reopened for openid=%s (%s)", openid, exc)

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
        try:
            await self.buttons.remember(openid, buttons)
        except StoreUnavailable:  # the answer still goes out; only numbered choices are lost
            logger.exception("could not keep the buttons of openid=%s", openid)
        if reply:
            await self._delivery.deliver(openid, reply, source="bot")
