"""Issue 11 item 1: nobody speaks as someone else through the public REST channel.

The REST channel runs on a real Sanic server on loopback (a recording bot stands in for Rasa's agent);
the session start runs against the seeded profile store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from actions import names
from actions.context import channel_of, identity_of
from actions.session import ActionSessionStart
from bot.connectors.rest import GuardedRestInput
from common.ids import ConversationId
from common.settings import Settings
from devtools.wechat_sim.channel_app import _SeveralPerProcess
from devtools.wechat_sim.simulator import free_port
from tests.utils.builders import slot_events

TOKEN = "identity-test-token"
ALIASES = [
    "rest:web-C000001",
    "web:web-C000003",
    "wechat:web-C000001",
    "REST:web-C000001",
    " web-C000001",
    "Web:C000001",
    "socketio:web-C000002",
    "wg-0123456789abcdef0123456789abcdef",
]


class RecordingBot:
    def __init__(self) -> None:
        self.received: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_text_message(str(message.sender_id), "ok")


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, RecordingBot]]:
    bot = RecordingBot()
    app = _SeveralPerProcess(f"rest_alias_{free_port()}")
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


# -- the type ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "channel", "external_id", "verified"),
    [
        ("web-C000001", "web", "web-C000001", True),
        ("wg-0123456789abcdef0123456789abcdef", "web", "wg-0123456789abcdef0123456789abcdef", False),
        ("wechat:oAbc", "wechat", "oAbc", True),
        ("rest:web-C000001", "rest", "rest:web-C000001", False),
        ("web:web-C000003", "rest", "web:web-C000003", False),
        ("demo-vip-zh", "rest", "demo-vip-zh", False),
        ("wechat:", "rest", "wechat:", False),
        ("web-", "rest", "web-", False),
    ],
)
def test_a_sender_id_is_parsed_once_and_never_stripped(sender: str, channel: str, external_id: str, verified: bool):
    cid = ConversationId.parse(sender)
    assert (cid.channel, cid.external_id, cid.verified) == (channel, external_id, verified)
    assert str(cid) == sender


def test_building_and_formatting_round_trip() -> None:
    assert str(ConversationId.web_customer("C000001")) == "web-C000001"
    assert ConversationId.parse("web-C000001").customer_id == "C000001"
    assert str(ConversationId.wechat("o1")) == "wechat:o1" and ConversationId.parse("wechat:o1").openid == "o1"
    guest = ConversationId.new_web_guest()
    assert guest.is_web_guest and ConversationId.parse(str(guest)) == guest and guest.customer_id is None


@pytest.mark.parametrize("sender", ALIASES + ["web-C000001", "wechat:o1"])
def test_aliases_are_reserved(sender: str) -> None:
    assert ConversationId.reserved(sender)


@pytest.mark.parametrize("sender", ["demo-guest-1", "o-alice", "guest-terminal", "E20261120001", "1:2"])
def test_plain_ids_are_not_reserved(sender: str) -> None:
    assert not ConversationId.reserved(sender)


# -- the channel ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sender", ALIASES)
async def test_a_public_caller_cannot_use_an_alias_of_a_verified_id(served, sender: str) -> None:
    url, bot = served
    assert await _post(url, {"sender": sender, "message": "我的订单"}) == 403
    assert bot.received == []


@pytest.mark.parametrize("claimed", ["web", "wechat", "socketio", "rest"])
async def test_a_public_callers_input_channel_is_always_rest(served, claimed: str) -> None:
    url, bot = served
    assert await _post(url, {"sender": "someone-1", "message": "hi", "input_channel": claimed}) == 200
    assert [m.input_channel for m in bot.received] == ["rest"]


async def test_a_public_callers_metadata_is_dropped_whole(served) -> None:
    url, bot = served
    metadata = {"channel": "web", "customer_id": "C000001", "page": "/faq", "blob": "x" * 60_000}
    assert await _post(url, {"sender": "someone-2", "message": "hi", "metadata": metadata}) == 200
    assert [m.metadata for m in bot.received] in ([None], [{}])


async def test_the_token_holder_keeps_its_channel_and_metadata(served) -> None:
    url, bot = served
    metadata = {"channel": "web", "signed_in": True, "customer_id": "C000001"}
    body = {"sender": "web-C000001", "message": "hi", "metadata": metadata, "input_channel": "web"}
    assert await _post(url, body, token=TOKEN) == 200
    assert bot.received[0].metadata == metadata and bot.received[0].input_channel == "web"


# -- the actions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sender", ["rest:web-C000001", "web:web-C000003", "socketio:web-C000002"])
@pytest.mark.parametrize("input_channel", ["rest", "web", "socketio", None])
async def test_an_alias_starts_a_guest_session(
    tracker_factory, dispatcher, domain, store, conversations, sender: str, input_channel: str | None
) -> None:
    tracker = tracker_factory(sender_id=sender, input_channel=input_channel)
    events = await ActionSessionStart(store=store, conversations=conversations).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots[names.IS_GUEST] is True and slots[names.CUSTOMER_ID] is None


@pytest.mark.parametrize("channel", ["web", "socketio", "wechat"])
def test_metadata_cannot_move_a_rest_id_to_another_channels_identity(tracker_factory, channel: str) -> None:
    tracker = tracker_factory(sender_id="web:web-C000003", metadata={"channel": channel}, input_channel=channel)
    assert identity_of(tracker) == ConversationId("rest", "web:web-C000003")
    assert channel_of(tracker) == "rest"


def test_the_verified_spellings_resolve_to_their_channel(tracker_factory) -> None:
    assert identity_of(tracker_factory(sender_id="web-C000001")) == ConversationId("web", "web-C000001")
    assert identity_of(tracker_factory(sender_id="wechat:oX")) == ConversationId("wechat", "oX")
    assert channel_of(tracker_factory(sender_id="wechat:oX", input_channel="rest")) == "wechat"


def test_the_rest_channel_never_falls_back_to_web_identities(store) -> None:
    assert store.resolve("rest", "web-C000001").is_guest
