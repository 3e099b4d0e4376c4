"""The SLA warning in a real browser (Playwright driving Debian's Chromium): in the queue a VIP customer's
badge turns from "due soon" to "past target" by itself while the page stays open; in the tickets inbox
the at-risk tickets are marked and the SLA filter keeps the breached ones; the supervisor's SLA report
and weekly report open, the week written with the page's own button. The console runs over a seeded file
database (no Rasa needed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desk.handoffs import HandoffQueue
from desk.tickets import TicketStore
from desk.weekly_report import last_complete_week
from tests.utils.browser import seeded_console, sign_in

pytestmark = [pytest.mark.browser]
AGENT, BOSS, PASSWORD = "sla-agent", "sla-boss", "sla-agent-pass"
SHOTS = Path(__file__).resolve().parents[3] / "results" / "screenshots"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with seeded_console(tmp_path_factory.mktemp("sla"), [(AGENT, PASSWORD, "agent", "小李"), (BOSS, PASSWORD, "supervisor", "主管")]) as world:
        yield world


def _sign_in(page: Any, url: str, username: str) -> None:
    sign_in(page, url, username, PASSWORD)


def _queued(factory: Any, conversation: str, *, ago: timedelta, priority: int) -> int:
    queue = HandoffQueue(factory, clock=lambda: datetime.utcnow() - ago)
    return queue.enqueue(conversation_id=conversation, customer_id=None, channel="web", language="zh",
                         reason="refund", priority=priority, summary="客户因「退款/退货」转人工。", package={}).id


def test_the_queue_badge_turns_past_target_by_itself(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    vip = _queued(world.factory, "web-sla-browser-vip", ago=timedelta(seconds=112), priority=1)  # target 120 s
    calm = _queued(world.factory, "web-sla-browser-calm", ago=timedelta(seconds=5), priority=5)  # target 15 min
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, world.url, AGENT)
        expect(page.get_by_test_id("queued")).to_be_visible()
        badge = page.locator(f"#queued tr[data-id='{vip}'] [data-testid=sla]")
        expect(badge).to_have_text("即将超时")
        expect(page.locator(f"#queued tr[data-id='{calm}'] [data-testid=sla]")).to_have_text("正常")
        expect(badge).to_have_text("已超时", timeout=15_000)  # no new snapshot needed: the page's own clock
        expect(badge).to_have_attribute("data-state", "breached")
        assert "sla-breached" in (badge.get_attribute("class") or "")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "queue-sla-zh.png"))
    finally:
        context.close()


def test_the_inbox_marks_at_risk_tickets_and_filters_the_breached(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    def opened(conversation: str, ago: timedelta) -> int:
        store = TicketStore(world.factory, clock=lambda: datetime.utcnow() - ago)
        return store.record_contact(customer_id=None, conversation_id=conversation, channel="web", topic="refund",
                                    subject="退款进度").ticket.id  # refund: first response within 4 h

    soon = opened("web-sla-browser-t1", timedelta(hours=3, minutes=30))
    late = opened("web-sla-browser-t2", timedelta(hours=5))
    fresh = opened("web-sla-browser-t3", timedelta(minutes=5))
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, world.url, AGENT)
        page.click("[data-testid=nav-tickets]")
        expect(page.locator(f"tr[data-ticket='{soon}'] [data-testid=sla]")).to_have_text("First response · Due soon")
        expect(page.locator(f"tr[data-ticket='{late}'] [data-testid=sla]")).to_have_text("First response · Past target")
        expect(page.locator(f"tr[data-ticket='{fresh}'] [data-testid=sla]")).to_have_text("First response · On track")
        expect(page.get_by_test_id("sla-at-risk")).to_be_visible()
        page.select_option("[data-testid=filter-sla]", "breached")
        page.click("[data-testid=apply-filters]")
        expect(page.locator(f"tr[data-ticket='{late}']")).to_be_visible()
        expect(page.locator(f"tr[data-ticket='{soon}']")).to_have_count(0)
        expect(page.locator(f"tr[data-ticket='{fresh}']")).to_have_count(0)
        assert all(text.endswith("Past target") for text in page.locator("tbody [data-testid=sla]").all_inner_texts())
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "tickets-sla-en.png"))
    finally:
        context.close()


def test_a_supervisor_opens_the_sla_report_and_the_weekly_report(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    last_week = last_complete_week(datetime.utcnow()).isoformat()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, world.url, BOSS)
        page.goto(f"{world.url}/supervisor/dashboard")
        page.click("[data-testid=nav-sla]")
        expect(page.get_by_test_id("sla-table")).to_be_visible()
        page.select_option("[data-testid=sla-by]", "sla_class")
        page.click("[data-testid=sla-apply]")
        expect(page.get_by_test_id("sla-table")).to_contain_text("VIP 客户")
        expect(page.get_by_test_id("sla-table")).to_contain_text("合计")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "sla-report-zh.png"), full_page=True)
        page.click("[data-testid=nav-weekly]")
        expect(page.get_by_test_id("weekly-week")).to_have_value(last_week)  # the last complete week
        page.click("[data-testid=weekly-write]")
        page.wait_for_url(f"**/supervisor/reports/weekly/{last_week}")
        expect(page.get_by_test_id("weekly-cards")).to_be_visible()
        expect(page.get_by_test_id("weekly-csv")).to_be_visible()
        expect(page.locator(f"[data-testid=weekly-weeks] a[data-week='{last_week}']")).to_have_attribute(
            "aria-current", "page")
        expect(page.get_by_test_id("weekly-write")).to_have_text("重新生成这一周的报告")
        page.screenshot(path=str(SHOTS / "weekly-report-zh.png"), full_page=True)
    finally:
        context.close()
