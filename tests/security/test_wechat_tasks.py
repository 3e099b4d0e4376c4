"""WeChat turns never leave "Task exception was never retrieved" behind (issue 11, item 17), written first.

A request WeChat gives up on (the handler is cancelled) while its message is still pending elsewhere
ends its turn in ``RetryLater`` with nobody waiting: the exception is consumed and logged.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

from bot.connectors.wechat_turns import PENDING, TurnRunner
from wechat.api import Inbound
from wechat.stores import MemoryStore


def _inbound() -> Inbound:
    return Inbound(msg_type="text", openid="o-retry", account="gh_test", create_time=int(time.time()), msg_id="9001",
                   content="你好")


def test_a_cancelled_request_whose_turn_retries_later_leaves_no_unretrieved_exception(caplog: Any) -> None:
    unretrieved: list[dict[str, Any]] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
        store = MemoryStore()
        inbound = _inbound()
        await store.set(f"seen:{inbound.dedup_key}", PENDING, 60)  # claimed by another process, undecided

        async def never(*_: Any) -> list[dict[str, Any]]:
            raise AssertionError("the bot does not run for a message pending elsewhere")

        runner = TurnRunner(never, store=store, delivery=None, window=None, menu={}, budget_s=0.3)  # type: ignore[arg-type]
        request = asyncio.ensure_future(runner.handle(inbound, time.monotonic()))
        await asyncio.sleep(0.05)
        request.cancel()  # WeChat dropped the connection
        await asyncio.gather(request, return_exceptions=True)
        deadline = time.monotonic() + 10  # a bound on waiting; drain() would retrieve the exception itself
        while runner._background and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        gc.collect()
        await asyncio.sleep(0)

    with caplog.at_level(logging.INFO, logger="bot.connectors.wechat_turns"):
        asyncio.run(scenario())
        gc.collect()
    assert not [c for c in unretrieved if "never retrieved" in str(c.get("message"))], unretrieved
    assert any("pending elsewhere" in r.getMessage() for r in caplog.records)
