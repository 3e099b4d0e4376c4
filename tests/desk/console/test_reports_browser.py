"""Canned-reply editor, keyboard shortcuts, the handoff card's context and transcript search in a real
browser (Playwright driving Debian's Chromium). The console runs over a seeded file database; Rasa is
not running (a closed port): the search index holds lines read earlier (``TranscriptSearch.index_events``)
and sending or resolving are observed as the requests the page makes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from desk.conversations import ConversationLog
from desk.handoffs import HandoffQueue
from desk.search import TranscriptSearch
from tests.desk.console.conftest import make_package
from tests.utils.browser import seeded_console, sign_in

pytestmark = [pytest.mark.browser]
AGENT, BOSS, PASSWORD = "keys-agent", "keys-boss", "keys-agent-pass"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with seeded_console(tmp_path_factory.mktemp("reports"), [(AGENT, PASSWORD, "agent", "小李"), (BOSS, PASSWORD, "supervisor", "主管")]) as world:
        yield world


def _sign_in(page: Any, url: str, username: str) -> None:
    sign_in(page, url, username, PASSWORD)


def _handoff(world: Any, conversation_id: str, customer_id: str | None = "C000001") -> int:
    ConversationLog(world.factory).touch(conversation_id=conversation_id, channel="web", customer_id=customer_id,
                                         language="zh", segment="important_value", arm="neutral")
    return HandoffQueue(world.factory).enqueue(
        conversation_id=conversation_id, customer_id=customer_id, channel="web", language="zh", reason="refund",
        priority=4, summary="客户询问退款进度", package=make_package()).id


def test_a_supervisor_edits_canned_replies_and_an_agent_inserts_one(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    boss = browser.new_context(locale="en-US").new_page()
    try:
        _sign_in(boss, world.url, BOSS)
        boss.goto(f"{world.url}/supervisor/transcripts")
        boss.get_by_test_id("nav-canned").click()
        expect(boss.get_by_test_id("canned-en").locator("input[name=title]").first).to_have_value("Greeting")
        form = boss.get_by_test_id("canned-new")
        form.locator("select[name=language]").select_option("zh")
        form.locator("input[name=key]").fill("parcel")
        form.locator("input[name=title]").fill("物流进度")
        form.locator("textarea[name=text]").fill("这个我们无法查询")
        with boss.expect_navigation():
            boss.get_by_test_id("canned-add").click()
        expect(boss.get_by_test_id("canned-error")).to_contain_text("无法")
        expect(boss.get_by_test_id("canned-error")).to_contain_text("Not saved")
        expect(boss.get_by_test_id("canned-zh").locator("tr[data-key=parcel]")).to_have_count(0)
        form = boss.get_by_test_id("canned-new")
        expect(form.locator("textarea[name=text]")).to_have_value("这个我们无法查询")  # kept to be fixed
        form.locator("textarea[name=text]").fill("您的包裹已发出，预计明天送达。")
        with boss.expect_navigation():
            boss.get_by_test_id("canned-add").click()
        expect(boss.get_by_test_id("canned-zh").locator("tr[data-key=parcel] input[name=title]")).to_have_value("物流进度")
        expect(boss.get_by_test_id("canned-error")).to_have_count(0)
    finally:
        boss.context.close()

    handoff_id = _handoff(world, "web-canned-browser")
    HandoffQueue(world.factory).claim(handoff_id, agent_id=AGENT)
    agent = browser.new_context(locale="zh-CN").new_page()
    try:
        _sign_in(agent, world.url, AGENT)
        agent.goto(f"{world.url}/handoffs/{handoff_id}")
        agent.locator(".canned-reply", has_text="物流进度").click()
        expect(agent.get_by_test_id("reply-text")).to_have_value("您的包裹已发出，预计明天送达。")
    finally:
        agent.context.close()


def test_keyboard_shortcuts_claim_send_resolve_and_next_but_not_while_typing(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    _handoff(world, "web-keys-browser-1")  # someone is waiting
    page = browser.new_context(locale="zh-CN").new_page()
    try:
        _sign_in(page, world.url, AGENT)
        page.keyboard.press("?")
        help_box = page.get_by_test_id("shortcuts-help")
        expect(help_box).to_be_visible()
        expect(help_box).to_contain_text("键盘快捷键")
        expect(help_box).to_contain_text("Ctrl/⌘ + Enter")
        page.keyboard.press("Escape")
        expect(help_box).to_have_count(0)
        page.get_by_test_id("shortcuts-button").click()
        expect(page.get_by_test_id("shortcuts-help")).to_be_visible()
        page.keyboard.press("Escape")

        page.keyboard.press("n")  # next: the first waiting customer
        page.wait_for_url(lambda u: "/handoffs/" in u)
        opened = int(page.url.rsplit("/", 1)[1])
        expect(page.get_by_test_id("claim")).to_be_visible()
        with page.expect_navigation():
            page.keyboard.press("c")
        expect(page.get_by_test_id("reply-text")).to_be_visible()
        assert HandoffQueue(world.factory).get(opened).agent_id == AGENT

        box = page.get_by_test_id("reply-text")
        box.click()
        box.type("r c n")  # typing: no shortcut fires
        expect(box).to_have_value("r c n")
        assert HandoffQueue(world.factory).get(opened).status == "assigned"
        with page.expect_request(lambda r: r.url.endswith(f"/api/handoffs/{opened}/messages") and r.method == "POST") as sent:
            page.keyboard.press("Control+Enter")
        assert sent.value.post_data_json == {"text": "r c n"}
        page.get_by_test_id("note-text").click()
        page.keyboard.press("r")  # typing in the note box: no resolve
        page.locator("h1").click()  # leave the text field
        with page.expect_request(lambda r: r.url.endswith(f"/api/handoffs/{opened}/resolve") and r.method == "POST"):
            page.keyboard.press("r")
    finally:
        page.context.close()


def test_the_card_shows_the_customers_history_and_labels(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    handoff_id = _handoff(world, "web-context-browser", customer_id="C000002")
    HandoffQueue(world.factory).claim(handoff_id, agent_id=AGENT)
    page = browser.new_context(locale="en-US").new_page()
    try:
        _sign_in(page, world.url, AGENT)
        page.goto(f"{world.url}/handoffs/{handoff_id}")
        context = page.get_by_test_id("context")
        expect(context.get_by_test_id("context-tickets")).to_have_attribute("href", "/tickets?customer=C000002")
        expect(context.get_by_test_id("context-transcripts")).to_have_count(0)  # agents: no transcript review
        expect(context.locator("tr[data-conversation='web-context-browser']")).to_contain_text("current")
        context.get_by_test_id("label-input").fill("Refund Delay")
        context.get_by_test_id("label-add").click()
        expect(context.get_by_test_id("label-list")).to_contain_text("refund-delay")
        context.locator("button.label-remove[data-label='refund-delay']").click()
        expect(context.get_by_test_id("label-list")).not_to_contain_text("refund-delay")
    finally:
        page.context.close()


def test_a_supervisor_searches_transcripts_in_chinese(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    for cid, text in (("web-search-1", "我想查询退款进度，手机13812345678"), ("web-search-2", "发票怎么开")):
        ConversationLog(world.factory).touch(conversation_id=cid, channel="web", customer_id=None, language="zh",
                                             segment="guest", arm="neutral")
        TranscriptSearch(world.factory).index_events(cid, [{"event": "user", "text": text, "timestamp": 1.0}])
    page = browser.new_context(locale="zh-CN").new_page()
    try:
        _sign_in(page, world.url, BOSS)
        page.goto(f"{world.url}/supervisor/transcripts")
        page.get_by_test_id("search-box").fill("退款进度")
        with page.expect_navigation():
            page.get_by_test_id("apply-filters").click()
        expect(page.locator("tr[data-conversation='web-search-1']")).to_have_count(1)
        expect(page.locator("tr[data-conversation='web-search-2']")).to_have_count(0)
        expect(page.get_by_test_id("search-match")).to_contain_text("138****5678")
        expect(page.get_by_test_id("search-box")).to_have_value("退款进度")
    finally:
        page.context.close()
