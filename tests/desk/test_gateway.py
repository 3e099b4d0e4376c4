"""ChannelGateway: agent lines to WeChat customers through the simulator's customer-service API."""

from __future__ import annotations

from typing import Any, AsyncIterator

import pytest

from bot.connectors.wechat_api import CustomerServiceClient
from bot.connectors.wechat_delivery import Delivery, ServiceWindow, WeChatDelivery
from bot.connectors.wechat_outbox import Outbox
from bot.connectors.wechat_stores import SQLStore
from common.db import make_engine
from desk.gateway import ChannelGateway, ChannelUnavailable
from tests.wechat_sim.channel_app import config_for
from tests.wechat_sim.simulator import WeChatSimulator


class RecordingTranscript:
    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        self.appended.append((conversation_id, events))


@pytest.fixture
async def sim() -> AsyncIterator[WeChatSimulator]:
    simulator = await WeChatSimulator().start()
    yield simulator
    await simulator.close()


async def test_agent_lines_go_out_through_the_api_or_wait_in_the_outbox(sim: WeChatSimulator, tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    store, outbox = SQLStore(engine), Outbox(engine)
    window = ServiceWindow(store)
    transcript = RecordingTranscript()
    gateway = ChannelGateway(
        transcript=transcript,
        wechat=WeChatDelivery(CustomerServiceClient(config_for(sim), store), window, outbox),
    )
    sim._last_inbound["o-1"] = sim.now()
    await window.opened("o-1")  # the customer wrote recently

    assert await gateway.send("wechat:o-1", "您好，我是客服小王", agent_id="A1") is Delivery.SENT
    assert await gateway.send("wechat:o-2", "您好，退款已处理", agent_id="A1") is Delivery.HELD  # silent 48 h+

    assert [(d.openid, d.text) for d in sim.deliveries] == [("o-1", "您好，我是客服小王")]
    assert [(m.openid, m.source, m.reason) for m in await outbox.held()] == [("o-2", "agent", "window_closed")]
    assert [events[0]["metadata"] for _, events in transcript.appended] == [
        {"agent_id": "A1", "delivery": "sent"},
        {"agent_id": "A1", "delivery": "held"},
    ]
    with pytest.raises(ChannelUnavailable):
        await gateway.send("demo-vip-zh", "hi", agent_id="A1")
