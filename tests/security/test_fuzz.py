"""Fuzzing the public surfaces with hypothesis (7,000 inputs here, 3,500 in the console's; derandomised for CI):

* the Rasa REST channel (``bot.connectors.rest.GuardedRestInput``) served by Sanic on loopback with a
  recording bot: no 5xx, and every accepted (200) message reached the bot, every refused one did not;
* the console / web-chat HTTP API: ``tests/desk/console/test_fuzz.py``;
* the WeChat channel with random and malformed XML (signed, plain mode) and random text messages:
  no 5xx, and every accepted text message reached the bot;
* the REST channel with the Rasa API token set (issue 11): alias senders (``rest:web-C000001``,
  ``web:web-C000003`` ...), ``input_channel`` tricks and large metadata from a caller without the token:
  a reserved id is refused (403), anything accepted reaches the bot as a ``rest`` guest with no metadata;
* the masking table: phones, ID numbers, cards and e-mails written with full-width digits and every
  kind of separator, inside random text, are never shown whole; masking never fails and is idempotent.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage

from bot.connectors.rest import GuardedRestInput
from common.db import make_engine
from common.ids import ConversationId
from common.masking import find_pii, fold, mask_text
from common.ratelimit import InProcessRateLimiter
from common.settings import Settings
from desk.schema import create_all
from devtools.wechat_sim.channel_app import EchoBot, _SeveralPerProcess, config_for, serve_channel
from devtools.wechat_sim.simulator import WeChatSimulator, free_port, sign
from wechat.outbox import Outbox
from wechat.stores import SQLStore

T = TypeVar("T")
FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)


class BackgroundLoop:
    """An event loop in a thread, so that synchronous hypothesis tests can drive async servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


