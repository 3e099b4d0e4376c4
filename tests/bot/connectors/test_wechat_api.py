"""wechat_api, wechat_stores, wechat_delivery against the simulator (no Rasa)."""

from __future__ import annotations

import asyncio

import pytest

from devtools.wechat_sim.channel_app import config_for
from devtools.wechat_sim.simulator import WeChatSimulator, message_xml, sign
from wechat.api import (
    BadRequest,
    CustomerServiceClient,
    Forbidden,
    TooLarge,
    WeChatApiError,
    WeChatCodec,
)
from wechat.delivery import Delivery, ServiceWindow, WeChatDelivery
from wechat.outbox import Outbox
from wechat.stores import KeyValueStore, SQLStore

# ------------------------------------------------------------------------------ codec


def test_codec_opens_what_the_simulator_signs_and_the_simulator_reads_the_reply(sim: WeChatSimulator) -> None:
    codec = WeChatCodec(config_for(sim))
    query, body = sim.signed(sim.text("o-alice", "你好 <b>&", msg_id=42))
    opened = codec.open(query, body)
    assert (opened.inbound.openid, opened.inbound.content, opened.inbound.msg_id) == ("o-alice", "你好 <b>&", "42")
    assert opened.encrypted is (sim.mode != "plain")
    reply = codec.reply(opened, "您好！]]> 1. 是")
    assert sim.read_reply(query, reply) == "您好！]]> 1. 是"
    if sim.mode != "plain":
        assert "您好" not in reply  # the reply travels encrypted


def test_url_verification_echoes_only_when_signed(plain_sim: WeChatSimulator) -> None:
    codec = WeChatCodec(config_for(plain_sim))
    query, _ = plain_sim.signed(plain_sim.text("o", "x"))
    assert codec.verify_url({**query, "echostr": "12345"}) == "12345"
    with pytest.raises(Forbidden):
        codec.verify_url({**query, "signature": "0" * 40, "echostr": "12345"})


def _bad(sim: WeChatSimulator, **change: str) -> tuple[dict[str, str], bytes]:
    query, body = sim.signed(sim.text("o", "x"))
    return {**query, **change}, body


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("bad signature", Forbidden),
        ("no signature", Forbidden),
        ("stale timestamp", Forbidden),
        ("future timestamp", Forbidden),
        ("malformed xml", BadRequest),
        ("not xml at all", BadRequest),
        ("no sender", BadRequest),
        ("doctype", BadRequest),
        ("oversized", TooLarge),
    ],
)
def test_bad_requests_are_refused_with_a_clear_error(plain_sim: WeChatSimulator, case: str, error: type) -> None:
    codec = WeChatCodec(config_for(plain_sim, max_body_bytes=4096))
    query, body = plain_sim.signed(plain_sim.text("o", "x"))
    if case == "bad signature":
        query["signature"] = sign("wrong-token", query["timestamp"], query["nonce"])
    elif case == "no signature":
        del query["signature"]
    elif case in ("stale timestamp", "future timestamp"):
        ts = int(plain_sim.now()) + (-301 if case == "stale timestamp" else 301)
        query, body = plain_sim.signed(plain_sim.text("o", "x"), timestamp=ts)
    elif case == "malformed xml":
        body = b"<xml><MsgType>text</MsgType><Content>unclosed"
    elif case == "not xml at all":
        body = b"\x00\xff garbage"
    elif case == "no sender":
        body = message_xml({"ToUserName": "gh", "MsgType": "text", "Content": "x", "CreateTime": 1}).encode()
    elif case == "doctype":
        body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><MsgType>&a;</MsgType></xml>'
    elif case == "oversized":
        body = message_xml({**plain_sim.text("o", "x" * 5000)}).encode()
    with pytest.raises(error):
        codec.open(query, body)


