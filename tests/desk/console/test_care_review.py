"""The supervisor's transcript review lists the conversation's proactive messages with their reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from desk.care import Candidate, CareStore, Route
from desk.conversations import ConversationLog
from tests.desk.console.conftest import Console


def test_the_review_shows_each_proactive_message_with_its_reason(
    console_factory: Callable[..., Console], clock: Callable[[], datetime]
) -> None:
    console = console_factory()
    ConversationLog(console.session_factory, clock=clock).touch(
        conversation_id="web-C000001", channel="web", customer_id="C000001", language="zh",
        segment="important_value", arm="neutral")
    store = CareStore(console.session_factory)
    candidate = Candidate("C000001", "order_delay", "E1:2026-11-17", "order E1: ETA 2026-11-17 passed, not delivered")
    store.record(candidate, Route("web", "web-C000001"), "zh", "您好，订单还在路上，如需联系请拨 13812345678",
                 datetime(2026, 11, 20, 4))
    boss = console.client("boss")
    detail = boss.get("/supervisor/api/transcripts/web-C000001").json()
    [row] = detail["proactive"]
    assert (row["kind"], row["status"], row["channel"]) == ("order_delay", "waiting", "web")
    assert row["reason"] == "order E1: ETA 2026-11-17 passed, not delivered"
    assert "13812345678" not in row["text"] and "138****5678" in row["text"]  # stored masked
    page = boss.get("/supervisor/transcripts/web-C000001", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "订单延误通知" in page.text and "ETA 2026-11-17 passed" in page.text and "等待客户上线" in page.text
