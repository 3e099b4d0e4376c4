"""One handoff over HTTP: the card, escaping, chat into the tracker and the channel, notes, endings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from desk.live import customer_topic
from desk.rasa_client import RasaClient
from devtools.services import free_port
from tests.desk.console.conftest import RATING_QUESTION, Console, FakeRasa, enqueue, make_package, rasa_server
from wechat.delivery import ServiceWindow, WeChatDelivery
from wechat.outbox import DELIVERED, Outbox, OutboxMessage
from wechat.stores import MemoryStore

XSS = "<script>alert('x')</script>"


def _claimed(console: Console, **overrides) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    handoff_id = enqueue(console.queue, **overrides)
    client = console.client("agent1")
    assert client.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": client.csrf}).status_code == 200
    return handoff_id, client


def test_the_card_shows_the_warm_handoff_package(console: Console) -> None:
    handoff_id, client = _claimed(console)
    console.rasa.log("web-c0000001", {"event": "user", "text": "我要退款，电话13812345678"})
    page = client.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).text
    for expected in ("退款/退货", "陈*（VIP）", "VIP", "重要价值客户", "138****1234", "近30天第3次联系此问题",
                     "退款未到账", "<svg", "变差", "焦虑"):
        assert expected in page, expected
    assert "13812345678" not in page and "138****5678" in page  # transcript lines are masked
    card = client.get(f"/api/handoffs/{handoff_id}").json()
    assert card["profile"]["tier"] == "vip" and card["sentiment"]["history"] == [0.1, -0.2, -0.6]
    assert card["repeat_contacts"] == 3 and card["recent_tickets"][0]["id"] == 7


def test_english_interface_by_browser_and_by_switch(console: Console) -> None:
    handoff_id, client = _claimed(console, language="en")
    english = client.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.9"})
    assert "Contact #3 about this issue in 30 days" in english.text and "important value" in english.text
    client.get("/lang/zh", follow_redirects=False)
    chinese = client.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert "近30天第3次联系此问题" in chinese.text


def test_user_text_is_escaped_everywhere_on_the_page(console: Console) -> None:
    handoff_id, client = _claimed(
        console, summary=f"summary {XSS}",
        package=make_package(profile={"name": XSS, "tier": XSS}, recent_tickets=[{"id": 1, "topic": XSS,
                                                                                   "subject": XSS, "status": "open"}]),
    )
    console.rasa.log("web-c0000001", {"event": "user", "text": XSS})
    client.post(f"/api/handoffs/{handoff_id}/notes", json={"text": XSS}, headers={"X-CSRF-Token": client.csrf})
    page = client.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_an_agent_line_goes_into_the_tracker_and_to_the_customer(console: Console) -> None:
    handoff_id, client = _claimed(console)

    async def send_while_listening() -> dict:  # type: ignore[type-arg]
        async with console.app.state.services.broker.subscribe(customer_topic("web-c0000001")) as subscription:
            response = await asyncio.to_thread(
                client.post, f"/api/handoffs/{handoff_id}/messages", json={"text": "您好，我来帮您处理退款"},
                headers={"X-CSRF-Token": client.csrf},
            )
            assert response.json()["delivered"] is True
            return await subscription.next(timeout=2)  # type: ignore[return-value]

    pushed = asyncio.run(send_while_listening())
    assert pushed is not None and (pushed["from"], pushed["text"]) == ("agent", "您好，我来帮您处理退款")
    [(conversation, [event])] = console.rasa.appended
    assert conversation == "web-c0000001"
    assert event["event"] == "bot" and event["text"] == "您好，我来帮您处理退款"
    assert event["metadata"] == {"sent_by": "agent", "agent_id": "agent1"}
    lines = client.get(f"/api/handoffs/{handoff_id}/messages").json()["messages"]
    assert lines[-1]["from"] == "agent" and lines[-1]["agent"] == "agent1"


def test_an_agent_line_on_a_channel_without_a_gateway_is_kept(console: Console) -> None:
    handoff_id, client = _claimed(console, conversation_id="wechat:o-test-0001", channel="wechat")
    response = client.post(f"/api/handoffs/{handoff_id}/messages", json={"text": "您好"},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 200 and response.json()["delivered"] is False and response.json()["notice"]
    assert console.rasa.appended  # in the transcript all the same


HELD_AT = datetime(2026, 11, 18, 9, 30)


def _hold(console: Console, *rows: OutboxMessage) -> None:
    """Rows of the WeChat channel's outbox, in the application database the console reads."""
    OutboxMessage.__table__.create(console.session_factory.kw["bind"], checkfirst=True)
    with console.session_factory.begin() as session:
        session.add_all(rows)


