"""The WeChat channel served alone: a Sanic app with ``WeChatInput``'s blueprint and a stand-in bot.

Rasa mounts channel blueprints the same way (``/webhooks/<name>``). ``EchoBot`` replaces Rasa's
``on_new_message`` where a test is about the channel's own logic (timing, dedup, retries): it
answers ``echo: <text>`` after a delay chosen per message, so a bot slower than WeChat's 5 seconds
can be played on demand.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.connectors.wechat import WeChatInput, WeChatParts
from devtools.wechat_sim.simulator import WeChatSimulator, free_port
from wechat.api import CustomerServiceClient, WeChatConfig
from wechat.outbox import Outbox
from wechat.stores import KeyValueStore

_apps = itertools.count()


class _SeveralPerProcess(Sanic):
    # Sanic re-compiles its HTTP protocol at every start unless in test mode, which breaks the
    # second app started in one process (tests and the benchmark start several)
    test_mode = True


@dataclass
class EchoBot:
    """Answers ``echo: <text>``; ``delay(text)`` seconds first; ``buttons`` in the text adds two buttons."""

    delay: Callable[[str], float] = lambda text: 0.0
    calls: Counter[str] = field(default_factory=Counter)
    senders: list[str] = field(default_factory=list)
    _started: dict[str, asyncio.Event] = field(default_factory=dict)

    def started(self, text: str) -> asyncio.Event:
        """Set once a turn for ``text`` has begun (for tests that must act while it runs)."""
        return self._started.setdefault(text, asyncio.Event())

    async def __call__(self, message: UserMessage) -> None:
        text = message.text or ""
        self.calls[text] += 1
        self.senders.append(str(message.sender_id))
        self.started(text).set()
        await asyncio.sleep(self.delay(text))
        assert message.output_channel is not None
        if "buttons" in text:
            await message.output_channel.send_text_with_buttons(
                str(message.sender_id), "Pick one", [{"title": "Yes", "payload": "/affirm"},
                                                     {"title": "No", "payload": "/deny"}]
            )
        else:
            await message.output_channel.send_text_message(str(message.sender_id), f"echo: {text}")


def slow_fraction(fraction: float, seconds: float, *, seed: int = 7) -> Callable[[str], float]:
    """A delay function: ``fraction`` of the messages take ``seconds``, the rest 10–200 ms."""
    rng = random.Random(seed)
    chosen: dict[str, float] = {}

    def delay(text: str) -> float:
        if text not in chosen:
            chosen[text] = seconds if rng.random() < fraction else rng.uniform(0.01, 0.2)
        return chosen[text]

    return delay


def config_for(sim: WeChatSimulator, **overrides: Any) -> WeChatConfig:
    values: dict[str, Any] = dict(
        token=sim.token, aes_key=sim.aes_key, app_id=sim.app_id, app_secret=sim.app_secret,
        mode=sim.mode, api_base=sim.api_base, window_messages=sim.window_messages,
    )
    values.update(overrides)
    return WeChatConfig(**values)


@dataclass
class RunningChannel:
    url: str
    channel: WeChatInput
    parts: WeChatParts
    _server: Any

    async def drain(self) -> None:
        """Wait until the answers sent through the customer-service API are out."""
        if self.channel.turns is not None:
            await self.channel.turns.drain()

    async def close(self) -> None:
        await self.drain()
        self._server.close()
        await self._server.wait_closed()


async def serve_channel(
    config: WeChatConfig | None, store: KeyValueStore, outbox: Outbox, bot: Callable[[UserMessage], Any],
    *, menu: dict[str, str] | None = None,
) -> RunningChannel:
    parts = WeChatParts(
        config=config or WeChatConfig(token="unused"), store=store, outbox=outbox,
        sender=CustomerServiceClient(config, store) if config else None,  # type: ignore[arg-type]
        menu=menu or {"ORDER_STATUS": "order_status"},
    )
    channel = WeChatInput(config, parts=parts)
    app = _SeveralPerProcess(f"wechat_test_{next(_apps)}")
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/wechat")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    return RunningChannel(f"http://127.0.0.1:{port}/webhooks/wechat/webhook", channel, parts, server)
