"""WeChat through the real assistant: the simulator posts encrypted (safe-mode) messages to the Rasa
server's /webhooks/wechat/webhook, which runs the trained model and the action server.

The answer comes back passively when the turn takes under 4.5 s, else through the simulator's
customer-service API; either way exactly once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from devtools.wechat_sim.simulator import WeChatSimulator
from profiles.models import ChannelIdentity
from tests.integration.conftest import WECHAT_ENV, Assistant

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
async def sim(assistant: Assistant) -> AsyncIterator[WeChatSimulator]:
    simulator = WeChatSimulator(
        token=WECHAT_ENV["WECHAT_TOKEN"], aes_key=WECHAT_ENV["WECHAT_AES_KEY"], app_id=WECHAT_ENV["WECHAT_APP_ID"],
        app_secret=WECHAT_ENV["WECHAT_APP_SECRET"], mode="safe", port=assistant.wechat_api_port,
    )
    await simulator.start()
    yield simulator
    await simulator.close()


async def _answers(sim: WeChatSimulator, url: str, fields: dict, openid: str) -> list[str]:
    """Every answer the customer sees for one message: the passive reply and any API deliveries."""
    before = len(sim.deliveries)
    exchange = await sim.send(url, fields)
    assert exchange.attempts[0].status == 200 and exchange.attempts[0].elapsed_s < 5, exchange.attempts
    answers = [exchange.reply] if exchange.reply else []
    if not answers:  # a slow turn: wait for the customer-service API
        for _ in range(120):
            if len(sim.deliveries) > before:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)  # would a duplicate follow?
    return answers + [d.text for d in sim.deliveries[before:] if d.openid == openid]


async def test_a_wechat_customer_is_recognised_and_answered_once(assistant: Assistant, sim: WeChatSimulator) -> None:
    with assistant.session_factory() as s:
        customer_id = s.scalars(
            select(ChannelIdentity.customer_id).where(ChannelIdentity.external_id == "demo-vip-zh").limit(1)
        ).one()
        openid = s.scalars(
            select(ChannelIdentity.external_id).where(
                ChannelIdentity.channel == "wechat", ChannelIdentity.customer_id == customer_id
            )
        ).first()
    assert openid
    url = f"{assistant.rasa_url}/webhooks/wechat/webhook"

    greeting = await _answers(sim, url, sim.text(openid, "你好"), openid)
    assert len(greeting) == 1 and CJK.search(greeting[0]), greeting
    tracker = assistant.tracker(f"wechat:{openid}")
    assert tracker["slots"]["customer_id"] == customer_id

    polite = await _answers(sim, url, sim.image(openid), openid)
    assert len(polite) == 1 and "文字" in polite[0], polite

    welcome = await _answers(sim, url, sim.event(f"{openid}", "subscribe"), openid)
    assert len(welcome) == 1 and CJK.search(welcome[0]), welcome


async def test_a_forged_request_is_refused_by_the_real_server(assistant: Assistant, sim: WeChatSimulator) -> None:
    query, body = sim.signed(sim.text("o-someone", "hi"))
    attempt = await sim.post(f"{assistant.rasa_url}/webhooks/wechat/webhook", {**query, "signature": "0" * 40}, body)
    assert attempt.status == 403