def test_a_wechat_card_shows_what_waits_for_the_customers_next_message(console: Console) -> None:
    _hold(
        console,
        OutboxMessage(openid="o-held-0001", text=f"您的退款已处理 {XSS}", source="agent", reason="window_closed",
                      created_at=HELD_AT),
        OutboxMessage(openid="o-held-0001", text="请为本次服务打分（1-5）", source="bot", reason="errcode_45047",
                      created_at=HELD_AT),
        OutboxMessage(openid="o-held-0001", text="稍后为您查询物流", source="bot", reason="errcode_-1", created_at=HELD_AT),
        OutboxMessage(openid="o-held-0001", text="早已送达的一句", source="bot", reason="window_closed",
                      status=DELIVERED, delivered_at=HELD_AT),
        OutboxMessage(openid="o-someone-else", text="别人的消息", source="bot", reason="window_closed"),
        OutboxMessage(openid="web-c0000001", text="web 会话不显示", source="bot", reason="window_closed"),
    )
    wechat_id, client = _claimed(console, conversation_id="wechat:o-held-0001", channel="wechat")
    web_id = enqueue(console.queue)

    page = client.get(f"/handoffs/{wechat_id}", headers={"Accept": "text/html"}).text
    held = page[page.index('data-testid="held"'):page.index('id="reply"')]
    assert "待客户下次来消息后发出（微信）" in held and "客户下次在微信发来消息时会自动发出" in held
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in held and "<script>alert" not in page
    assert "距客户上次发消息已超过 48 小时" in held and "已达微信每次互动 5 条消息的上限" in held and "微信暂未接收" in held
    assert "保存于 2026-11-18 09:30（UTC）" in held and "坐席" in held and "机器人" in held
    for absent in ("早已送达的一句", "别人的消息", "web 会话不显示"):
        assert absent not in page

    english = client.get(f"/handoffs/{wechat_id}", headers={"Accept": "text/html", "Accept-Language": "en"}).text
    for expected in ("Waiting for the customer&#39;s next message (WeChat)", "Outside WeChat&#39;s 48-hour window",
                     "WeChat&#39;s 5-message limit", "WeChat did not accept it", "kept since 2026-11-18 09:30 UTC"):
        assert expected in english, expected

    card = client.get(f"/api/handoffs/{wechat_id}", headers={"Accept-Language": "en"}).json()
    assert [(m["text"], m["source"], m["reason"], m["reason_label"], m["from_label"]) for m in card["held"]] == [
        (f"您的退款已处理 {XSS}", "agent", "window", "Outside WeChat's 48-hour window (the customer last wrote more "
         "than 48 hours ago)", "Agent"),
        ("请为本次服务打分（1-5）", "bot", "limit", "WeChat's 5-message limit per customer message is reached", "Bot"),
        ("稍后为您查询物流", "bot", "not_accepted", "WeChat did not accept it yet", "Bot"),
    ]
    assert card["held"][0]["held_since"] == "2026-11-18T09:30:00"

    assert 'data-testid="held"' not in client.get(f"/handoffs/{web_id}", headers={"Accept": "text/html"}).text
    assert client.get(f"/api/handoffs/{web_id}").json()["held"] == []


def test_a_wechat_card_without_held_messages_or_without_the_wechat_tables(console: Console) -> None:
    _hold(console, OutboxMessage(openid="o-held-0002", text="已发出", source="bot", reason="window_closed",
                                 status=DELIVERED, delivered_at=HELD_AT))
    handoff_id, client = _claimed(console, conversation_id="wechat:o-held-0002", channel="wechat")
    page = client.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).text
    assert 'data-testid="held" hidden' in page and "已发出" not in page  # sent messages are not listed
    assert client.get(f"/api/handoffs/{handoff_id}").json()["held"] == []
    OutboxMessage.__table__.drop(console.session_factory.kw["bind"])  # WeChat never set up
    assert client.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).status_code == 200
    assert client.get(f"/api/handoffs/{handoff_id}").json()["held"] == []


