"""The public REST channel never lets a caller speak as a verified customer (bot/connectors/rest.py).

A real Sanic server on loopback runs the channel; a recording bot stands in for Rasa's agent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from bot.connectors.rest import GuardedRestInput
from common.settings import Settings
from devtools.wechat_sim.channel_app import _SeveralPerProcess
from devtools.wechat_sim.simulator import free_port

TOKEN = "rest-test-token"


class RecordingBot:
    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict[str, Any]]] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append((str(message.sender_id), message.text or "", dict(message.metadata or {})))
        await message.output_channel.send_text_message(str(message.sender_id), "ok")


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, RecordingBot]]:
    bot = RecordingBot()
    app = _SeveralPerProcess(f"rest_identity_{free_port()}")
    app.blueprint(GuardedRestInput(Settings(rasa_token=TOKEN)).blueprint(bot), url_prefix="/webhooks/rest")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/rest/webhook", bot
    finally:
        server.close()


async def _post(url: str, body: dict[str, Any], token: str | None = None) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body, params={"token": token} if token else {}) as response:
            await response.read()
            return response.status


@pytest.mark.parametrize("sender", ["web-C000001", "wg-0123456789abcdef", "wechat:o-alice"])
async def test_a_public_caller_cannot_use_a_verified_conversation_id(served, sender: str) -> None:
    url, bot = served
    assert await _post(url, {"sender": sender, "message": "where is my order"}) == 403
    assert await _post(url, {"sender": sender, "message": "hi"}, token="wrong") == 403
    assert bot.received == []


async def test_the_console_with_the_token_speaks_for_its_verified_customer(served) -> None:
    url, bot = served
    metadata = {"channel": "web", "signed_in": True, "customer_id": "C000001", "message_id": "m-1"}
    assert await _post(url, {"sender": "web-C000001", "message": "hi", "metadata": metadata}, token=TOKEN) == 200
    assert bot.received == [("web-C000001", "hi", metadata)]


async def test_a_public_caller_chats_as_a_rest_guest_whatever_its_metadata_claims(served) -> None:
    url, bot = served
    metadata = {"channel": "wechat", "customer_id": "C000001", "signed_in": True, "sent_by": "agent", "page": "/faq"}
    assert await _post(url, {"sender": "o-alice", "message": "hi", "metadata": metadata}) == 200
    assert bot.received == [("o-alice", "hi", {})]  # dropped whole (issue 11 item 2)
