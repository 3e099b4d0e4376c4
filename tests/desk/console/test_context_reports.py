"""Console routes for context while chatting (earlier conversations and tickets, labels), editable canned
replies, agent/QA reports, QA-score filters and full-text search in transcript review."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from desk.models import Ticket
from tests.conftest import MovableClock
from tests.desk.console.conftest import Console, enqueue
from tests.desk.console.test_review import VIP, _seed_conversations


def _post(client, url: str, body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    return client.post(url, json=body or {}, headers={"X-CSRF-Token": client.csrf})


@pytest.fixture
def desk(console_factory: Callable[..., Console], clock: Callable[[], datetime]) -> tuple[Console, int]:
    console = console_factory()
    _seed_conversations(console, clock)
    handoff_id = enqueue(console.queue, conversation_id="web-vip00001", customer_id=VIP)
    agent = console.client("agent1")
    assert _post(agent, f"/api/handoffs/{handoff_id}/claim").status_code == 200
    assert _post(agent, f"/api/handoffs/{handoff_id}/messages", {"text": "您好，退款我来帮您查"}).status_code == 200
    console.rasa.log("web-vip00001", {"event": "user", "text": "我想查询退款进度，手机13812345678"})
    console.rasa.log("web-en000001", {"event": "user", "text": "Where is my parcel?"})
    console.rasa.log("wx-00000001", {"event": "user", "text": "发票怎么开"})
    return console, handoff_id


# ------------------------------------------------------------------ context on the handoff card


def test_the_card_links_to_the_customers_earlier_conversations_and_tickets(desk: tuple[Console, int]) -> None:
    console, handoff_id = desk
    with console.session_factory.begin() as session:
        session.add(Ticket(customer_id=VIP, conversation_id="web-vip00001", topic="refund", subject="退款未到账"))
        session.add(Ticket(customer_id="C000004", topic="order", subject="other customer"))
    agent = console.client("agent1")
    context = agent.get(f"/api/handoffs/{handoff_id}/context").json()
    assert context["customer_id"] == VIP and context["may_label"]
    assert [c["conversation_id"] for c in context["conversations"]] == ["web-vip00001"]
    assert context["conversations"][0]["current"] and context["conversations"][0]["url"] is None  # agents: no review
    assert context["tickets_url"] == f"/tickets?customer={VIP}" and context["transcripts_url"] is None
    tickets = agent.get(context["tickets_url"].replace("/tickets", "/api/tickets")).json()["tickets"]
    subjects = [t["subject"] for t in tickets]
    assert "退款未到账" in subjects and "other customer" not in subjects
    assert "other customer" in [t["subject"] for t in agent.get("/api/tickets").json()["tickets"]]
    boss = console.client("boss").get(f"/api/handoffs/{handoff_id}/context").json()
    assert boss["transcripts_url"] == f"/supervisor/transcripts?customer={VIP}"
    assert boss["conversations"][0]["url"].startswith("/supervisor/transcripts/web-vip00001")
    page = console.client("boss").get(boss["transcripts_url"])
    assert [r["customer_id"] for r in console.client("boss").get(
        "/supervisor/api/transcripts", params={"customer": VIP}).json()["transcripts"]] == [VIP]
    assert page.status_code == 200
    card = agent.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).text
    assert 'data-testid="context"' in card and "/static/context.js" in card


def test_the_context_follows_the_cards_access_rules(desk: tuple[Console, int]) -> None:
    console, handoff_id = desk
    assert console.client("agent2").get(f"/api/handoffs/{handoff_id}/context").status_code == 403
    assert console.client().get(f"/api/handoffs/{handoff_id}/context").status_code == 401


def test_labels_are_added_by_the_agent_holding_the_chat_and_filter_transcripts(desk: tuple[Console, int]) -> None:
    console, _ = desk
    agent, other, boss = console.client("agent1"), console.client("agent2"), console.client("boss")
    added = _post(agent, "/api/conversations/web-vip00001/labels", {"label": "Refund Delay"})
    assert added.status_code == 200 and added.json()["labels"] == ["refund-delay"]
    assert _post(other, "/api/conversations/web-vip00001/labels", {"label": "x"}).status_code == 403
    refused = _post(agent, "/api/conversations/web-vip00001/labels", {"label": "<script>"})
    assert refused.status_code == 422 and refused.json()["detail"]
    assert _post(boss, "/api/conversations/wx-00000001/labels", {"label": "invoice"}).status_code == 200

    def ids(**params: str) -> list[str]:
        return sorted(r["conversation_id"] for r in boss.get("/supervisor/api/transcripts", params=params).json()["transcripts"])

    assert ids(label="refund-delay") == ["web-vip00001"] and ids(label="invoice") == ["wx-00000001"]
    assert ids(label="nothing") == []
    page = boss.get("/supervisor/transcripts", params={"label": "invoice"}, headers={"Accept": "text/html"}).text
    assert "label-chip" in page and 'data-conversation="wx-00000001"' in page
    removed = _post(agent, "/api/conversations/web-vip00001/labels/delete", {"label": "refund-delay"})
    assert removed.json() == {"removed": True, "labels": []}


# ------------------------------------------------------------------ canned replies


def test_supervisors_edit_canned_replies_and_agents_use_them(desk: tuple[Console, int]) -> None:
    console, handoff_id = desk
    boss, agent = console.client("boss"), console.client("agent1")
    page = boss.get("/supervisor/canned", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'data-testid="canned-zh"' in page.text and "问候" in page.text
    added = _post(boss, "/supervisor/api/canned", {"language": "zh", "key": "parcel", "title": "物流",
                                                  "text": "您的包裹已发出，预计明天送达。"})
    assert added.status_code == 200, added.text
    replies = agent.get("/api/canned", cookies={"lang": "zh"}).json()["replies"]
    assert replies[-1] == {"id": "parcel", "title": "物流", "text": "您的包裹已发出，预计明天送达。"}
    card = agent.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}, cookies={"lang": "zh"}).text
    assert "您的包裹已发出，预计明天送达。" in card
    changed = _post(boss, f"/supervisor/api/canned/{added.json()['id']}", {"language": "zh", "key": "parcel",
                                                                          "title": "物流", "text": "包裹明天到。"})
    assert changed.json()["text"] == "包裹明天到。"
    assert _post(boss, f"/supervisor/api/canned/{added.json()['id']}/delete").status_code == 200
    assert "parcel" not in [r["id"] for r in agent.get("/api/canned").json()["replies"]]
    assert _post(agent, "/supervisor/api/canned", {"language": "zh", "key": "x", "title": "x", "text": "x"}).status_code == 403


@pytest.mark.parametrize("lang, text, words", [("zh", "这个无法处理", "无法"), ("en", "Sorry, that is impossible.", "impossible")])
def test_a_canned_reply_with_forbidden_words_is_refused_with_a_clear_message(desk: tuple[Console, int], lang: str,
                                                                            text: str, words: str) -> None:
    console, _ = desk
    boss = console.client("boss")
    boss.cookies.set("lang", lang)
    refused = _post(boss, "/supervisor/api/canned", {"language": lang, "key": "bad", "title": "T", "text": text})
    assert refused.status_code == 422 and words in refused.json()["detail"]
    assert ("未保存" if lang == "zh" else "Not saved") in refused.json()["detail"]
    form = boss.post("/supervisor/api/canned", data={"language": lang, "key": "bad", "title": "T", "text": text,
                                                    "csrf_token": boss.csrf}, headers={"Accept": "text/html"})
    assert form.status_code == 422 and 'data-testid="canned-error"' in form.text and words in form.text
    assert "bad" not in [r["key"] for r in boss.get("/supervisor/api/canned").json()["replies"]]


# ------------------------------------------------------------------ reports and QA filters


def test_agent_report_and_weekly_qa(desk: tuple[Console, int]) -> None:
    console, _handoff_id = desk
    boss = console.client("boss")
    for conversation, scores in (("web-vip00001", (2, 1, 4)), ("web-en000001", (5, 5, 5))):
        body = dict(zip(("accuracy", "empathy", "resolution"), scores), notes="ok")
        assert _post(boss, f"/supervisor/api/transcripts/{conversation}/reviews", body).status_code == 200
    report = boss.get("/supervisor/api/reports").json()
    agent1 = next(a for a in report["agents"] if a["agent"] == "agent1")
    assert agent1["handled"] == 1 and agent1["first_response_median_s"] is not None
    assert agent1["qa_accuracy"] == 2 and agent1["qa_empathy"] == 1 and agent1["reviews"] == 1
    assert len(report["qa_weekly"]) == 1 and report["qa_weekly"][0]["reviews"] == 2
    assert report["qa_weekly"][0]["qa_accuracy"] == 3.5
    page = boss.get("/supervisor/reports", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'data-agent="agent1"' in page.text
    rows = list(csv.DictReader(io.StringIO(boss.get("/supervisor/reports/agents.csv").text.lstrip("\ufeff"))))
    assert rows[0]["agent"] == "agent1" and rows[0]["handled"] == "1"
    assert console.client("agent1").get("/supervisor/api/reports").status_code == 403

    def ids(**params: str) -> list[str]:
        return sorted(r["conversation_id"] for r in boss.get("/supervisor/api/transcripts", params=params).json()["transcripts"])

    assert ids(qa_criterion="empathy", qa_max="2") == ["web-vip00001"]
    assert ids(qa_min="4") == ["web-en000001"]
    assert ids(qa_min="3", qa_max="3") == []
    assert boss.get("/supervisor/api/transcripts", params={"qa_min": "9"}).status_code == 422


def test_full_text_search_finds_chinese_words_with_masked_matches(desk: tuple[Console, int]) -> None:
    console, _ = desk
    boss = console.client("boss")

    def found(q: str) -> list[dict[str, Any]]:
        response = boss.get("/supervisor/api/transcripts", params={"q": q})
        assert response.status_code == 200, response.text
        return response.json()["transcripts"]

    hits = found("退款进度")
    assert [h["conversation_id"] for h in hits] == ["web-vip00001"]
    assert "138****5678" in hits[0]["match"] and "13812345678" not in hits[0]["match"]
    assert [h["conversation_id"] for h in found("发票")] == ["wx-00000001"]
    assert [h["conversation_id"] for h in found("parcel")] == ["web-en000001"]
    assert found("13812345678") == []
    console.rasa.log("web-en000001", {"event": "user", "text": "I need an invoice, 发票"})
    with console.session_factory.begin() as session:  # a new line: the conversation changed
        from desk.models import Conversation
        session.get(Conversation, "web-en000001").updated_at = datetime(2100, 1, 1)
    assert sorted(h["conversation_id"] for h in found("发票")) == ["web-en000001", "wx-00000001"]
    page = boss.get("/supervisor/transcripts", params={"q": "发票"}, headers={"Accept": "text/html"}).text
    assert 'data-testid="search-box"' in page and 'data-testid="search-match"' in page


def test_a_search_reads_no_tracker_while_the_background_index_keeps_up(console_factory, clock) -> None:
    """The console's indexer (``desk.search.IndexKeeper``, every SEARCH_INDEX_S) reads the changed
    trackers; a search then only queries the index. When its rounds stop (Rasa down, the task stuck),
    a search reads the trackers itself again, as without it."""
    import asyncio

    from desk.models import Conversation

    now = MovableClock(datetime(2026, 12, 1, 9, 0))
    console = console_factory(clock=now)
    _seed_conversations(console, now)
    console.rasa.log("wx-00000001", {"event": "user", "text": "发票怎么开"})
    now.advance(seconds=1)
    keeper = console.app.state.services.indexer
    boss = console.client("boss")
    read: list[str] = []
    tracker = console.rasa.tracker

    async def counted(conversation_id: str) -> dict[str, Any]:
        read.append(conversation_id)
        return await tracker(conversation_id)

    console.rasa.tracker = counted  # type: ignore[method-assign]

    def found(q: str) -> list[str]:
        response = boss.get("/supervisor/api/transcripts", params={"q": q})
        assert response.status_code == 200, response.text
        return sorted(h["conversation_id"] for h in response.json()["transcripts"])

    assert not keeper.current()
    assert asyncio.run(keeper.round()) >= 1 and keeper.current()
    read.clear()
    assert found("发票") == ["wx-00000001"] and read == []  # the index only
    console.rasa.log("web-en000001", {"event": "user", "text": "I need an invoice, 发票"})
    with console.session_factory.begin() as session:
        session.get(Conversation, "web-en000001").updated_at = now()
    now.advance(seconds=1)
    assert found("发票") == ["wx-00000001"] and read == []  # until the next round
    asyncio.run(keeper.round())
    assert read == ["web-en000001"]  # only the conversation that changed
    assert found("发票") == ["web-en000001", "wx-00000001"]
    console.rasa.log("wx-00000001", {"event": "user", "text": "发票抬头写公司"})
    with console.session_factory.begin() as session:
        session.get(Conversation, "wx-00000001").updated_at = now()
    now.advance(seconds=3 * console.app.state.services.settings.search_index_s + 1)  # no round since
    assert not keeper.current()
    read.clear()
    assert "wx-00000001" in found("抬头") and read == ["wx-00000001"]  # read on search again