class Http:
    """One keep-alive connection (reopened after the server closes it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                self._connection.request("POST", path, body=body, headers=headers or {})
                response = self._connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self._connection.close()
                self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def background() -> Iterator[BackgroundLoop]:
    loop = BackgroundLoop()
    yield loop
    loop.stop()


# ---------------------------------------------------------------------------------- Rasa REST
class RecordingBot:
    def __init__(self) -> None:
        self.received: Counter[tuple[str, str]] = Counter()

    async def __call__(self, message: UserMessage) -> None:
        self.received[(str(message.sender_id), message.text or "")] += 1
        await message.output_channel.send_text_message(str(message.sender_id), "ok")


@pytest.fixture(scope="module")
def rest(background: BackgroundLoop) -> Iterator[tuple[Http, RecordingBot, GuardedRestInput]]:
    bot = RecordingBot()
    channel = GuardedRestInput(Settings(max_body_bytes=4096),
                               limiter=InProcessRateLimiter(per_minute=60, burst=50, clock=time.monotonic))
    app = _SeveralPerProcess("fuzz_rest")
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/rest")
    port = free_port()

    async def start() -> Any:
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await server.startup()
        return server

    server = background.run(start())
    yield Http(port), bot, channel
    server.close()


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
senders = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20) | json_values
messages = st.text(max_size=60) | st.sampled_from(["我的订单E20261120001到哪了", "电话13812341234", "x" * 5000]) | json_values
bodies = st.one_of(
    st.fixed_dictionaries({"sender": senders, "message": messages},
                          optional={"metadata": json_values, "input_channel": json_values}),
    json_values,
)


@settings(max_examples=3500, **FUZZ)
@given(body=bodies, raw=st.none() | st.binary(max_size=200))
def test_rest_channel_never_fails_and_never_loses_a_message(rest: Any, body: Any, raw: bytes | None) -> None:
    http_, bot, _ = rest
    payload = raw if raw is not None else json.dumps(body).encode()
    before = sum(bot.received.values())
    status, reply = http_.post("/webhooks/rest/webhook", payload, {"Content-Type": "application/json"})
    assert status < 500, (status, reply[:200])
    after = sum(bot.received.values())
    if status == 200:
        sender = body["sender"] if body["sender"] is not None else "default"  # Rasa's default sender id
        # the channel drops NUL characters; Rasa strips surrounding whitespace
        assert after == before + 1 and bot.received[(sender, body["message"].replace("\x00", "").strip())] >= 1
    else:
        assert status in (400, 413, 429) and after == before


def test_rest_channel_limits_each_sender(rest: Any) -> None:
    http_, _, _ = rest
    codes = [http_.post("/webhooks/rest/webhook", json.dumps({"sender": "flood-1", "message": "hi"}).encode(),
                        {"Content-Type": "application/json"})[0] for _ in range(55)]
    assert codes[:50] == [200] * 50 and codes[-3:] == [429] * 3
    assert http_.post("/webhooks/rest/webhook", json.dumps({"sender": "calm-1", "message": "hi"}).encode(),
                      {"Content-Type": "application/json"})[0] == 200
    big = json.dumps({"sender": "big-1", "message": "x" * 3000, "metadata": {"pad": "y" * 2000}}).encode()
    assert http_.post("/webhooks/rest/webhook", big, {"Content-Type": "application/json"})[0] == 413


# ------------------------------------------------------------------------------------- WeChat
@pytest.fixture(scope="module")
def wechat(background: BackgroundLoop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    database = f"sqlite:///{Path(tmp_path_factory.mktemp('wechat')) / 'app.db'}"
    create_all(make_engine(database))
    sim = background.run(WeChatSimulator().start())
    bot = EchoBot()
    running = background.run(serve_channel(config_for(sim, max_body_bytes=4096), SQLStore(make_engine(database)),
                                           Outbox(make_engine(database)), bot))
    port = int(running.url.split(":")[2].split("/")[0])
    yield sim, bot, Http(port), running
    background.run(running.close())
    background.run(sim.close())


xml_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
malformed = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.builds(lambda tag, value: f"<xml><{tag}>{value}</{tag}></xml>".encode(),
              st.sampled_from(["MsgType", "Content", "FromUserName", "MsgId", "Event", "Encrypt", "x"]), xml_text),
    st.builds(lambda t, c, m: f"<xml><ToUserName>gh</ToUserName><FromUserName>o-f</FromUserName><CreateTime>1"
              f"</CreateTime><MsgType>{t}</MsgType><Content>{c}</Content><MsgId>{m}</MsgId></xml>".encode(),
              st.sampled_from(["text", "image", "voice", "event", "", "<x/>"]), xml_text, st.text(max_size=12)),
    st.just(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><xml>&b;</xml>'),
    st.just(b"<xml>" * 2000),
)


_nonces = itertools.count(10**9)  # hypothesis seeds `random`: the simulator's nonces would repeat (replay)


def _query(sim: WeChatSimulator, openid: str = "o-fuzz") -> str:
    ts, nonce = str(int(sim.now())), str(next(_nonces))
    return f"?signature={sign(sim.token, ts, nonce)}&timestamp={ts}&nonce={nonce}&openid={openid}"


@settings(max_examples=2000, **FUZZ)
@given(body=malformed)
def test_wechat_channel_survives_malformed_xml(wechat: Any, body: bytes) -> None:
    sim, _, http_, _ = wechat
    status, reply = http_.post("/webhooks/wechat/webhook" + _query(sim), body, {"Content-Type": "text/xml"})
    assert status < 500, (status, reply[:200])


@settings(max_examples=1500, **FUZZ)
@given(text=st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=40).filter(str.strip), openid=st.from_regex(r"o-[A-Za-z0-9_-]{4,20}", fullmatch=True))
def test_wechat_text_messages_all_reach_the_bot(wechat: Any, text: str, openid: str) -> None:
    # text WeChat can send: characters XML 1.0 allows (no control characters, surrogates or non-characters)
    sim, bot, http_, _ = wechat
    fields = sim.text(openid, text)
    query, body = sim.signed(fields, nonce=str(next(_nonces)))
    before = sum(bot.calls.values())
    status, reply = http_.post("/webhooks/wechat/webhook?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()),
                               body, {"Content-Type": "text/xml"})
    assert status == 200, (status, reply[:200])
    assert sum(bot.calls.values()) == before + 1, (text, reply[:200])


# -------------------------------------------------------------- REST with the API token (issue 11)
TOKEN = "fuzz-rasa-token"


class ChannelRecorder:
    def __init__(self) -> None:
        self.received: list[tuple[str, str, Any]] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append((str(message.sender_id), str(message.input_channel), message.metadata))
        await message.output_channel.send_text_message(str(message.sender_id), "ok")


@pytest.fixture(scope="module")
def guarded(background: BackgroundLoop) -> Iterator[tuple[Http, ChannelRecorder]]:
    bot = ChannelRecorder()
    channel = GuardedRestInput(Settings(rasa_token=TOKEN, max_body_bytes=256 * 1024), limiter=None)
    app = _SeveralPerProcess("fuzz_rest_token")
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/rest")
    port = free_port()

    async def start() -> Any:
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await server.startup()
        return server

    server = background.run(start())
    yield Http(port), bot
    server.close()


alias_prefixes = st.sampled_from(["", "rest:", "web:", "wechat:", "REST:", "Web:", " ", "socketio:", "rest:rest:",
                                  "wg-", "web-", "\t", "rest: "])
verified_ids = st.one_of(
    st.integers(1, 999_999).map(lambda n: f"web-C{n:06d}"),
    st.from_regex(r"wg-[0-9a-f]{32}", fullmatch=True),
    st.from_regex(r"wechat:o[A-Za-z0-9_-]{5,27}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{4,20}", fullmatch=True),
)
alias_senders = st.builds(lambda prefix, rest: (prefix + rest)[:128], alias_prefixes, verified_ids)
channel_claims = st.none() | st.sampled_from(["web", "wechat", "socketio", "rest", "WEB", "", "console"]) | json_values
big_metadata = st.one_of(
    json_values,
    st.fixed_dictionaries({"channel": st.sampled_from(["web", "wechat"]), "customer_id": st.just("C000001"),
                           "signed_in": st.just(True)}),
    st.integers(1_000, 60_000).map(lambda n: {"blob": "a@" * (n // 2), "phone": "13812341234"}),
    st.integers(1_000, 60_000).map(lambda n: {"nested": [{"x": "1" * n}]}),
)


@settings(max_examples=1500, **FUZZ)
@given(sender=alias_senders, claim=channel_claims, metadata=big_metadata)
def test_a_caller_without_the_token_is_only_ever_a_rest_guest(guarded: Any, sender: str, claim: Any, metadata: Any):
    http_, bot = guarded
    body = {"sender": sender, "message": "我的订单到哪了", "input_channel": claim, "metadata": metadata}
    before = len(bot.received)
    status, reply = http_.post("/webhooks/rest/webhook", json.dumps(body).encode(), {"Content-Type": "application/json"})
    assert status < 500, (status, reply[:200])
    if ConversationId.reserved(sender):
        assert status in (400, 403) and len(bot.received) == before
    if status == 200:
        received_sender, input_channel, received_metadata = bot.received[-1]
        identity = ConversationId.parse(received_sender)
        assert identity.channel == "rest" and not identity.verified and identity.customer_id is None
        assert input_channel == "rest" and not received_metadata


# ---------------------------------------------------------------------------- masking table
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
separators = st.sampled_from(["", " ", "-", ".", "\u2013", "\u2014", "\u3000", "\uff0d", "\u00b7", "\uff0e"])
plain_text = st.text(st.sampled_from(list("我的电话是请联系谢谢，。！abcXYZ ()【】:")), max_size=12)


def _digits_shown(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isdigit())


@settings(max_examples=1500, **FUZZ)
@given(prefix=plain_text, suffix=plain_text, second=st.sampled_from("3456789"), body=st.from_regex(r"[0-9]{9}", fullmatch=True),
       sep1=separators, sep2=separators, wide=st.booleans(), grouping=st.sampled_from(["3-4-4", "4-3-4"]))
def test_a_mobile_number_in_any_everyday_form_is_masked(prefix, suffix, second, body, sep1, sep2, wide, grouping):
    number = "1" + second + body
    a, b = (3, 7) if grouping == "3-4-4" else (4, 7)
    written = number[:a] + sep1 + number[a:b] + sep2 + number[b:]
    if wide:
        written = written.translate(FULL_WIDTH)
    masked = mask_text(prefix + written + suffix)
    assert number not in _digits_shown(masked), masked
    assert number[:3] + "****" + number[-4:] in masked


@settings(max_examples=800, **FUZZ)
@given(prefix=plain_text, suffix=plain_text, sep=st.sampled_from(["", " ", "-"]), wide=st.booleans(),
       local=st.from_regex(r"[a-z][a-z0-9._]{1,15}", fullmatch=True), at=st.sampled_from(["@", "＠"]))
def test_id_numbers_and_emails_in_everyday_forms_are_masked(prefix, suffix, sep, wide, local, at):
    id_number = "11010119900307" + "123X"
    written = id_number[:6] + sep + id_number[6:14] + sep + id_number[14:]
    email = f"{local}{at}example.com"
    if wide:
        written = written.translate(FULL_WIDTH)
    masked = mask_text(f"{prefix}{written}，{email}{suffix}")
    assert "19900307" not in _digits_shown(masked) and local[1:] + "@" not in fold(masked)


@settings(max_examples=1000, **FUZZ)
@given(text=st.text(max_size=300))
def test_masking_any_text_never_fails_and_is_idempotent(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once
    assert isinstance(find_pii(text), list)