async def test_safe_mode_refuses_plaintext_and_a_tampered_ciphertext() -> None:
    sim = WeChatSimulator(mode="safe", aes_key=WeChatSimulator.aes_key_for_tests())
    codec = WeChatCodec(config_for(sim))
    plain = WeChatSimulator(token=sim.token)
    with pytest.raises(Forbidden):
        codec.open(*plain.signed(plain.text("o", "x")))
    query, body = sim.signed(sim.text("o", "x"))
    with pytest.raises(Forbidden):
        codec.open({**query, "msg_signature": "0" * 40}, body)
    other = WeChatSimulator(mode="safe", aes_key=sim.aes_key, app_id="wx-another-account", token=sim.token)
    with pytest.raises(Forbidden):
        codec.open(*other.signed(other.text("o", "x")))


def test_events_have_a_sender_and_time_key_and_voice_keeps_its_recognition(plain_sim: WeChatSimulator) -> None:
    codec = WeChatCodec(config_for(plain_sim))
    event = codec.open(*plain_sim.signed(plain_sim.event("o-bob", "CLICK", "ORDER_STATUS"))).inbound
    assert (event.event, event.event_key, event.msg_id) == ("click", "ORDER_STATUS", None)
    assert event.dedup_key == f"evt:o-bob:{event.create_time}:click"
    voice = codec.open(*plain_sim.signed(plain_sim.voice("o-bob", "我的订单到哪了"))).inbound
    assert (voice.msg_type, voice.content) == ("voice", "我的订单到哪了")


# ------------------------------------------------------------------------------ stores


async def test_store_contract(store: KeyValueStore) -> None:
    assert await store.get("k") is None
    assert await store.add("k", "first", 5) is True
    assert await store.add("k", "second", 5) is False
    assert await store.get("k") == "first"
    await store.set("k", "third", 5)
    assert await store.get("k") == "third"
    assert [await store.incr("n", 5) for _ in range(3)] == [1, 2, 3]
    await store.delete("k")
    assert await store.get("k") is None
    await store.set("short", "v", 0.05)
    await asyncio.sleep(0.15)
    assert await store.get("short") is None
    assert await store.add("short", "again", 5) is True


async def test_claims_are_atomic_under_concurrency(store: KeyValueStore) -> None:
    results = await asyncio.gather(*(store.add("msg:1", "x", 10) for _ in range(20)))
    assert results.count(True) == 1


# ------------------------------------------------------------------------------ access token


async def test_one_token_fetch_for_many_concurrent_sends_across_clients(
    plain_sim: WeChatSimulator, store: KeyValueStore
) -> None:
    config = config_for(plain_sim)
    first, second = CustomerServiceClient(config, store), CustomerServiceClient(config, store)  # two "processes"
    plain_sim._last_inbound["o"] = plain_sim.now()
    plain_sim.window_messages = 100
    await asyncio.gather(*(c.send_text("o", f"m{i}") for i in range(10) for c in (first, second)))
    assert plain_sim.token_fetches == 1
    assert len(plain_sim.deliveries) == 20


async def test_a_revoked_token_is_refreshed_once_and_the_message_still_sent(
    plain_sim: WeChatSimulator, sql_store: SQLStore
) -> None:
    client = CustomerServiceClient(config_for(plain_sim), sql_store)
    plain_sim._last_inbound["o"] = plain_sim.now()
    await client.send_text("o", "one")
    plain_sim.expire_tokens()
    await client.send_text("o", "two")
    assert plain_sim.token_fetches == 2
    assert [d.text for d in plain_sim.deliveries] == ["one", "two"]


async def test_the_token_is_refreshed_before_it_expires(plain_sim: WeChatSimulator, sql_store: SQLStore) -> None:
    plain_sim.token_ttl_s = 200  # shorter than the 300 s refresh margin: every use refreshes
    client = CustomerServiceClient(config_for(plain_sim), sql_store)
    await client.token.get()
    await client.token.get()
    assert plain_sim.token_fetches == 2