class WeChatRasa(FakeRasa):
    """The fake Rasa server whose WeChat output channel sends the bot's lines through the real delivery
    path (service window, outbox) as the channel inside Rasa does, before Rasa answers."""

    def __init__(self, delivery: WeChatDelivery) -> None:
        super().__init__()
        self.delivery = delivery

    async def trigger_intent(self, conversation_id: str, intent: str, *, output_channel: str = "latest") -> list[dict]:  # type: ignore[type-arg]
        messages = await super().trigger_intent(conversation_id, intent, output_channel=output_channel)
        for message in messages:
            await self.delivery.deliver(conversation_id.split(":", 1)[1], message["text"], source="bot")
        return messages


class _Sent:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send_text(self, openid: str, text: str) -> None:
        self.texts.append(text)


def test_resolving_a_wechat_conversation_says_whether_the_rating_question_was_kept(
    console_factory: Callable[..., Console], seeded: sessionmaker
) -> None:
    window, sender = ServiceWindow(MemoryStore()), _Sent()
    delivery = WeChatDelivery(sender, window, Outbox(seeded.kw["bind"]))
    console = console_factory(rasa=WeChatRasa(delivery))
    _hold(console, OutboxMessage(openid="o-late-0001", text="更早保存的一句", source="agent", reason="window_closed"))

    late_id, client = _claimed(console, conversation_id="wechat:o-late-0001", channel="wechat")  # silent 48 h+
    body = client.post(f"/api/handoffs/{late_id}/resolve", headers={"X-CSRF-Token": client.csrf,
                                                                     "Accept-Language": "en"}).json()
    assert (body["status"], body["resumed"], body["delivered"], body["held"]) == ("resolved", True, False, 1)
    assert body["notice"] == ("Done. The rating question is kept and goes out automatically when the customer "
                              "next writes on WeChat")
    assert sender.texts == []

    asyncio.run(window.opened("o-now-0001"))  # this customer wrote a minute ago
    now_id = enqueue(console.queue, conversation_id="wechat:o-now-0001", channel="wechat")
    client.post(f"/api/handoffs/{now_id}/claim", headers={"X-CSRF-Token": client.csrf})
    body = client.post(f"/api/handoffs/{now_id}/resolve", headers={"X-CSRF-Token": client.csrf}).json()
    assert (body["delivered"], body["held"], body["notice"]) == (True, 0, None)
    assert sender.texts == [RATING_QUESTION["text"]]

    asyncio.run(window.opened("o-full-0001"))
    for _ in range(5):  # the allowance per customer message is spent
        asyncio.run(window.take("o-full-0001"))
    full_id = enqueue(console.queue, conversation_id="wechat:o-full-0001", channel="wechat")
    client.post(f"/api/handoffs/{full_id}/claim", headers={"X-CSRF-Token": client.csrf})
    body = client.post(f"/api/handoffs/{full_id}/resolve", headers={"X-CSRF-Token": client.csrf,
                                                                     "Accept-Language": "zh"}).json()
    assert (body["delivered"], body["held"]) == (False, 1)
    assert body["notice"] == "会话已结束。评价邀请已保存，客户下次在微信发来消息时会自动发出"
    # resolved: the card is a supervisor's now (tests/security/test_console_security.py)
    assert client.get(f"/api/handoffs/{full_id}").status_code == 403
    boss = console.client("boss")
    [rating] = boss.get(f"/api/handoffs/{full_id}", headers={"Accept-Language": "zh"}).json()["held"]
    assert (rating["text"], rating["source"], rating["reason"]) == (RATING_QUESTION["text"], "bot", "limit")


