"""WeChatGateway: agent lines to WeChat customers through the simulator's customer-service API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from common.db import make_engine
from common.settings import Settings
from desk.gateway import NotAWeChatConversation, OutboundMessage, WeChatGateway
from desk.schema import create_all
from devtools.wechat_sim.channel_app import config_for
from devtools.wechat_sim.simulator import WeChatSimulator
from wechat.api import CustomerServiceClient
from wechat.delivery import Delivery, ServiceWindow, WeChatDelivery
from wechat.outbox import Outbox
from wechat.stores import SQLStore


@pytest.fixture
async def sim() -> AsyncIterator[WeChatSimulator]:
    simulator = await WeChatSimulator().start()
    yield simulator
    await simulator.close()


async def test_agent_lines_go_out_through_the_api_or_wait_in_the_outbox(sim: WeChatSimulator, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_all(engine)
    store, outbox = SQLStore(engine), Outbox(engine)
    window = ServiceWindow(store)
    gateway = WeChatGateway(WeChatDelivery(CustomerServiceClient(config_for(sim), store), window, outbox))
    sim._last_inbound["o-1"] = sim.now()
    await window.opened("o-1")  # the customer wrote recently

    assert await gateway.deliver("wechat:o-1", "您好，我是客服小王", agent_id="A1") is Delivery.SENT
    assert await gateway.deliver("wechat:o-2", "您好，退款已处理", agent_id="A1") is Delivery.HELD  # silent 48 h+

    assert [(d.openid, d.text) for d in sim.deliveries] == [("o-1", "您好，我是客服小王")]
    assert [(m.openid, m.source, m.reason) for m in await outbox.held()] == [("o-2", "agent", "window_closed")]
    with pytest.raises(NotAWeChatConversation):
        await gateway.deliver("demo-vip-zh", "hi")
    # the console's router speaks to it as to every channel gateway: True = sent now, False = held
    assert await gateway.send("wechat:o-1", OutboundMessage(text="还有什么可以帮您？", agent_id="A1")) is True
    assert await gateway.send("wechat:o-2", OutboundMessage(text="退款已处理", agent_id="A1")) is False


def test_no_gateway_while_wechat_is_not_configured() -> None:
    assert WeChatGateway.from_settings(Settings.from_env({})) is None
