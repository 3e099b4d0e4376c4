"""The tickets and callbacks inbox in a real browser (Playwright driving Debian's Chromium): an agent lists
the tickets, filters to the complaints, claims one, adds an internal note and resolves it with a reason;
a supervisor sees the overdue one marked. The console runs over a seeded file database (no Rasa needed:
the inbox never calls it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desk.tickets import TicketStore
from tests.utils.browser import seeded_console, sign_in

pytestmark = [pytest.mark.browser]
AGENT, BOSS, PASSWORD = "inbox-agent", "inbox-boss", "inbox-agent-pass"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with seeded_console(tmp_path_factory.mktemp("inbox"), [(AGENT, PASSWORD, "agent", "小王"), (BOSS, PASSWORD, "supervisor", "主管")]) as world:
        yield world



def _sign_in(page: Any, url: str, username: str) -> None:
    sign_in(page, url, username, PASSWORD)


def test_an_agent_filters_claims_notes_and_resolves_a_complaint(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    store = TicketStore(world.factory)
    complaint = store.record_contact(customer_id=None, conversation_id="web-inbox-browser-1", channel="web",
                                     topic="complaint", subject="快递员态度问题").ticket
    late = TicketStore(world.factory, clock=lambda: datetime.utcnow() - timedelta(days=2)).record_contact(
        customer_id=None, conversation_id="web-inbox-browser-2", channel="web", topic="complaint",
        subject="包装破损").ticket
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, world.url, AGENT)
        page.click("[data-testid=nav-tickets]")
        expect(page.get_by_test_id("tickets")).to_be_visible()
        page.select_option("[data-testid=filter-topic]", "complaint")
        page.select_option("[data-testid=filter-scope]", "unassigned")
        page.click("[data-testid=apply-filters]")
        row = page.locator(f"tr[data-ticket='{complaint.id}']")
        expect(row).to_contain_text("投诉")
        expect(row.get_by_test_id("owner")).to_have_text("待认领")
        expect(page.locator(f"tr[data-ticket='{late.id}'] [data-testid=overdue]")).to_be_visible()
        assert all(t == "投诉" for t in page.locator("tbody tr td:nth-child(2)").all_inner_texts())

        with page.expect_navigation():
            row.get_by_test_id("claim").click()
        page.goto(f"{world.url}/tickets?scope=mine")
        row = page.locator(f"tr[data-ticket='{complaint.id}']")
        expect(row.get_by_test_id("owner")).to_have_text(AGENT)
        row.get_by_test_id("note-text").fill("已联系快递站点")
        with page.expect_navigation():
            row.get_by_test_id("add-note").click()
        row = page.locator(f"tr[data-ticket='{complaint.id}']")
        row.get_by_test_id("reason").select_option("explained")
        row.get_by_test_id("resolve-note").fill("已致电说明")
        with page.expect_navigation():
            row.get_by_test_id("resolve").click()
        page.goto(f"{world.url}/tickets?status=resolved&scope=mine")
        row = page.locator(f"tr[data-ticket='{complaint.id}']")
        expect(row.get_by_test_id("status")).to_contain_text("已解决")
        expect(row.get_by_test_id("status")).to_contain_text("已向客户说明")
        row.locator("summary").click()
        expect(row.get_by_test_id("history")).to_contain_text("已联系快递站点")
        assert store.get(complaint.id).status == "resolved"  # what the customer's lookup reads

        boss = browser.new_context(locale="en-US").new_page()
        _sign_in(boss, world.url, BOSS)
        boss.goto(f"{world.url}/tickets?overdue=1")
        expect(boss.get_by_test_id("overdue-total")).to_be_visible()
        expect(boss.locator(f"tr[data-ticket='{late.id}'] [data-testid=overdue]")).to_have_text("Overdue")
        expect(boss.locator(f"tr[data-ticket='{complaint.id}']")).to_have_count(0)
        shots = Path(__file__).resolve().parents[3] / "results" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        boss.screenshot(path=str(shots / "tickets-inbox-overdue-en.png"))
        boss.context.close()
    finally:
        context.close()
