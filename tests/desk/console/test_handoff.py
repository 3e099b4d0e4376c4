"""One handoff over HTTP: the card, escaping, chat into the tracker and the channel, notes, endings."""

from __future__ import annotations

import asyncio
from typing import Callable

from desk.live import customer_topic
from desk.rasa_client import RasaClient
from tests.desk.console.conftest import RATING_QUESTION, Console, enqueue, make_package, rasa_server
from tests.utils.services import free_port

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
