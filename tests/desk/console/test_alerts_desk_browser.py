"""Alerts of the desk in a real browser (Playwright driving Debian's Chromium), over a seeded file database
(Rasa is not needed): a handoff waiting too long (its first-response SLA reaches "due soon") and a chat
handed to the agent by auto-assignment each play a tone and, with the tab in the background, show a
notification. The page's AudioContext and Notification are
replaced by recorders (tests/desk/console/test_alerts_browser.py), so the calls are observed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from desk.handoffs import HandoffQueue
from tests.desk.console.conftest import make_package
from tests.desk.console.test_alerts_browser import RECORDERS
from tests.utils.browser import seeded_console, sign_in

pytestmark = [pytest.mark.browser]
ANN, BOB, PASSWORD = "bell-ann", "bell-bob", "bell-agent-pass"
GRANTED = "localStorage.setItem('test.granted', '1');"  # the agent allowed notifications earlier


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    users = [(ANN, PASSWORD, "agent", "小安"), (BOB, PASSWORD, "agent", "小博")]
    with seeded_console(tmp_path_factory.mktemp("bells"), users) as world:
        yield world


def _page(browser: Any, locale: str) -> Any:
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 900})
    context.add_init_script(GRANTED + RECORDERS)
    return context.new_page()


def _sign_in(page: Any, url: str, username: str) -> None:
    sign_in(page, url, username, PASSWORD)
    page.wait_for_function("() => typeof DeskQueue === 'object'")


def _queued(factory: Any, conversation: str, *, ago: timedelta, priority: int) -> int:
    queue = HandoffQueue(factory, clock=lambda: datetime.utcnow() - ago)
    return queue.enqueue(conversation_id=conversation, customer_id=None, channel="web", language="zh",
                         reason="refund", priority=priority, summary="客户因「退款/退货」转人工。",
                         package=make_package()).id


def _notes(page: Any) -> list[dict[str, str]]:
    return page.evaluate("() => window.__calls.notifications")


def test_a_handoff_waiting_too_long_rings_when_its_sla_turns_due_soon(world: Any, browser: Any) -> None:
    """Runs first: nobody uses the availability switch yet, so handoffs stay queued (no auto-assignment)."""
    from playwright.sync_api import expect

    already = _queued(world.factory, "web-bell-already", ago=timedelta(seconds=110), priority=1)  # past 96 s
    page = _page(browser, "zh-CN")
    try:
        _sign_in(page, world.url, ANN)
        expect(page.locator(f"#queued tr[data-id='{already}'] [data-testid=sla]")).to_have_text("即将超时")
        page.wait_for_timeout(1500)
        assert page.evaluate("() => window.__calls.tones") == 0  # late when the page opened: marked, not announced
        # VIP: first response within 120 s, "due soon" from 96 s; this one has waited 88 s
        vip = _queued(world.factory, "web-bell-vip", ago=timedelta(seconds=88), priority=1)
        calm = _queued(world.factory, "web-bell-calm", ago=timedelta(seconds=88), priority=5)  # 15 min target
        arrived = time.monotonic()
        page.wait_for_function("() => window.__calls.notifications.length >= 1", timeout=5_000)
        assert [n["title"] for n in _notes(page)] == ["新的转人工请求"]
        # the two rows are written one after the other: they may reach the console in one poll or in two,
        # so one or two arrival alerts come before the SLA bell
        page.wait_for_function("() => window.__calls.notifications.some(n => n.title === '客户已等待较久')",
                               timeout=15_000)
        rang_after = time.monotonic() - arrived
        notes = _notes(page)
        assert [n["title"] for n in notes[:-1]] in (["新的转人工请求"], ["新的转人工请求"] * 2), notes
        waiting = notes[-1]
        assert waiting["title"] == "客户已等待较久" and waiting["body"].startswith(f"#{vip} "), notes
        assert 4 <= rang_after <= 12, rang_after  # at the SLA warning (~8 s on), not at arrival nor after 180 s
        expect(page.locator(f"#queued tr[data-id='{vip}'] [data-testid=sla]")).to_have_text("即将超时")
        tones = page.evaluate("() => window.__calls.tones")
        assert tones == len(notes)  # every alert rings once
        page.wait_for_timeout(2500)  # announced once; the calm customer and the early one stay quiet
        assert page.evaluate("() => window.__calls.tones") == tones
        assert _notes(page) == notes
        assert all(f"#{already} " not in n["body"] for n in notes)
        assert not any(f"#{calm} " in n["body"] for n in notes if n["title"] == "客户已等待较久")
        expect(page).to_have_title(re.compile(r"^\(3\) "))
    finally:
        page.context.close()
        for handoff_id in (already, vip, calm):
            HandoffQueue(world.factory).cancel_by_customer(handoff_id)


def test_an_auto_assigned_chat_rings_for_its_agent(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    ann, bob = _page(browser, "en-US"), _page(browser, "en-US")
    try:
        _sign_in(ann, world.url, ANN)
        _sign_in(bob, world.url, BOB)
        ann.get_by_test_id("availability").select_option("online")
        expect(ann.get_by_test_id("availability")).to_have_attribute("data-status", "online")
        bob.get_by_test_id("availability").select_option("away")
        expect(bob.get_by_test_id("availability")).to_have_attribute("data-status", "away")
        ann.wait_for_timeout(1000)
        before = ann.evaluate("() => window.__calls.tones")
        handoff_id = _queued(world.factory, "web-bell-assigned", ago=timedelta(seconds=2), priority=3)
        expect(ann.locator(f"#mine tr[data-id='{handoff_id}']")).to_be_visible(timeout=5000)
        ann.wait_for_function("() => window.__calls.notifications.some(n => n.title === 'A chat was assigned to you')",
                              timeout=5_000)
        note = next(n for n in _notes(ann) if n["title"] == "A chat was assigned to you")
        assert note["body"].startswith(f"#{handoff_id} ")
        assert ann.evaluate("() => window.__calls.tones") > before
        # Bob is away: the chat is not his, nothing tells him it is
        assert all(n["title"] != "A chat was assigned to you" for n in _notes(bob))

    finally:
        ann.context.close()
        bob.context.close()
