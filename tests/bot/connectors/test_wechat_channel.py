"""WeChatInput served by Sanic, driven by the simulator, with a stand-in bot (EchoBot).

The bot here is a fake on purpose: these tests are about the channel's own logic (the 5-second
rule, retries, dedup, refusals); tests/integration/test_wechat.py goes through the real assistant.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from devtools.services import RedisServer
from devtools.wechat_sim.channel_app import EchoBot, RunningChannel, config_for, serve_channel
from devtools.wechat_sim.simulator import WeChatSimulator, message_xml
from tests.bot.connectors.conftest import halt, restart, resume
from wechat.outbox import Outbox
from wechat.stores import FallbackStore, KeyValueStore, RedisStore, SQLStore


@pytest.fixture
async def bot() -> EchoBot:
    return EchoBot(delay=lambda text: 6.0 if text.startswith("slow") else 0.01)


@pytest.fixture
async def channel(sim: WeChatSimulator, sql_store: SQLStore, outbox: Outbox, bot: EchoBot) -> AsyncIterator[RunningChannel]:
    running = await serve_channel(config_for(sim), sql_store, outbox, bot)
    yield running
    await running.close()


@pytest.fixture
async def plain_channel(
    plain_sim: WeChatSimulator, sql_store: SQLStore, outbox: Outbox, bot: EchoBot
) -> AsyncIterator[RunningChannel]:
    running = await serve_channel(config_for(plain_sim, max_body_bytes=2048), sql_store, outbox, bot)
    yield running
    await running.close()


async def test_a_fast_bot_answers_passively_in_every_mode(
    sim: WeChatSimulator, channel: RunningChannel, bot: EchoBot
) -> None:
    exchange = await sim.send(channel.url, sim.text("o-alice", "你好"))
    assert exchange.reply == "echo: 你好"
    assert len(exchange.attempts) == 1 and exchange.attempts[0].elapsed_s < 1
    assert bot.senders == ["wechat:o-alice"]
    assert sim.deliveries == []


async def test_a_slow_bot_gets_success_at_once_and_the_answer_through_the_api(
    sim: WeChatSimulator, channel: RunningChannel, bot: EchoBot
) -> None:
    exchange = await sim.send(channel.url, sim.text("o-bob", "slow question"))
    assert exchange.reply is None
    assert len(exchange.attempts) == 1 and 4.0 < exchange.attempts[0].elapsed_s < 5.0  # no WeChat retry
    await channel.drain()
    assert [(d.openid, d.text) for d in sim.deliveries] == [("o-bob", "echo: slow question")]
    assert bot.calls["slow question"] == 1


async def test_a_retry_while_the_turn_runs_is_attached_not_processed_again(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot
) -> None:
    fields = plain_sim.text("o-carol", "slow twice")
    query, body = plain_sim.signed(fields)
    plain_sim._last_inbound["o-carol"] = plain_sim.now()
    first = asyncio.ensure_future(plain_sim.post(plain_channel.url, query, body))
    await asyncio.wait_for(bot.started("slow twice").wait(), timeout=10)  # the first request's turn runs
    second = await plain_sim.post(plain_channel.url, query, body)  # the identical request, as WeChat retries
    assert (await first).body == "success" and second.body == "success"
    await plain_channel.drain()
    retry_after_deferral = await plain_sim.post(plain_channel.url, query, body)
    assert retry_after_deferral.body == "success" and retry_after_deferral.elapsed_s < 1
    assert bot.calls["slow twice"] == 1
    assert [d.text for d in plain_sim.deliveries] == ["echo: slow twice"]


@pytest.mark.parametrize("text", ["quick", "slow and cut"])
async def test_a_lost_connection_loses_nothing_the_retry_gets_the_answer_once(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot, text: str
) -> None:
    exchange = await plain_sim.send(plain_channel.url, plain_sim.text("o-kim", text), lose_first_after_s=0.005)
    assert [a.status for a in exchange.attempts] == [0, 200]
    await plain_channel.drain()
    answers = ([exchange.reply] if exchange.reply else []) + [d.text for d in plain_sim.deliveries]
    assert answers == [f"echo: {text}"]
    assert bot.calls[text] == 1


async def test_a_retry_after_a_passive_reply_gets_the_same_reply_without_a_second_turn(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot
) -> None:
    query, body = plain_sim.signed(plain_sim.text("o-dan", "hi"))
    first = await plain_sim.post(plain_channel.url, query, body)
    again = await plain_sim.post(plain_channel.url, query, body)
    assert plain_sim.read_reply(query, first.body) == plain_sim.read_reply(query, again.body) == "echo: hi"
    assert bot.calls["hi"] == 1


@pytest.mark.parametrize(("make", "told"), [(lambda s: s.event("o-eve", "subscribe"), "/greet"),
                                            (lambda s: s.event("o-eve", "CLICK", "ORDER_STATUS"), "/order_status")])
async def test_an_event_sent_again_with_the_same_sender_and_create_time_is_processed_once(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot, make, told: str
) -> None:
    fields = make(plain_sim)  # events carry no MsgId: FromUserName + CreateTime identify them
    query, body = plain_sim.signed(fields)
    first = await plain_sim.post(plain_channel.url, query, body)
    retry = await plain_sim.post(plain_channel.url, query, body)  # WeChat's retry: the identical request
    resigned_query, resigned_body = plain_sim.signed(fields)  # the same event under another nonce
    resigned = await plain_sim.post(plain_channel.url, resigned_query, resigned_body)
    assert plain_sim.read_reply(query, first.body) == f"echo: {told}"
    assert plain_sim.read_reply(query, retry.body) == plain_sim.read_reply(resigned_query, resigned.body) == f"echo: {told}"
    assert bot.calls == {told: 1}


async def test_retries_across_two_processes_sharing_redis_run_the_turn_once(
    plain_sim: WeChatSimulator, redis_url: str, database_url: str, bot: EchoBot
) -> None:
    from common.db import make_engine
    from wechat.stores import RedisStore

    outbox = Outbox(make_engine(database_url))
    prefix = f"x{time.monotonic_ns()}:"
    stores = [RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)]
    a, b = [await serve_channel(config_for(plain_sim), s, outbox, bot) for s in stores]
    try:
        query, body = plain_sim.signed(plain_sim.text("o-erin", "hello"))
        first = await plain_sim.post(a.url, query, body)
        second = await plain_sim.post(b.url, query, body)
        assert plain_sim.read_reply(query, first.body) == plain_sim.read_reply(query, second.body) == "echo: hello"
        assert bot.calls["hello"] == 1
    finally:
        for running, store in ((a, stores[0]), (b, stores[1])):
            await running.close()
            await store.close()


async def test_same_nonce_with_another_body_is_a_replay(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot
) -> None:
    query, body = plain_sim.signed(plain_sim.text("o-fay", "transfer"))
    assert (await plain_sim.post(plain_channel.url, query, body)).status == 200
    forged = message_xml(plain_sim.text("o-fay", "something else"))
    replay = await plain_sim.post(plain_channel.url, query, forged.encode())
    assert replay.status == 403 and "replayed nonce" in replay.body
    assert bot.calls["something else"] == 0


@pytest.mark.parametrize(
    ("case", "status"),
    [("bad signature", 403), ("stale", 403), ("malformed", 400), ("oversized", 413), ("empty", 400)],
)
async def test_bad_requests_get_a_clear_4xx_and_never_reach_the_bot(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot, case: str, status: int
) -> None:
    fields = plain_sim.text("o-gus", "x" * (5000 if case == "oversized" else 1))
    query, body = plain_sim.signed(fields, timestamp=int(plain_sim.now()) - 3600 if case == "stale" else None)
    if case == "bad signature":
        query["signature"] = "f" * 40
    elif case == "malformed":
        body = b"<xml><ToUserName>gh</ToUserName><MsgType>text"
    elif case == "empty":
        body = b""
    attempt = await plain_sim.post(plain_channel.url, query, body)
    assert attempt.status == status, attempt.body
    assert attempt.body  # says why
    assert not bot.calls


async def test_url_verification(plain_sim: WeChatSimulator, plain_channel: RunningChannel) -> None:
    import aiohttp

    query, _ = plain_sim.signed(plain_sim.text("o", "x"))
    async with aiohttp.ClientSession() as session:
        async with session.get(plain_channel.url, params={**query, "echostr": "echo-123"}) as r:
            assert (r.status, await r.text()) == (200, "echo-123")
        async with session.get(plain_channel.url, params={**query, "signature": "0" * 40, "echostr": "x"}) as r:
            assert r.status == 403


@pytest.mark.parametrize(
    ("make", "told"),
    [
        (lambda s: s.image("o-hal"), "/EXTERNAL_unsupported_message"),
        (lambda s: s.voice("o-hal"), "/EXTERNAL_unsupported_message"),
        (lambda s: s._fields("o-hal", "location", Location_X="31.2", MsgId=77), "/EXTERNAL_unsupported_message"),
        (lambda s: s._fields("o-hal", "hologram", MsgId=78), "/EXTERNAL_unsupported_message"),
        (lambda s: s.voice("o-hal", "我的订单到哪了"), "我的订单到哪了"),
        (lambda s: s.event("o-hal", "subscribe"), "/greet"),
        (lambda s: s.event("o-hal", "CLICK", "ORDER_STATUS"), "/order_status"),
        (lambda s: s.event("o-hal", "CLICK", "NOT_IN_MENU"), "/EXTERNAL_unsupported_message"),
    ],
)
async def test_what_the_bot_is_told_for_each_kind_of_message(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot, make, told: str
) -> None:
    exchange = await plain_sim.send(plain_channel.url, make(plain_sim))
    assert exchange.reply == f"echo: {told}"
    assert list(bot.calls) == [told]


@pytest.mark.parametrize("event", ["unsubscribe", "VIEW", "LOCATION", "SCAN"])
async def test_events_that_need_no_answer_get_success(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot, event: str
) -> None:
    exchange = await plain_sim.send(plain_channel.url, plain_sim.event("o-ida", event, "k"))
    assert exchange.attempts[0].status == 200 and exchange.reply is None
    assert not bot.calls


@pytest.mark.parametrize("event", ["unsubscribe", "VIEW", "LOCATION"])
async def test_events_wechat_does_not_count_leave_the_window_closed_and_send_nothing_held(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, outbox: Outbox, event: str
) -> None:
    await outbox.hold(openid="o-uma", text="您的退款已处理", source="agent", reason="window_closed")
    await plain_sim.send(plain_channel.url, plain_sim.event("o-uma", event, "k"))
    await plain_channel.drain()
    assert plain_sim.deliveries == []
    assert [m.text for m in await outbox.held("o-uma")] == ["您的退款已处理"]
    assert not await plain_channel.parts.window.take("o-uma")  # still closed


@pytest.mark.parametrize("make", [lambda s: s.event("o-val", "subscribe"), lambda s: s.event("o-val", "SCAN", "1"),
                                  lambda s: s.event("o-val", "CLICK", "ORDER_STATUS"), lambda s: s.image("o-val")])
async def test_what_wechat_counts_as_an_interaction_opens_the_window_and_sends_what_was_held(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, outbox: Outbox, make
) -> None:
    await outbox.hold(openid="o-val", text="您的退款已处理", source="agent", reason="window_closed")
    await plain_sim.send(plain_channel.url, make(plain_sim))
    await plain_channel.drain()
    assert [d.text for d in plain_sim.deliveries] == ["您的退款已处理"]
    assert await outbox.held("o-val") == []


async def test_buttons_become_numbered_lines_and_a_number_sends_the_payload(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel, bot: EchoBot
) -> None:
    shown = await plain_sim.send(plain_channel.url, plain_sim.text("o-jo", "buttons please"))
    assert shown.reply == "Pick one\n\n1. Yes\n2. No"
    picked = await plain_sim.send(plain_channel.url, plain_sim.text("o-jo", "２"))  # full-width digit
    assert picked.reply == "echo: /deny"
    other = await plain_sim.send(plain_channel.url, plain_sim.text("o-jo", "2"))  # buttons are gone now
    assert other.reply == "echo: 2"


async def test_the_unconfigured_channel_answers_503(sql_store: KeyValueStore, outbox: Outbox, bot: EchoBot) -> None:
    running = await serve_channel(None, sql_store, outbox, bot)
    try:
        sim = WeChatSimulator()
        attempt = await sim.post(running.url, *sim.signed(sim.text("o", "x")))
        assert attempt.status == 503
    finally:
        await running.close()


async def test_the_output_channel_speaks_through_the_api_outside_a_turn(
    plain_sim: WeChatSimulator, plain_channel: RunningChannel
) -> None:
    # what Rasa uses for trigger_intent(output_channel="latest"), e.g. the rating request after a handoff
    plain_sim._last_inbound["o-lee"] = plain_sim.now()
    await plain_channel.parts.window.opened("o-lee")
    output = plain_channel.channel.get_output_channel()
    assert output is not None and output.name() == "wechat"
    await output.send_response(
        "wechat:o-lee", {"text": "请为本次服务打分", "buttons": [{"title": "5 分", "payload": "/rate_service"}]}
    )
    assert [(d.openid, d.text) for d in plain_sim.deliveries] == [("o-lee", "请为本次服务打分\n\n1. 5 分")]
    picked = await plain_sim.send(plain_channel.url, plain_sim.text("o-lee", "1"))
    assert picked.reply == "echo: /rate_service"


class _HaltsAfterTheClaim(RedisStore):
    """A real RedisStore whose server is frozen right after the first claim of a message (the outage's moment)."""

    def __init__(self, server: RedisServer, **kwargs: object) -> None:
        super().__init__(server.url, **kwargs)  # type: ignore[arg-type]
        self.server = server
        self.halted = False

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        taken = await super().add(key, value, ttl_s)
        if key.startswith("seen:") and not self.halted:
            self.halted = True
            halt(self.server)
        return taken


class _Logged(logging.Handler):
    """``event`` is set when the WeChat channel logs a line containing ``fragment``."""

    def __init__(self, fragment: str) -> None:
        super().__init__(logging.INFO)
        self.fragment = fragment
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.fragment in record.getMessage():
            self.event.set()


def _logged(fragment: str) -> _Logged:
    handler = _Logged(fragment)
    logging.getLogger("bot.connectors.wechat").addHandler(handler)
    return handler


async def _answers(server: RedisServer) -> None:
    """Return once ``server`` answers a PING on a fresh connection."""
    probe = RedisStore(server.url, prefix="probe:", timeout_s=5.0)
    try:
        await probe.ping()
    finally:
        await probe.close()


@pytest.mark.parametrize("when", ["before the claim", "after the claim"])
async def test_a_store_outage_loses_no_message_the_retry_runs_the_turn_once(
    plain_sim: WeChatSimulator, redis_server: RedisServer, outbox: Outbox, bot: EchoBot,
    caplog: pytest.LogCaptureFixture, when: str,
) -> None:
    caplog.set_level(logging.INFO)
    unanswered = _logged("left unanswered for WeChat to retry")
    prefix = f"o{time.monotonic_ns()}:"
    store = (_HaltsAfterTheClaim(redis_server, prefix=prefix, timeout_s=0.3) if when == "after the claim"
             else RedisStore(redis_server.url, prefix=prefix, timeout_s=0.3))
    running = await serve_channel(config_for(plain_sim, reply_budget_s=2.0, unanswered_s=2.0), store, outbox, bot)
    secret = "314159265"  # digits: the channel reads the customer's buttons before the turn
    try:
        query, body = plain_sim.signed(plain_sim.text("o-nia", secret))
        if when == "before the claim":
            halt(redis_server)
        first = await plain_sim.post(running.url, query, body, timeout_s=1.0)
        assert first.status == 0  # no answer: WeChat retries
        assert bot.calls[secret] == 0
        await asyncio.wait_for(unanswered.event.wait(), timeout=10)  # the first request is done with the store
        resume(redis_server)
        await _answers(redis_server)  # and Redis has run what was queued while it was frozen
        retry = await plain_sim.post(running.url, query, body)  # the identical request, as WeChat retries
        assert plain_sim.read_reply(query, retry.body) == f"echo: {secret}"
        again = await plain_sim.post(running.url, query, body)
        assert plain_sim.read_reply(query, again.body) == f"echo: {secret}"
        assert bot.calls[secret] == 1
        assert "left unanswered for WeChat to retry" in caplog.text and secret not in caplog.text
    finally:
        logging.getLogger("bot.connectors.wechat").removeHandler(unanswered)
        resume(redis_server)
        await running.close()
        await store.close()


async def test_with_redis_down_the_channel_answers_from_this_process_and_returns_to_redis(
    plain_sim: WeChatSimulator, redis_server: RedisServer, outbox: Outbox, bot: EchoBot
) -> None:
    now = [0.0]
    store = FallbackStore(RedisStore(redis_server.url, prefix=f"f{time.monotonic_ns()}:"), retry_after_s=0.2,
                          clock=lambda: now[0])
    running = await serve_channel(config_for(plain_sim), store, outbox, bot)
    try:
        redis_server.stop()
        during = await plain_sim.send(running.url, plain_sim.text("o-oz", "while redis is down"))
        assert during.reply == "echo: while redis is down" and store.degraded
        restart(redis_server)
        now[0] += 0.3  # past the next probe of Redis
        after = await plain_sim.send(running.url, plain_sim.text("o-oz", "redis is back"))
        assert after.reply == "echo: redis is back" and not store.degraded
        assert bot.calls == {"while redis is down": 1, "redis is back": 1}
    finally:
        await running.close()
        await store.close()