async def test_wrong_secret_is_an_api_error(plain_sim: WeChatSimulator, sql_store: SQLStore) -> None:
    client = CustomerServiceClient(config_for(plain_sim, app_secret="nope"), sql_store)
    with pytest.raises(WeChatApiError) as caught:
        await client.send_text("o", "x")
    assert caught.value.code == 40125


# ------------------------------------------------------------------------------ delivery, window, outbox


def _delivery(sim: WeChatSimulator, store: KeyValueStore, outbox: Outbox) -> tuple[WeChatDelivery, ServiceWindow]:
    window = ServiceWindow(store, hours=48, messages=sim.window_messages)
    return WeChatDelivery(CustomerServiceClient(config_for(sim), store), window, outbox), window


async def test_a_closed_window_keeps_the_message_for_the_agent(
    plain_sim: WeChatSimulator, sql_store: SQLStore, outbox: Outbox
) -> None:
    delivery, _ = _delivery(plain_sim, sql_store, outbox)
    assert await delivery.deliver("o-never-wrote", "您的退款已到账", source="agent") is Delivery.HELD
    [held] = await outbox.held()
    assert (held.openid, held.text, held.source, held.reason) == ("o-never-wrote", "您的退款已到账", "agent", "window_closed")
    assert plain_sim.deliveries == []


@pytest.mark.parametrize("code", [45015, 45047, -1])
async def test_a_refused_send_is_kept_not_dropped_and_goes_out_when_the_customer_writes_again(
    plain_sim: WeChatSimulator, sql_store: SQLStore, outbox: Outbox, code: int
) -> None:
    delivery, window = _delivery(plain_sim, sql_store, outbox)
    plain_sim._last_inbound["o"] = plain_sim.now()
    await window.opened("o")
    if code == -1:
        config = config_for(plain_sim, api_base="http://127.0.0.1:9")  # nothing listens there
        delivery = WeChatDelivery(CustomerServiceClient(config, sql_store), window, outbox)
    else:
        plain_sim.fail_next(code)
    assert await delivery.deliver("o", "answer") is Delivery.HELD
    assert [m.reason for m in await outbox.held("o")] == [f"errcode_{code}"]
    delivery, window = _delivery(plain_sim, sql_store, outbox)
    await window.opened("o")  # the customer writes again
    assert await delivery.flush("o") == 1
    assert await outbox.held("o") == []
    assert [d.text for d in plain_sim.deliveries] == ["answer"]


async def test_two_flushes_at_once_send_each_held_message_once(
    plain_sim: WeChatSimulator, store: KeyValueStore, outbox: Outbox
) -> None:
    # every inbound message starts a flush: two quick messages from one customer start two
    first, window = _delivery(plain_sim, store, outbox)
    second, _ = _delivery(plain_sim, store, outbox)  # another process, the same store and outbox
    for text in ("held 1", "held 2"):
        await outbox.hold(openid="o-two", text=text, source="agent", reason="window_closed")
    plain_sim._last_inbound["o-two"] = plain_sim.now()
    await window.opened("o-two")
    sent = await asyncio.gather(first.flush("o-two"), second.flush("o-two"))
    assert sorted(sent) == [0, 2]
    assert [d.text for d in plain_sim.deliveries] == ["held 1", "held 2"]
    assert await outbox.held("o-two") == []
    assert await first.flush("o-two") == 0  # the lock is released; nothing is left to send


async def test_the_allowance_per_customer_message_is_not_exceeded(
    plain_sim: WeChatSimulator, sql_store: SQLStore, outbox: Outbox
) -> None:
    delivery, window = _delivery(plain_sim, sql_store, outbox)
    plain_sim._last_inbound["o"] = plain_sim.now()
    await window.opened("o")
    results = [await delivery.deliver("o", f"m{i}") for i in range(7)]
    assert results == [Delivery.SENT] * 5 + [Delivery.HELD] * 2
    assert plain_sim.refused == []  # the window is tracked locally: no call WeChat would refuse
    assert [(m.text, m.reason) for m in await outbox.held("o")] == [("m5", "window_used_up"), ("m6", "window_used_up")]