def test_notes_are_stored_and_never_sent(console: Console) -> None:
    handoff_id, client = _claimed(console)
    response = client.post(f"/api/handoffs/{handoff_id}/notes", json={"text": "客户电话 13812345678，已核实"},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 200 and "138****5678" in response.json()["text"]
    assert [n["agent"] for n in client.get(f"/api/handoffs/{handoff_id}/notes").json()["notes"]] == ["agent1"]
    assert console.rasa.appended == [] and console.rasa.sent == []


def test_resolve_resumes_the_bot_and_the_rating_question_reaches_the_customer(console: Console) -> None:
    handoff_id, client = _claimed(console)

    async def resolve_while_listening() -> dict:  # type: ignore[type-arg]
        async with console.app.state.services.broker.subscribe(customer_topic("web-c0000001")) as subscription:
            response = await asyncio.to_thread(
                client.post, f"/api/handoffs/{handoff_id}/resolve", headers={"X-CSRF-Token": client.csrf}
            )
            assert response.json()["status"] == "resolved"
            return await subscription.next(timeout=2)  # type: ignore[return-value]

    pushed = asyncio.run(resolve_while_listening())
    assert pushed["from"] == "bot" and pushed["buttons"] == RATING_QUESTION["buttons"]
    appended = [e["event"] for _, events in console.rasa.appended for e in events]
    assert appended[:2] == ["resume", "action"]
    assert console.rasa.triggered == [("web-c0000001", "EXTERNAL_conversation_resolved")]
    assert console.queue.get(handoff_id).status == "resolved"
    again = client.post(f"/api/handoffs/{handoff_id}/resolve", headers={"X-CSRF-Token": client.csrf})
    assert again.status_code == 409


def test_back_to_bot_resumes_without_asking_for_a_rating(console: Console) -> None:
    handoff_id, client = _claimed(console)
    response = client.post(f"/api/handoffs/{handoff_id}/back-to-bot", headers={"X-CSRF-Token": client.csrf})
    assert response.json()["status"] == "resolved"
    assert [e["event"] for _, events in console.rasa.appended for e in events] == ["resume", "action"]
    assert console.rasa.triggered == []


def test_requeue_puts_it_back_for_another_agent(console: Console) -> None:
    handoff_id, client = _claimed(console)
    assert client.post(f"/api/handoffs/{handoff_id}/requeue", headers={"X-CSRF-Token": client.csrf}).json() == {
        "id": handoff_id, "status": "queued"}
    other = console.client("agent2")
    assert other.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": other.csrf}).status_code == 200


def test_open_a_ticket_from_the_conversation(console: Console) -> None:
    handoff_id, client = _claimed(console)
    response = client.post(f"/api/handoffs/{handoff_id}/tickets", json={"topic": "complaint", "subject": "包装破损"},
                           headers={"X-CSRF-Token": client.csrf})
    body = response.json()
    assert response.status_code == 200 and body["created"] is True and str(body["ticket_id"]) in body["notice"]
    bad = client.post(f"/api/handoffs/{handoff_id}/tickets", json={"topic": "nonsense", "subject": "x"},
                      headers={"X-CSRF-Token": client.csrf})
    assert bad.status_code == 422


def test_empty_and_oversized_lines_are_refused(console: Console) -> None:
    handoff_id, client = _claimed(console)
    for text in ("   ", "长" * 2001):
        response = client.post(f"/api/handoffs/{handoff_id}/messages", json={"text": text},
                               headers={"X-CSRF-Token": client.csrf})
        assert response.status_code == 422
    assert console.rasa.appended == []


def test_what_the_console_says_when_it_does_not_act_is_in_the_agents_language(console: Console) -> None:
    handoff_id, client = _claimed(console)
    other = console.client("agent2")

    def detail(who, method: str, path: str, language: str, body=None) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        response = who.request(method, path, json=body, headers={"X-CSRF-Token": who.csrf,
                                                                  "Accept-Language": language})
        return response.status_code, response.json()["detail"]

    messages = f"/api/handoffs/{handoff_id}/messages"
    assert detail(client, "POST", messages, "en", {"text": "长" * 2001}) == (422, "A message has 1 to 2000 characters")
    assert detail(client, "POST", messages, "zh", {"text": " "}) == (422, "每条消息为 1 至 2000 个字")
    assert detail(other, "POST", messages, "en", {"text": "hi"}) == (403, "Another agent handles this conversation")
    assert detail(other, "POST", messages, "zh", {"text": "hi"}) == (403, "此会话由其他坐席处理")
    assert detail(client, "POST", f"/api/handoffs/{handoff_id}/notes", "en", {"text": " "}) == (
        422, "Please write the note first")
    assert detail(client, "POST", f"/api/handoffs/{handoff_id}/tickets", "zh", {"topic": "x", "subject": "s"}) == (
        422, "请选择类型并填写标题")
    assert detail(client, "GET", "/api/handoffs/999999", "en") == (404, "There is no handoff with this number")
    assert client.post(f"/api/handoffs/{handoff_id}/resolve", headers={"X-CSRF-Token": client.csrf}).status_code == 200
    assert detail(client, "POST", f"/api/handoffs/{handoff_id}/requeue", "en") == (
        409, "This conversation is resolved now; it is no longer open")
    assert detail(client, "POST", f"/api/handoffs/{handoff_id}/resolve", "zh") == (409, "此会话当前为「已解决」，已不在处理中")


def test_resolving_while_the_assistant_is_out_of_reach_leaves_a_resume_the_sweep_retries(
    console_factory: Callable[..., Console],
) -> None:
    port = free_port()  # nothing listens there: every call to "Rasa" fails to connect
    console = console_factory(rasa=RasaClient(f"http://127.0.0.1:{port}", timeout=2))
    handoff_id, client = _claimed(console)
    response = client.post(f"/api/handoffs/{handoff_id}/resolve",
                           headers={"X-CSRF-Token": client.csrf, "Accept-Language": "en"})
    body = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["resumed"], body["delivered"]) == ("resolved", False, False)
    assert body["notice"].startswith("Done. The assistant is out of reach")
    assert [h.id for h in console.queue.resume_pending()] == [handoff_id]
    sweeper = console.app.state.services.timeouts
    assert asyncio.run(sweeper.retry_resumes()) == []  # still out of reach: kept
    assert [h.id for h in console.queue.resume_pending()] == [handoff_id]

    async def rasa_back() -> tuple[list[int], list[tuple[str, object]], dict | None]:  # type: ignore[type-arg]
        async with rasa_server(port) as calls:
            async with console.app.state.services.broker.subscribe(customer_topic("web-c0000001")) as customer:
                resumed = await sweeper.retry_resumes()
                return resumed, calls, await customer.next(timeout=2)

    resumed, calls, pushed = asyncio.run(rasa_back())
    assert resumed == [handoff_id] and console.queue.resume_pending() == []
    [(append_path, events), (trigger_path, intent)] = calls
    assert append_path == "/conversations/web-c0000001/tracker/events" and events[0] == {"event": "resume"}
    assert trigger_path.endswith("/trigger_intent") and intent["name"] == "EXTERNAL_conversation_resolved"
    assert pushed is not None and pushed["buttons"] == RATING_QUESTION["buttons"]  # the rating question


