"""The supervisor pages no other browser test opens, in a real browser (Playwright driving Debian's
Chromium), each in Chinese and in English with its real content and one interaction: the agent and QA
reports (filter by agent), console users and teams (capacity and members saved), the low-CSAT follow-ups
(closing one with a note), and the SLA and weekly reports in English (the Chinese pass is in
test_sla_browser.py). The console runs over a seeded file database (no Rasa needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from desk.agents import AgentStore
from desk.conversations import ConversationLog
from desk.handoffs import HandoffQueue
from desk.review import CRITERIA, ReviewStore
from desk.search import TranscriptSearch
from desk.teams import TeamDesk
from desk.tickets import TicketStore
from desk.weekly_report import WeeklyReports, last_complete_week
from profiles.vault import PiiVault
from tests.desk.console.conftest import make_package
from tests.utils.browser import seeded_console, wait_for

pytestmark = [pytest.mark.browser]
AGENT, BOSS, PASSWORD = "pages-agent", "pages-boss", "pages-agent-pass"
COLLEAGUE = "pages-colleague"
LOCALES = {"zh": "zh-CN", "en": "en-US"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    def prepare(factory: Any) -> None:
        WeeklyReports(factory).generate(last_complete_week(datetime.utcnow()))
        _chats(factory)

    users = [(AGENT, PASSWORD, "agent", "小页"), (BOSS, PASSWORD, "supervisor", "主管")]
    with seeded_console(tmp_path_factory.mktemp("pages"), users, prepare) as world:
        yield world


def _chats(factory: Any) -> None:
    """Chats handled this week: two by the agent (one reviewed), one by a colleague."""
    queue = HandoffQueue(factory)
    for i, agent in enumerate((AGENT, AGENT, COLLEAGUE)):
        conversation = f"web-pages-report-{i}"
        ConversationLog(factory).touch(conversation_id=conversation, channel="web", customer_id=None, language="zh",
                                       segment="guest", arm="neutral")
        handoff = queue.enqueue(conversation_id=conversation, customer_id=None, channel="web", language="zh",
                                reason="refund", priority=4, summary="客户询问退款进度", package=make_package())
        queue.claim(handoff.id, agent_id=agent)
        queue.resolve(handoff.id)
    ReviewStore(factory, vault=PiiVault(factory, secret="k" * 32)).add_review(
        conversation_id="web-pages-report-0", reviewer=BOSS, scores=dict.fromkeys(CRITERIA, 4), notes=None)


def _boss(browser: Any, url: str, lang: str) -> Any:
    page = browser.new_context(locale=LOCALES[lang], viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", BOSS)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    return page


WORDS = {
    "zh": {"reports": "坐席与质检报表", "agents_h2": "坐席表现", "qa": "质检得分周趋势", "users": "坐席账号",
           "teams": "团队", "refunds": "退款专员组", "offline": "离线", "capacity_saved": "接待上限已保存",
           "team_saved": "团队成员已保存", "followups": "低分回访", "open": "待处理", "closed_by": "关闭人"},
    "en": {"reports": "Agent and QA reports", "agents_h2": "Agents", "qa": "QA scores by week", "users": "Console users",
           "teams": "Teams", "refunds": "Refund specialists", "offline": "Offline", "capacity_saved": "Capacity saved",
           "team_saved": "Team members saved", "followups": "Low-CSAT follow-ups", "open": "Open",
           "closed_by": "Closed by"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_agent_and_qa_reports_filter_by_agent(world: Any, browser: Any, lang: str) -> None:
    from playwright.sync_api import expect

    w = WORDS[lang]
    page = _boss(browser, world.url, lang)
    try:
        page.goto(f"{world.url}/supervisor/dashboard")
        page.get_by_test_id("nav-reports").click()
        expect(page.locator("h1")).to_have_text(w["reports"])
        expect(page.locator("h2").first).to_have_text(w["agents_h2"])
        mine = page.locator(f"[data-testid=agent-report] tr[data-agent='{AGENT}']")
        expect(mine.locator("[data-col=handled]")).to_have_text("2")
        expect(mine.locator("[data-col=resolved]")).to_have_text("2")
        expect(mine.locator("[data-col=qa_empathy]")).to_have_text("4.00")
        expect(page.locator(f"[data-testid=agent-report] tr[data-agent='{COLLEAGUE}'] [data-col=handled]")).to_have_text("1")
        first = AGENT
        page.locator("[data-testid=report-filters] select[name=agent]").select_option(first)
        with page.expect_navigation():
            page.locator("[data-testid=report-filters] button[type=submit]").click()
        assert f"agent={first}" in page.url
        expect(page.locator("h2").nth(1)).to_have_text(f"{w['qa']} · {first}")
        expect(page.locator("[data-testid=qa-weekly] tbody tr[data-week] [data-col=qa_accuracy]")).to_have_text("4.00")
        expect(page.get_by_test_id("qa-csv")).to_have_attribute("href", re.compile(rf"agent={AGENT}"))
        qa_csv = page.get_by_test_id("qa-csv").get_attribute("href")
        response = page.request.get(f"{world.url}{qa_csv}")
        lines = response.text().lstrip("\ufeff").splitlines()
        assert response.ok and lines[0].startswith("week,reviews,qa_accuracy") and lines[1].endswith(",1,4,4,4"), lines
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_console_users_and_teams_save_capacity_and_members(world: Any, browser: Any, lang: str) -> None:
    from playwright.sync_api import expect

    w = WORDS[lang]
    page = _boss(browser, world.url, lang)
    try:
        page.get_by_role("link", name=w["users"]).click()
        expect(page.locator("h1")).to_have_text(w["users"])
        row = page.locator(f"[data-testid=agents] tr[data-agent='{AGENT}']")
        expect(row).to_contain_text("小页")
        expect(row.get_by_test_id("agent-status")).to_have_text(w["offline"])
        expect(page.locator("h2")).to_have_text(w["teams"])
        refunds = page.locator("[data-testid=teams] tr[data-team=refunds]")
        expect(refunds).to_contain_text(w["refunds"])

        capacity = 5 if lang == "zh" else 2
        row.get_by_test_id("capacity").fill(str(capacity))
        row.get_by_role("button").click()
        expect(page.locator("#notice")).to_have_text(w["capacity_saved"])
        assert wait_for(lambda: any(a.username == AGENT and a.capacity == capacity
                                    for a in AgentStore(world.factory).roster()), timeout=5)
        page.reload()
        expect(page.locator(f"tr[data-agent='{AGENT}'] [data-testid=capacity]")).to_have_value(str(capacity))

        members = refunds.get_by_test_id("members")
        members.fill(f"{AGENT}，{BOSS}")  # a Chinese comma is a separator too
        refunds.get_by_role("button").click()
        expect(page.locator("#notice")).to_have_text(w["team_saved"])
        expect(members).to_have_value(f"{AGENT}, {BOSS}")
        desk = TeamDesk(world.factory, HandoffQueue(world.factory), AgentStore(world.factory))
        team = next(t for t in desk.teams() if t.name == "refunds")
        assert sorted(team.members) == sorted([AGENT, BOSS])
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_supervisor_closes_a_low_csat_followup_with_a_note(world: Any, browser: Any, lang: str) -> None:
    from playwright.sync_api import expect

    w = WORDS[lang]
    store = TicketStore(world.factory, clock=lambda: datetime.utcnow() - timedelta(days=2))
    ticket = store.open_followup(customer_id="C000003", conversation_id=f"web-followup-pages-{lang}", channel="web",
                                 subject="评分 1：等太久", due_in=timedelta(days=1)).id  # due yesterday: overdue
    page = _boss(browser, world.url, lang)
    try:
        page.goto(f"{world.url}/supervisor/transcripts")
        page.get_by_test_id("review-nav").get_by_role("link", name=w["followups"]).click()
        expect(page.locator("h1")).to_have_text(w["followups"])
        row = page.locator(f"[data-testid=followups] tr[data-ticket='{ticket}']")
        expect(row).to_contain_text(f"web-followup-pages-{lang}")
        expect(row.get_by_test_id("overdue")).to_be_visible()
        expect(row.locator("td").nth(5)).to_have_text(w["open"])  # the status in the page's language
        row.locator("input[name=note]").fill("已回电致歉")
        with page.expect_navigation():
            row.get_by_role("button").click()
        row = page.locator(f"[data-testid=followups] tr[data-ticket='{ticket}']")
        expect(row).to_contain_text(f"{w['closed_by']} {BOSS}: 已回电致歉")
        expect(row.locator("input[name=note]")).to_have_count(0)
    finally:
        page.context.close()


def test_the_sla_and_weekly_reports_in_english(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    page = _boss(browser, world.url, "en")
    try:
        page.goto(f"{world.url}/supervisor/dashboard")
        page.get_by_test_id("nav-sla").click()
        expect(page.get_by_test_id("sla-table")).to_be_visible()
        page.select_option("[data-testid=sla-by]", "sla_class")
        page.click("[data-testid=sla-apply]")
        table = page.get_by_test_id("sla-table")
        expect(table).to_contain_text("VIP")
        expect(table).not_to_contain_text("VIP 客户")
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in table.locator("thead").inner_text())
        page.get_by_test_id("nav-weekly").click()
        page.locator("[data-testid=weekly-weeks] a").first.click()
        expect(page.get_by_test_id("weekly-cards")).to_be_visible()
        heading = page.get_by_test_id("weekly-heading").inner_text()
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in heading), heading
        csv_url = page.get_by_test_id("weekly-csv").get_attribute("href")
        response = page.request.get(f"{world.url}{csv_url}")
        assert response.ok and len(response.text().splitlines()) > 1
    finally:
        page.context.close()


def test_a_supervisor_searches_transcripts_in_english(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    for cid, text in (("web-pages-search-1", "Where is my refund? call me on 13812345678"),
                      ("web-pages-search-2", "How do I get an invoice")):
        ConversationLog(world.factory).touch(conversation_id=cid, channel="web", customer_id=None, language="en",
                                             segment="guest", arm="neutral")
        TranscriptSearch(world.factory).index_events(cid, [{"event": "user", "text": text, "timestamp": 1.0}])
    page = _boss(browser, world.url, "en")
    try:
        page.get_by_test_id("nav-review").click()
        page.get_by_test_id("search-box").fill("refund")
        with page.expect_navigation():
            page.get_by_test_id("apply-filters").click()
        expect(page.locator("tr[data-conversation='web-pages-search-1']")).to_have_count(1)
        expect(page.locator("tr[data-conversation='web-pages-search-2']")).to_have_count(0)
        expect(page.get_by_test_id("search-match")).to_contain_text("138****5678")
        expect(page.get_by_test_id("search-match")).not_to_contain_text("13812345678")
    finally:
        page.context.close()


def test_an_agent_labels_a_conversation_on_the_card_in_chinese(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    queue = HandoffQueue(world.factory)
    ConversationLog(world.factory).touch(conversation_id="web-pages-labels", channel="web", customer_id="C000002",
                                         language="zh", segment="important_value", arm="neutral")
    handoff = queue.enqueue(conversation_id="web-pages-labels", customer_id="C000002", channel="web", language="zh",
                            reason="refund", priority=4, summary="客户询问退款进度", package=make_package())
    queue.claim(handoff.id, agent_id=AGENT)
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}).new_page()
    try:
        page.goto(f"{world.url}/login")
        page.fill("input[name=username]", AGENT)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        row = page.locator(f"#mine tr[data-id='{handoff.id}']")
        with page.expect_navigation():
            row.get_by_role("link").click()
        context = page.get_by_test_id("context")
        expect(context.locator("tr[data-conversation='web-pages-labels']")).to_contain_text("当前")
        context.get_by_test_id("label-input").fill("退款 延迟")
        context.get_by_test_id("label-add").click()
        expect(context.get_by_test_id("label-list")).to_contain_text("退款-延迟")
        page.reload()
        expect(page.get_by_test_id("context").get_by_test_id("label-list")).to_contain_text("退款-延迟")
    finally:
        page.context.close()
