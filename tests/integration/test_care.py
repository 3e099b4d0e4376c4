"""Proactive care against the real servers (the session's Rasa server and action server, a console in a
thread, the WeChat simulator): a delay notice reaches the customer's connected widget and its transcript,
quiet hours hold it back (injected clock), "stop messaging me" from the widget's one-tap reply stops it,
and a WeChat customer outside the 48-hour window has it held in the outbox until they write again."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import websockets

from common.settings import Settings
from desk.care import INTENSITY, OPTED_OUT, ORDER_DELAY, QUIET_HOURS, SEND, CareRules, CareScheduler, CareStore
from desk.models import Conversation, ProactiveMessage
from desk.widget_tokens import sign_token
from devtools.wechat_sim.simulator import WeChatSimulator
from profiles.models import ChannelIdentity, Consent, Order
from tests.integration.conftest import WECHAT_ENV, Assistant
from tests.utils.browser import running_console
from wechat.delivery import delivery_from_settings
from wechat.outbox import OutboxMessage

RULES = CareRules()  # 22:00-08:00 Asia/Shanghai
TODAY = datetime.utcnow().date()
NOON_LOCAL = datetime.combine(TODAY, datetime.min.time()) + timedelta(hours=4)  # 12:00 in Shanghai
NIGHT_LOCAL = NOON_LOCAL + timedelta(hours=11)  # 23:00 in Shanghai
SECRET = Settings().widget_token_secret  # running_console's
# the elderly demo customer (zh): the widget tests open the VIP customer's (C000001) chat afresh, and the
# widget shows a customer's whole history
CUSTOMER = "C000002"


@pytest.fixture(scope="module")
def console_url(assistant: Assistant) -> Iterator[str]:
    with running_console(assistant, care_web_poll_s=1) as url:
        yield url


class Late:
    """One undelivered order of ``customer`` made late (ETA ``days`` ago), the customer's consent set; all
    restored afterwards, with the proactive messages and held WeChat lines this test made."""

    def __init__(self, assistant: Assistant, customer: str, *, intensity: str = "high") -> None:
        self.sessions = assistant.session_factory
        self.customer = customer
        with self.sessions.begin() as s:
            order = s.scalars(sa.select(Order).where(Order.customer_id == customer, Order.delivered_at.is_(None),
                                                     Order.status.in_(("paid", "processing", "shipped")))).first()
            assert order is not None, f"{customer} has no undelivered order in the seed"
            consent = s.get(Consent, customer)
            self.order_id, self.saved_order = order.id, (order.eta, order.status)
            self.saved_consent = (consent.personalization, consent.intensity, consent.marketing)
            order.status, order.eta = "shipped", TODAY - timedelta(days=3)
            consent.personalization, consent.intensity, consent.marketing = True, intensity, True

    def set_eta(self, eta: date) -> None:
        with self.sessions.begin() as s:
            s.get(Order, self.order_id).eta = eta

    def consent(self) -> tuple[bool, str, bool]:
        with self.sessions() as s:
            c = s.get(Consent, self.customer)
            return c.personalization, c.intensity, c.marketing

    def rows(self) -> list[ProactiveMessage]:
        with self.sessions() as s:
            return list(s.scalars(sa.select(ProactiveMessage).where(ProactiveMessage.customer_id == self.customer)))

    def restore(self) -> None:
        with self.sessions.begin() as s:
            order = s.get(Order, self.order_id)
            order.eta, order.status = self.saved_order
            consent = s.get(Consent, self.customer)
            consent.personalization, consent.intensity, consent.marketing = self.saved_consent
            s.execute(sa.delete(ProactiveMessage))


def mine(decisions: list[Any], customer: str) -> list[str]:
    return [d.why for d in decisions if d.candidate.customer_id == customer and d.candidate.kind == ORDER_DELAY]


async def frames_until(socket: Any, predicate: Any, timeout: float = 20.0) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = json.loads(await asyncio.wait_for(socket.recv(), max(0.1, deadline - time.monotonic())))
        except asyncio.TimeoutError:
            break
        seen.append(frame)
        if predicate(frame):
            return seen
    raise AssertionError(f"not received in {timeout}s; got {seen}")


async def test_a_delay_notice_reaches_the_connected_widget_after_quiet_hours_and_stops_on_opt_out(
    assistant: Assistant, console_url: str
) -> None:
    late = Late(assistant, CUSTOMER)
    store = CareStore(assistant.session_factory)
    try:
        token = sign_token(CUSTOMER, int(time.time()) + 600, SECRET)
        async with websockets.connect(console_url.replace("http", "ws") + "/widget/ws") as socket:
            await socket.send(json.dumps({"type": "hello", "token": token, "guest": None}))
            await frames_until(socket, lambda f: f["type"] == "history")

            night = await CareScheduler(store, RULES, clock=lambda: NIGHT_LOCAL).run_once()
            assert mine(night, CUSTOMER) == [QUIET_HOURS] and late.rows() == []

            day = await CareScheduler(store, RULES, clock=lambda: NOON_LOCAL).run_once()
            assert mine(day, CUSTOMER) == [SEND]
            frames = await frames_until(socket, lambda f: f.get("proactive") == ORDER_DELAY)
            notice = frames[-1]
            assert notice["from"] == "bot"
            assert (TODAY + timedelta(days=2)).isoformat() in notice["text"] and "抱歉" in notice["text"]
            [row] = late.rows()
            assert row.status == "sent" and row.channel == "web" and row.conversation_id == f"web-{CUSTOMER}"

            tracker = assistant.tracker(f"web-{CUSTOMER}")
            said = [e for e in tracker["events"] if e.get("event") == "bot" and e.get("text") == notice["text"]]
            assert said, tracker["events"][-3:]
            assert said[-1]["metadata"]["proactive"] == ORDER_DELAY  # in the transcript the review reads

            # the widget's one-tap "stop messaging me" (the stop_messages intent) is an opt-out
            await socket.send(json.dumps({"type": "message", "id": "care-stop-0001", "text": "/stop_messages",
                                          "shown": "不要再给我发消息"}))
            await frames_until(socket, lambda f: f["type"] == "typing" and f["on"] is False, timeout=60)
            assert late.consent()[2] is False
        late.set_eta(TODAY - timedelta(days=1))  # a new ETA passes: would be a new notice
        after = await CareScheduler(store, RULES, clock=lambda: NOON_LOCAL + timedelta(days=2)).run_once()
        assert mine(after, CUSTOMER) == [OPTED_OUT]
        assert len(late.rows()) == 1
    finally:
        late.restore()


async def test_medium_intensity_gets_no_proactive_care(assistant: Assistant) -> None:
    late = Late(assistant, CUSTOMER, intensity="medium")
    try:
        decisions = await CareScheduler(CareStore(assistant.session_factory), RULES, clock=lambda: NOON_LOCAL).run_once()
        assert mine(decisions, CUSTOMER) == [INTENSITY] and late.rows() == []
    finally:
        late.restore()


@pytest.fixture
async def sim(assistant: Assistant) -> AsyncIterator[WeChatSimulator]:
    simulator = WeChatSimulator(
        token=WECHAT_ENV["WECHAT_TOKEN"], aes_key=WECHAT_ENV["WECHAT_AES_KEY"], app_id=WECHAT_ENV["WECHAT_APP_ID"],
        app_secret=WECHAT_ENV["WECHAT_APP_SECRET"], mode="safe", port=assistant.wechat_api_port,
    )
    await simulator.start()
    yield simulator
    await simulator.close()


async def test_a_wechat_customer_outside_the_window_gets_it_held_until_they_write(
    assistant: Assistant, sim: WeChatSimulator
) -> None:
    customer = "C000005"
    with assistant.session_factory.begin() as s:
        openid = s.scalar(sa.select(ChannelIdentity.external_id).where(
            ChannelIdentity.customer_id == customer, ChannelIdentity.channel == "wechat"))
        s.merge(Conversation(id=f"wechat:{openid}", channel="wechat", customer_id=customer, language="zh",
                             updated_at=datetime.utcnow()))
    late = Late(assistant, customer)
    settings = Settings(database_url=f"sqlite:///{assistant.work_dir / 'app.db'}",
                        wechat_token=WECHAT_ENV["WECHAT_TOKEN"], wechat_aes_key=WECHAT_ENV["WECHAT_AES_KEY"],
                        wechat_app_id=WECHAT_ENV["WECHAT_APP_ID"], wechat_app_secret=WECHAT_ENV["WECHAT_APP_SECRET"],
                        wechat_mode="safe", wechat_api_base=f"http://127.0.0.1:{assistant.wechat_api_port}")
    try:
        scheduler = CareScheduler(CareStore(assistant.session_factory), RULES,
                                  wechat=delivery_from_settings(settings), clock=lambda: NOON_LOCAL)
        assert mine(await scheduler.run_once(), customer) == [SEND]
        [row] = late.rows()
        assert (row.channel, row.status) == ("wechat", "held")
        with assistant.session_factory() as s:
            [held] = s.scalars(sa.select(OutboxMessage).where(OutboxMessage.openid == openid,
                                                              OutboxMessage.status == "held")).all()
        assert held.reason == "window_closed" and held.text == row.text
        assert [d for d in sim.deliveries if d.openid == openid] == []  # nothing tried outside the window

        # the customer writes: the window opens and the held notice goes out through the service API
        await sim.send(f"{assistant.rasa_url}/webhooks/wechat/webhook", sim.text(openid, "你好"))
        for _ in range(60):
            if any(d.text == row.text for d in sim.deliveries if d.openid == openid):
                break
            await asyncio.sleep(0.5)
        assert any(d.text == row.text for d in sim.deliveries if d.openid == openid), sim.deliveries
    finally:
        late.restore()
        with assistant.session_factory.begin() as s:
            s.execute(sa.delete(OutboxMessage).where(OutboxMessage.openid == openid))
