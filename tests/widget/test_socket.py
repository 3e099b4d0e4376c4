"""The widget's WebSocket protocol (/widget/ws), its files and the demo shop, over a fake Rasa server."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from bot.wording import find_forbidden, load_forbidden_words
from desk.console.routes.widget import GUEST_RE, STRINGS_FILE, TEXT_MAX, strings
from desk.gateway import OutboundMessage
from desk.transcripts import agent_event
from desk.widget_tokens import sign_token, verify_token
from tests.desk.console.conftest import Console
from tests.widget.conftest import SECRET

CJK = re.compile(r"[\u4e00-\u9fff]")


def token(customer_id: str = "C000001", ttl: int = 600) -> str:
    return sign_token(customer_id, int(time.time()) + ttl, SECRET)


def hello(socket: Any, **fields: Any) -> list[dict[str, Any]]:
    """Say hello; the frames up to and including the history."""
    socket.send_json({"type": "hello", **fields})
    frames = [socket.receive_json()]
    while frames[-1]["type"] != "history":
        frames.append(socket.receive_json())
    return frames


def until(socket: Any, kind: str) -> list[dict[str, Any]]:
    frames = [socket.receive_json()]
    while frames[-1]["type"] != kind:
        frames.append(socket.receive_json())
    return frames


def test_a_signed_in_customer_chats_as_their_web_identity(widget_console: Console) -> None:
    widget_console.rasa.replies = [{"text": "陈静，您好！", "buttons": [{"title": "是", "payload": "/affirm"}]}]
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        welcome, history = hello(socket, token=token(), guest=None)
        assert welcome == {"type": "welcome", "identity": "customer", "guest": None}
        assert history["messages"] == [] and history["complete"] is True
        socket.send_json({"type": "message", "id": "m-0000000001", "text": "你好"})
        frames = until(socket, "ack")
        while frames[-1] != {"type": "typing", "on": False}:  # the ack is this socket's, the rest every window's
            frames.append(socket.receive_json())
    assert widget_console.rasa.sent == [("web-C000001", "你好")]
    assert widget_console.rasa.metadata == [
        {"channel": "web", "signed_in": True, "customer_id": "C000001", "message_id": "m-0000000001"}
    ]
    acks = [f for f in frames if f["type"] == "ack"]
    assert acks == [{"type": "ack", "id": "m-0000000001", "duplicate": False}]
    kinds = [(f["type"], f.get("from"), f.get("on")) for f in frames if f["type"] != "ack"]
    assert kinds == [("message", "customer", None), ("typing", None, True), ("message", "bot", None),
                     ("typing", None, False)]
    bot = frames[[f.get("from") for f in frames].index("bot")]
    assert bot["text"] == "陈静，您好！" and bot["buttons"] == [{"title": "是", "payload": "/affirm"}]


@pytest.mark.parametrize("bad", ["C000001|1|forged", "garbage", sign_token("C000001", 1_000, SECRET),
                                 sign_token("C000001", int(time.time()) + 600, "the shop's old secret")])
def test_a_token_that_does_not_verify_makes_a_guest_with_a_polite_notice(widget_console: Console, bad: str) -> None:
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        welcome, notice, _history = hello(socket, token=bad, guest=None)
        assert welcome["identity"] == "guest" and GUEST_RE.match(welcome["guest"])
        assert notice == {"type": "notice", "code": "token_invalid"}
        socket.send_json({"type": "message", "id": "m-0000000002", "text": "hi"})
        until(socket, "ack")
    assert widget_console.rasa.sent == [(welcome["guest"], "hi")]
    assert widget_console.rasa.metadata[0] == {"channel": "web", "signed_in": False, "message_id": "m-0000000002"}


def test_a_guest_keeps_their_id_and_a_made_up_one_is_replaced(widget_console: Console) -> None:
    guest = "wg-" + "a1" * 16
    client = widget_console.client()
    with client.websocket_connect("/widget/ws") as socket:
        welcome, _ = hello(socket, token=None, guest=guest)  # no token: no notice
    assert welcome == {"type": "welcome", "identity": "guest", "guest": guest}
    for forged in ("web-C000001", "C000001", "wg-short", None):  # never someone else's conversation
        with client.websocket_connect("/widget/ws") as socket:
            welcome, _ = hello(socket, guest=forged)
        assert welcome["guest"] != forged and GUEST_RE.match(welcome["guest"])


def test_history_comes_back_on_reconnect_with_quick_reply_titles_and_open_buttons(widget_console: Console) -> None:
    rasa, conversation = widget_console.rasa, "web-C000003"
    rasa.log(conversation, {"event": "user", "text": "where is my order? call 13812345678"})
    rasa.log(conversation, {"event": "bot", "text": "Is it this one?",
                            "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}})
    rasa.log(conversation, {"event": "user", "text": "/affirm"})
    rasa.log(conversation, {"event": "user", "text": "/EXTERNAL_conversation_resolved"})
    rasa.log(conversation, agent_event("Hello, this is Li.", agent_id="agent1"))
    rasa.log(conversation, {"event": "bot", "text": "How would you rate us?",
                            "data": {"buttons": [{"title": "⭐ 5", "payload": '/rate_service{"rating":"5"}'}]}})
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        _, history = hello(socket, token=token("C000003"))
    lines = [(m["from"], m["text"]) for m in history["messages"]]
    assert lines == [
        ("customer", "where is my order? call 138****5678"),  # masked like every transcript
        ("bot", "Is it this one?"),
        ("customer", "Yes"),  # the button's title, not its payload
        ("agent", "Hello, this is Li."),
        ("bot", "How would you rate us?"),
    ]
    assert all("agent" not in m for m in history["messages"])  # agents' user names stay in the desk
    assert history["buttons"] == [{"title": "⭐ 5", "payload": '/rate_service{"rating":"5"}'}]


def test_a_resent_message_is_processed_once(widget_console: Console) -> None:
    client = widget_console.client()
    with client.websocket_connect("/widget/ws") as socket:
        hello(socket, token=token())
        socket.send_json({"type": "message", "id": "m-0000000003", "text": "我要退款"})
        assert until(socket, "ack")[-1]["duplicate"] is False
    with client.websocket_connect("/widget/ws") as socket:  # the ack was lost: the widget sends it again
        hello(socket, token=token())
        socket.send_json({"type": "message", "id": "m-0000000003", "text": "我要退款"})
        assert socket.receive_json() == {"type": "ack", "id": "m-0000000003", "duplicate": True}
    assert widget_console.rasa.sent == [("web-C000001", "我要退款")]


def test_a_line_the_assistant_did_not_get_can_be_sent_again(widget_console: Console) -> None:
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        hello(socket, token=token())
        widget_console.rasa.down = True
        socket.send_json({"type": "message", "id": "m-0000000004", "text": "在吗"})
        assert until(socket, "error")[-1] == {"type": "error", "code": "unavailable", "id": "m-0000000004"}
        widget_console.rasa.down = False
        socket.send_json({"type": "message", "id": "m-0000000004", "text": "在吗"})
        assert until(socket, "ack")[-1]["duplicate"] is False
    assert widget_console.rasa.sent == [("web-C000001", "在吗")]


def test_oversized_and_malformed_frames_are_answered_not_forwarded(widget_console: Console) -> None:
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        hello(socket)
        socket.send_json({"type": "message", "id": "m-0000000005", "text": "长" * (TEXT_MAX + 1)})
        assert socket.receive_json() == {"type": "error", "code": "too_long", "id": "m-0000000005"}
        socket.send_text(json.dumps({"type": "message", "id": "m-0000000006", "text": "x" * 40_000}))
        assert socket.receive_json() == {"type": "error", "code": "too_long", "id": None}
        socket.send_text("{not json")
        assert socket.receive_json()["code"] == "bad_request"
        socket.send_json({"type": "message", "id": "<script>", "text": "hi"})
        assert socket.receive_json()["code"] == "bad_request"
        socket.send_json({"type": "message", "id": "m-0000000007", "text": "   "})
        assert socket.receive_json() == {"type": "error", "code": "bad_request", "id": "m-0000000007"}
        socket.send_json({"type": "ping"})
        socket.send_json({"type": "message", "id": "m-0000000008", "text": "<b>hi</b>"})
        frames = until(socket, "ack")
        while frames[-1] != {"type": "typing", "on": False}:
            frames.append(socket.receive_json())
    echo = [f for f in frames if f.get("from") == "customer"]
    assert echo == [{"type": "message", "from": "customer", "text": "<b>hi</b>", "id": "m-0000000008", "buttons": []}]
    assert widget_console.rasa.sent == [(widget_console.rasa.sent[0][0], "<b>hi</b>")]  # as typed, never escaped


def test_agent_lines_are_pushed_to_every_open_window(widget_console: Console) -> None:
    services = widget_console.app.state.services
    client = widget_console.client()
    with client.websocket_connect("/widget/ws") as first, client.websocket_connect("/widget/ws") as second:
        hello(first, token=token())
        hello(second, token=token())
        first.portal.call(services.gateways.send, "web", "web-C000001",
                          OutboundMessage(text="您好，我是小李", agent_name="小李"))
        for socket in (first, second):
            pushed = socket.receive_json()
            assert (pushed["from"], pushed["text"], pushed["agent"]) == ("agent", "您好，我是小李", "小李")


def test_a_quick_reply_shows_its_title_in_every_window_and_reaches_rasa_as_its_payload(widget_console: Console) -> None:
    payload = '/rate_service{"rating":"5"}'
    client = widget_console.client()
    with client.websocket_connect("/widget/ws") as first, client.websocket_connect("/widget/ws") as second:
        hello(first, token=token())
        hello(second, token=token())
        first.send_json({"type": "message", "id": "m-0000000021", "text": payload, "shown": "⭐ 5"})
        first.send_json({"type": "message", "id": "m-0000000022", "text": "typed", "shown": "something else"})
        echoes = []
        while len(echoes) < 2:
            frame = second.receive_json()
            if frame["type"] == "message" and frame["from"] == "customer":
                echoes.append(frame["text"])
    assert echoes == ["⭐ 5", "typed"]  # a typed line is always shown as typed
    assert [text for _, text in widget_console.rasa.sent][-2:] == [payload, "typed"]


def test_a_socket_that_does_not_say_hello_is_closed(widget_console: Console) -> None:
    with pytest.raises(WebSocketDisconnect) as closed:
        with widget_console.client().websocket_connect("/widget/ws") as socket:
            socket.send_json({"type": "message", "id": "m-0000000009", "text": "hi"})
            socket.receive_json()
    assert closed.value.code == 1008
    assert widget_console.rasa.sent == []


def test_widget_files_are_served_with_caching_headers(widget_console: Console) -> None:
    client = widget_console.client()
    response = client.get("/widget/widget.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=3600" and response.headers["etag"]
    assert "attachShadow" in response.text and "innerHTML" not in response.text
    again = client.get("/widget/widget.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/widget/strings.json").json()["zh"]["title"]
    for missing in ("/widget/nothing.js", "/widget/..%2Fcommon%2Fsettings.py", "/widget/strings.JSON"):
        assert client.get(missing).status_code == 404


def test_the_demo_shop_signs_in_a_demo_customer_in_development_only(widget_console: Console) -> None:
    client = widget_console.client()
    page = client.get("/demo/shop?customer=C000003&lang=en", headers={"Accept": "text/html"})
    assert page.status_code == 200 and '<html lang="en">' in page.text
    signed = re.search(r'<script src="/widget/widget.js" data-token="([^"]+)" data-lang="en" defer>', page.text)
    assert signed and verify_token(signed.group(1), SECRET).customer_id == "C000003"
    guest = client.get("/demo/shop?customer=guest", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-CN">' in guest.text and "data-token" not in guest.text.split("<script src")[1]
    expired = client.get("/demo/shop?customer=expired").text
    assert not verify_token(re.search(r'data-token="([^"]+)"', expired).group(1), SECRET).valid
    services = widget_console.app.state.services
    import dataclasses

    widget_console.app.state.services = dataclasses.replace(
        services, settings=dataclasses.replace(services.settings, environment="production")
    )
    assert client.get("/demo/shop").status_code == 404


def test_the_interface_wording_is_bilingual_and_kind() -> None:
    catalogue = json.loads(STRINGS_FILE.read_text(encoding="utf-8"))
    assert catalogue == strings() and set(catalogue) == {"zh", "en"}
    assert set(catalogue["zh"]) == set(catalogue["en"])
    words = load_forbidden_words()
    for key in catalogue["zh"]:
        assert CJK.search(catalogue["zh"][key]), key
        assert not CJK.search(catalogue["en"][key]), key
        for language in ("zh", "en"):
            assert find_forbidden(catalogue[language][key], words) == [], (language, key)


def test_a_customer_with_an_accessibility_need_gets_larger_text_by_default(widget_console: Console) -> None:
    from profiles.segmentation import Thresholds
    from profiles.store import ProfileStore

    ProfileStore(widget_console.session_factory, thresholds=Thresholds()).set_accessibility(
        customer_id="C000005", need="visual", source="test", conversation_id=None)
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        welcome, _ = hello(socket, token=token("C000005"), guest=None)
    assert welcome == {"type": "welcome", "identity": "customer", "guest": None, "large_text": True}
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        welcome, _ = hello(socket, token=token("C000001"), guest=None)
    assert "large_text" not in welcome