def test_back_to_bot_while_the_assistant_is_out_of_reach_is_told_in_chinese(
    console_factory: Callable[..., Console],
) -> None:
    console = console_factory(rasa=RasaClient(f"http://127.0.0.1:{free_port()}", timeout=2))
    handoff_id, client = _claimed(console)
    response = client.post(f"/api/handoffs/{handoff_id}/back-to-bot",
                           headers={"X-CSRF-Token": client.csrf, "Accept-Language": "zh"})
    assert response.status_code == 200 and response.json()["resumed"] is False
    assert response.json()["notice"].startswith("会话已结束")
    [pending] = console.queue.resume_pending()
    assert pending.package["resume_pending"] == "back_to_bot" and pending.package["reason"] == "refund"


def test_the_card_names_recent_ticket_topics_in_the_agents_language(console: Console) -> None:
    handoff_id, client = _claimed(
        console, package=make_package(recent_tickets=[{"id": 11, "topic": "order_change", "subject": "size M to L",
                                                       "status": "open"},
                                                      {"id": 12, "topic": "privacy", "subject": "delete my data",
                                                       "status": "open"}]),
    )
    chinese = client.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).text
    assert "#11 修改订单" in chinese and "#12 隐私请求" in chinese
    client.get("/lang/en", follow_redirects=False)
    english = client.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).text
    assert "#11 Change order" in english and "#12 Privacy request" in english
