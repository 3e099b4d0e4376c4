"""The widget in a real browser (Playwright driving Debian's Chromium) on the demo shop page, against
the session's real Rasa server and action server (tests/integration/conftest.py): a signed-in
customer is greeted by name, picks an order with a quick reply, reloads and gets the conversation
back, asks for a refund, and an agent's reply (sent through the console's HTTP API) arrives in the
widget; keyboard-only use; the larger-text mode and an expired sign-in. Screenshots:
results/screenshots/widget-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from desk.models import Feedback, Handoff
from tests.integration.conftest import Assistant
from tests.utils.browser import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "results" / "screenshots"
AGENT, PASSWORD, AGENT_NAME = "widget-agent", "widget-agent-pass", "小王"  # console_url (conftest) signs this agent up
BOT_WAIT = 60_000


class AgentClient:
    """A signed-in agent on the console's HTTP API (what the console's pages call)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        page = self.http.get("/login", headers={"Accept": "text/html"})
        token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
        signed_in = self.http.post("/login", data={"username": AGENT, "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code in (200, 303), signed_in.text
        home = self.http.get("/", headers={"Accept": "text/html"})
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
        self.http.headers.update({"X-CSRF-Token": csrf, "Accept": "application/json"})

    def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.post(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return dict(response.json())


def shadow_focus(page: Any) -> str | None:
    """data-testid of the element focused inside the widget, if the focus is there."""
    return page.evaluate(
        "() => { const h = document.getElementById('kic-chat-widget');"
        " const a = h && document.activeElement === h ? h.shadowRoot.activeElement : null;"
        " return a ? (a.dataset.testid || a.className) : null; }"
    )


def test_a_signed_in_customer_chats_reloads_and_gets_an_agents_reply(
    assistant: Assistant, console_url: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    conversation = "web-C000001"  # 陈静, a VIP customer with several orders, signed in on the shop (an elderly customer is shown her latest order at once: tests/integration/test_status_language.py)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 860})
    page = context.new_page()
    try:
        page.goto(f"{console_url}/demo/shop?customer=C000001")
        expect(page.get_by_test_id("shop-user")).to_contain_text("C000001")
        launcher = page.get_by_test_id("launcher")
        expect(launcher).to_have_attribute("aria-expanded", "false")
        # the launcher's icon is inline SVG (an emoji is an empty box where no emoji font is installed)
        expect(launcher.locator("svg[data-icon=chat]")).to_have_count(1)
        assert not re.search("[\U0001F300-\U0001FAFF\u2B50]", launcher.inner_text())
        page.screenshot(path=str(SHOTS / "widget-01-shop.png"))
        launcher.click()
        expect(launcher).to_have_attribute("aria-expanded", "true")
        log = page.get_by_test_id("log")
        expect(log).to_have_attribute("role", "log")
        expect(log).to_have_attribute("aria-live", "polite")
        expect(page.locator("#kic-chat-widget[data-identity=customer]")).to_be_attached()
        expect(log.locator("li.intro")).to_contain_text("在线客服助手")  # the widget's own welcome, in Chinese

        # greeted by name
        page.get_by_test_id("input").fill("你好")
        page.get_by_test_id("input").press("Enter")
        expect(log.locator("li.from-customer")).to_have_text(re.compile("你好"))
        expect(log.locator("li.from-bot").last).to_contain_text("陈静", timeout=BOT_WAIT)
        expect(log.locator("li.pending")).to_have_count(0)
        page.screenshot(path=str(SHOTS / "widget-02-greeted-by-name.png"))

        # order choices as quick replies, chosen with the keyboard
        page.get_by_test_id("input").fill("我的订单到哪了")
        page.get_by_test_id("input").press("Enter")
        choice = log.locator("button.quick-reply").first
        expect(choice).to_be_visible(timeout=BOT_WAIT)
        order_id = choice.inner_text()
        assert re.fullmatch(r"E\d{11}", order_id), order_id
        choice.focus()
        page.keyboard.press("Enter")
        expect(log.locator("li.from-customer").last).to_contain_text(order_id)
        expect(choice).to_be_disabled()
        status = log.locator("li.from-bot:not(:has(.quick))", has_text=order_id)  # the order's status
        expect(status.first).to_be_visible(timeout=BOT_WAIT)
        expect(page.locator("#kic-chat-widget[data-typing=false]")).to_be_attached(timeout=BOT_WAIT)
        page.screenshot(path=str(SHOTS / "widget-03-order-buttons.png"))
        lines_before = log.locator("li.msg").count()

        # a reload brings the conversation back (from the Rasa tracker)
        page.reload()
        log = page.get_by_test_id("log")
        expect(page.get_by_test_id("launcher")).to_have_attribute("aria-expanded", "true")  # still open
        expect(log.locator("li[data-history=true]").first).to_be_visible(timeout=10_000)
        expect(log).to_contain_text("你好")
        expect(log).to_contain_text("陈静")
        expect(log.locator("li.from-customer").last).to_contain_text(order_id)  # the button's title, not /inform
        assert log.locator("li.msg").count() == lines_before - 1  # the same lines, without the widget's welcome
        page.screenshot(path=str(SHOTS / "widget-04-history-after-reload.png"))

        # a refund goes to a human; the agent claims it and replies through the console's API
        before = log.locator("li.from-bot").count()
        page.get_by_test_id("input").fill("我要退款，东西不想要了")
        page.get_by_test_id("input").press("Enter")
        expect(log.locator("li.from-bot")).not_to_have_count(before, timeout=BOT_WAIT)  # "you are in the queue"

        def queued() -> Handoff | None:
            with assistant.session_factory() as session:
                return session.scalars(
                    select(Handoff).where(Handoff.conversation_id == conversation, Handoff.status == "queued")
                ).first()

        handoff = wait_for(queued)
        assert handoff is not None and handoff.reason == "refund" and handoff.channel == "web"
        assert handoff.customer_id == "C000001"
        page.screenshot(path=str(SHOTS / "widget-05-handoff-queued.png"))
        agent = AgentClient(console_url)
        agent.post(f"/api/handoffs/{handoff.id}/claim")
        sent = agent.post(f"/api/handoffs/{handoff.id}/messages", json={"text": "陈女士您好，我是小王，这就帮您办理退款。"})
        assert sent["delivered"] is True
        agent_line = log.locator("li.from-agent")
        expect(agent_line).to_contain_text("这就帮您办理退款", timeout=5_000)
        expect(agent_line).to_contain_text("小王")
        page.screenshot(path=str(SHOTS / "widget-06-agent-reply.png"))

        # the customer answers the agent; the agent resolves; the bot asks for a rating (CSAT buttons)
        page.get_by_test_id("input").fill("好的，谢谢")
        page.get_by_test_id("input").press("Enter")
        expect(log.locator("li.pending")).to_have_count(0, timeout=10_000)
        agent.post(f"/api/handoffs/{handoff.id}/resolve")
        rating = log.locator("li.from-bot").last.locator("button.quick-reply")
        expect(rating.first).to_be_visible(timeout=10_000)
        # five rating buttons drawn with SVG stars (1 to 5 of them), read as their number, no emoji text
        expect(rating).to_have_count(5)
        expect(rating.last.locator("svg[data-icon=star]")).to_have_count(5)
        expect(rating.first.locator("svg[data-icon=star]")).to_have_count(1)
        expect(rating.last).to_have_attribute("aria-label", "5")
        assert "\u2B50" not in rating.last.inner_text()
        page.screenshot(path=str(SHOTS / "widget-07-rating.png"))
        rating.last.click()  # the highest score; the bot then offers to take a comment, which we skip
        skip = log.locator("li.from-bot").last.locator("button.quick-reply:not([disabled])")
        expect(skip.last).to_be_visible(timeout=BOT_WAIT)
        skip.last.click()

        def rated() -> Feedback | None:
            with assistant.session_factory() as session:
                return session.scalars(select(Feedback).where(Feedback.conversation_id == conversation,
                                                              Feedback.rating.is_not(None))).first()

        feedback = wait_for(rated)
        assert feedback is not None and feedback.rating == 5 and feedback.handoff_id == handoff.id
        page.screenshot(path=str(SHOTS / "widget-08-rated.png"))
    finally:
        context.close()


def test_a_guest_uses_the_widget_with_the_keyboard_only(console_url: str, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="en-US", viewport={"width": 1000, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{console_url}/demo/shop?customer=guest")
        launcher = page.get_by_test_id("launcher")
        expect(launcher).to_have_attribute("aria-label", "Open the chat")  # English from the browser language
        for _ in range(12):  # Tab through the shop page to the chat button
            page.keyboard.press("Tab")
            if shadow_focus(page) == "launcher":
                break
        assert shadow_focus(page) == "launcher"
        page.keyboard.press("Enter")
        expect(launcher).to_have_attribute("aria-expanded", "true")
        assert shadow_focus(page) == "input"  # the focus moves into the chat
        page.keyboard.type("hello")
        page.keyboard.press("Enter")
        log = page.get_by_test_id("log")
        expect(log.locator("li.from-bot:not(.intro)").first).to_be_visible(timeout=BOT_WAIT)
        expect(page.locator("#kic-chat-widget[data-identity=guest]")).to_be_attached()
        expect(page.get_by_test_id("typing")).to_have_text("")
        guest = page.evaluate("() => localStorage.getItem('kic-chat:guest')")
        assert re.fullmatch(r"wg-[0-9a-f]{32}", guest or "")
        page.keyboard.press("Shift+Tab")  # back from the text box: the conversation, then the header buttons
        assert shadow_focus(page) == "log"
        page.keyboard.press("Shift+Tab")
        assert shadow_focus(page) == "close"
        page.keyboard.press("Shift+Tab")
        assert shadow_focus(page) == "larger-text"
        page.screenshot(path=str(SHOTS / "widget-09-keyboard.png"))
        page.keyboard.press("Escape")  # closes and gives the focus back to the chat button
        expect(launcher).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_test_id("input")).to_be_hidden()
        assert shadow_focus(page) == "launcher"
        page.keyboard.press("Enter")
        assert shadow_focus(page) == "input"
        page.keyboard.press("Tab")
        assert shadow_focus(page) == "send"
    finally:
        context.close()


def test_larger_text_is_remembered_and_an_expired_sign_in_chats_as_a_guest(console_url: str, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{console_url}/demo/shop?customer=expired")
        page.get_by_test_id("launcher").click()
        expect(page.get_by_test_id("notices")).to_contain_text("以访客身份")
        expect(page.locator("#kic-chat-widget[data-identity=guest]")).to_be_attached()

        def font_size() -> float:
            return float(page.get_by_test_id("log").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))

        normal = font_size()
        toggle = page.get_by_test_id("larger-text")
        expect(toggle).to_have_attribute("aria-pressed", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        assert font_size() >= normal * 1.25
        page.screenshot(path=str(SHOTS / "widget-10-larger-text.png"))
        page.reload()
        expect(page.get_by_test_id("larger-text")).to_have_attribute("aria-pressed", "true")
        assert font_size() >= normal * 1.25
        page.get_by_test_id("larger-text").click()
        assert font_size() == normal
    finally:
        context.close()
