"""WeChatGateway: agent lines to WeChat customers through the simulator's customer-service API."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from bot.connectors.wechat_api import CustomerServiceClient
from bot.connectors.wechat_delivery import Delivery, ServiceWindow, WeChatDelivery
from bot.connectors.wechat_outbox import Outbox
from bot.connectors.wechat_stores import SQLStore
from common.db import make_engine
from common.settings import Settings
from desk.wechat_gateway import NotAWeChatConversation, WeChatGateway
from tests.wechat_sim.channel_app import config_for
from tests.wechat_sim.simulator import WeChatSimulator


@pytest.fixture
async def sim() -> AsyncIterator[WeChatSimulator]:
    simulator = await WeChatSimulator().start()
    yield simulator
    await simulator.close()


async def test_agent_lines_go_out_through_the_api_or_wait_in_the_outbox(sim: WeChatSimulator, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    store, outbox = SQLStore(engine), Outbox(engine)
    window = ServiceWindow(store)
    gateway = WeChatGateway(WeChatDelivery(CustomerServiceClient(config_for(sim), store), window, outbox))
    sim._last_inbound["o-1"] = sim.now()
    await window.opened("o-1")  # the customer wrote recently

    assert await gateway.send("wechat:o-1", "您好，我是客服小王", agent_id="A1") is Delivery.SENT
    assert await gateway.send("wechat:o-2", "您好，退款已处理", agent_id="A1") is Delivery.HELD  # silent 48 h+

    assert [(d.openid, d.text) for d in sim.deliveries] == [("o-1", "您好，我是客服小王")]
    assert [(m.openid, m.source, m.reason) for m in await outbox.held()] == [("o-2", "agent", "window_closed")]
    with pytest.raises(NotAWeChatConversation):
        await gateway.send("demo-vip-zh", "hi")


def test_no_gateway_while_wechat_is_not_configured() -> None:
    assert WeChatGateway.from_settings(Settings.from_env({})) is None
