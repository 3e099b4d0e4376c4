"""Live parts: the broker, the queue watcher, the transcript stream and the customer's WebSocket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import update

from bot.wording import find_forbidden, load_forbidden_words
from desk.console.canned import load_canned
from desk.console.charts import sentiment_svg
from desk.console.i18n import Translator, pick_language
from desk.console.routes.handoffs import transcript_events
from desk.console.watch import QueueWatcher
from desk.gateway import OutboundMessage
from desk.live import QUEUE, InProcessBroker, conversation_topic
from tests.desk.console.conftest import Console, enqueue
from wechat.outbox import DELIVERED, OutboxMessage


def test_broker_fans_out_and_forgets_closed_subscriptions() -> None:
    async def scenario() -> None:
        broker = InProcessBroker()
        async with broker.subscribe("t") as first, broker.subscribe("t") as second:
            await broker.publish("t", {"n": 1})
            await broker.publish("other", {"n": 2})
            assert await first.next(timeout=1) == {"n": 1} and await second.next(timeout=1) == {"n": 1}
            assert await first.next(timeout=0.05) is None
        assert broker.subscribers("t") == 0

    asyncio.run(scenario())


def test_watcher_announces_handoffs_queued_by_another_process(console: Console) -> None:
    async def scenario() -> None:
        broker = InProcessBroker()
        watcher = QueueWatcher(console.queue, broker, interval_s=0.01)
        async with broker.subscribe(QUEUE) as queue_events:
            await watcher.check()  # first look: the baseline
            assert await watcher.check() is False
            handoff_id = await asyncio.to_thread(enqueue, console.queue)
            async with broker.subscribe(conversation_topic("web-c0000001")) as conversation:
                assert await watcher.check() is True
                await asyncio.to_thread(console.queue.claim, handoff_id, agent_id="agent1")
                assert await watcher.check() is True
                assert await conversation.next(timeout=1) == {"type": "handoff", "id": handoff_id}
            assert await queue_events.next(timeout=1) == {"type": "queue"}

    asyncio.run(scenario())


class _Request:
    def __init__(self) -> None:
        self.disconnected = False

    async def is_disconnected(self) -> bool:
        return self.disconnected


def test_transcript_stream_sends_new_lines_when_told(console: Console) -> None:
    handoff_id = enqueue(console.queue)
    services = console.app.state.services
    console.rasa.log("web-c0000001", {"event": "user", "text": "我要退款", "timestamp": 100.0})

    async def scenario() -> list[str]:
        request = _Request()
        stream = transcript_events(request, services, console.queue.get(handoff_id), after=100.0)
        frames = [await stream.__anext__(), await stream.__anext__()]  # retry hint, nothing new yet
        console.rasa.log("web-c0000001", {"event": "user", "text": "还在吗？", "timestamp": 101.0})
        await services.broker.publish(conversation_topic("web-c0000001"), {"type": "transcript"})
        frames.append(await asyncio.wait_for(stream.__anext__(), 2))
        request.disconnected = True
        await stream.aclose()
        return frames

    frames = asyncio.run(scenario())
    assert frames[0].startswith("retry:") and frames[1].startswith(":")
    assert frames[2].startswith("event: message") and "还在吗？" in frames[2] and "我要退款" not in frames[2]


def test_transcript_stream_of_a_wechat_conversation_follows_its_held_messages(console: Console) -> None:
    OutboxMessage.__table__.create(console.session_factory.kw["bind"], checkfirst=True)
    with console.session_factory.begin() as session:
        session.add(OutboxMessage(openid="o-live-0001", text="您的退款已处理", source="agent", reason="errcode_45015"))
    handoff_id = enqueue(console.queue, conversation_id="wechat:o-live-0001", channel="wechat")
    services = console.app.state.services

    async def scenario() -> list[str]:
        request = _Request()
        stream = transcript_events(request, services, console.queue.get(handoff_id), after=0.0,
                                   t=Translator("en"))
        frames = [await stream.__anext__() for _ in range(3)]  # retry hint, what is held now, tick
        with console.session_factory.begin() as session:  # the customer wrote; the flush sent it
            session.execute(update(OutboxMessage).values(status=DELIVERED))
        for _ in range(5):
            frame = await asyncio.wait_for(stream.__anext__(), 2)
            if frame.startswith("event: held"):
                frames.append(frame)
                break
        request.disconnected = True
        await stream.aclose()
        return frames

    frames = asyncio.run(scenario())
    assert frames[1].startswith("event: held") and "您的退款已处理" in frames[1]
    assert "Outside WeChat's 48-hour window" in frames[1] and frames[2].startswith(":")
    assert json.loads(frames[3].split("data: ", 1)[1]) == {"messages": []}


def test_customer_socket_forwards_to_rasa_and_pushes_agent_lines(console: Console) -> None:
    console.rasa.replies = [{"text": "您好！", "buttons": [{"title": "转人工", "payload": "/request_human"}]}]
    client = console.client()
    services = console.app.state.services
    with client.websocket_connect("/chat/ws?sender=dev-socket-0001") as socket:
        socket.send_json({"text": "你好"})
        reply: dict[str, Any] = socket.receive_json()
        assert reply["from"] == "bot" and reply["text"] == "您好！" and reply["buttons"][0]["payload"] == "/request_human"
        assert console.rasa.sent == [("dev-socket-0001", "你好")]
        socket.portal.call(services.gateways.send, "web", "dev-socket-0001",
                           OutboundMessage(text="坐席来了", agent_name="Agent1"))
        pushed = socket.receive_json()
        assert (pushed["from"], pushed["text"], pushed["agent"]) == ("agent", "坐席来了", "Agent1")


def test_customer_socket_refuses_a_malformed_sender_or_a_widget_identity(console: Console) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    for sender in ("a/b", "web-C000001", "wg-0123456789abcdef0123456789abcdef"):
        with pytest.raises(WebSocketDisconnect):
            with console.client().websocket_connect(f"/chat/ws?sender={sender}") as socket:
                socket.receive_json()
    assert console.rasa.sent == []


def test_customer_socket_is_closed_in_production(console: Console) -> None:
    import dataclasses

    import pytest
    from starlette.websockets import WebSocketDisconnect

    services = console.app.state.services
    console.app.state.services = dataclasses.replace(
        services, settings=dataclasses.replace(services.settings, environment="production")
    )
    with pytest.raises(WebSocketDisconnect):
        with console.client().websocket_connect("/chat/ws?sender=dev-socket-0002") as socket:
            socket.receive_json()


def test_language_from_cookie_then_accept_language() -> None:
    assert pick_language("en", "zh-CN") == "en"
    assert pick_language(None, "en-US,en;q=0.9,zh;q=0.8") == "en"
    assert pick_language(None, "fr-FR, zh-TW;q=0.5, en;q=0.4") == "zh"
    assert pick_language(None, None) == "zh" and pick_language("xx", "de") == "zh"


def test_canned_replies_exist_in_both_languages_without_negative_words() -> None:
    canned = load_canned()
    assert set(canned) == {"zh", "en"} and [c.id for c in canned["zh"]] == [c.id for c in canned["en"]]
    words = load_forbidden_words()
    for language, replies in canned.items():
        for reply in replies:
            assert find_forbidden(reply.text, words) == [], (language, reply.id)


def test_sentiment_chart_is_numbers_only() -> None:
    svg = sentiment_svg([0.5, "-0.5", "<script>", None, 3])
    assert svg.startswith("<svg") and "script" not in svg
    assert svg.count("<circle") == 3 and 'class="pos"' in svg and 'class="neg"' in svg
    assert "<polyline" not in sentiment_svg([0.1])
