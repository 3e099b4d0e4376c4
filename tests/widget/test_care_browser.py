"""The widget's menu in a real browser (Debian's Chromium) against the session's real servers: the signed-in
customer's transparency page (masked, in their language) and the one-tap personalisation and opt-out quick
replies, each stored as the customer's consent choice. Screenshots: results/screenshots/widget-care-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from profiles.models import Consent
from tests.integration.conftest import Assistant
from tests.utils.browser import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "results" / "screenshots"
AGENT, PASSWORD, AGENT_NAME = "care-agent", "care-agent-pass", "小李"  # console_url (conftest) signs this agent up
BOT_WAIT = 60_000
CUSTOMER = "C000004"  # James Wilson, English, a new customer (demo seed)


def _consent(assistant: Assistant) -> tuple[bool, str, bool]:
    with assistant.session_factory() as session:
        consent = session.get(Consent, CUSTOMER)
        return consent.personalization, consent.intensity, consent.marketing


def test_the_transparency_page_and_the_intensity_quick_replies(assistant: Assistant, console_url: str,
                                                                 browser: Any) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    saved = _consent(assistant)
    context = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{console_url}/demo/shop?customer={CUSTOMER}&lang=en")
        page.get_by_test_id("launcher").click()
        expect(page.locator("#kic-chat-widget[data-identity=customer]")).to_be_attached()
        menu = page.get_by_test_id("menu")
        expect(menu).to_have_attribute("aria-expanded", "false")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_test_id("menu-panel")).to_be_visible()

        # the transparency page: what is used, what it changes, how to change it; nothing personal shown
        page.get_by_test_id("my-data").click()
        panel = page.get_by_test_id("my-data-panel")
        expect(panel.locator("li").first).to_be_visible(timeout=10_000)
        assert panel.locator("li").count() >= 5
        text = panel.inner_text()
        assert "How we use your information" in text and re.search(r"order", text, re.I)
        assert "James" not in text and "Wilson" not in text and not re.search(r"E\d{11}|\d{11}", text)
        assert not re.search(r"[\u4e00-\u9fff]", text)  # English for an English page
        level = _consent(assistant)[1]
        expect(page.get_by_test_id("my-data-level")).to_contain_text(
            {"low": "Only the essentials", "medium": "Standard", "high": "More suggestions"}[level])
        page.screenshot(path=str(SHOTS / "widget-care-01-my-data.png"))

        # one tap: "only the essentials" (low) is stored as the customer's choice, and confirmed in chat
        log = page.get_by_test_id("log")
        before = log.locator("li.from-bot").count()
        page.get_by_test_id("intensity-low").click()
        expect(page.get_by_test_id("menu-panel")).to_be_hidden()
        expect(log.locator("li.from-customer").last).to_have_text(re.compile("Only the essentials"))
        expect(log.locator("li.from-bot")).not_to_have_count(before, timeout=BOT_WAIT)
        assert wait_for(lambda: _consent(assistant)[1] == "low", 20), _consent(assistant)
        page.screenshot(path=str(SHOTS / "widget-care-02-low.png"))

        # "more suggestions" (high: offers and proactive care allowed)
        page.get_by_test_id("menu").click()
        before = log.locator("li.from-bot").count()
        page.get_by_test_id("intensity-high").click()
        expect(log.locator("li.from-bot")).not_to_have_count(before, timeout=BOT_WAIT)
        assert wait_for(lambda: _consent(assistant)[1] == "high", 20), _consent(assistant)

        # the panel now says so
        page.get_by_test_id("menu").click()
        page.get_by_test_id("my-data").click()
        expect(page.get_by_test_id("my-data-level")).to_contain_text("More suggestions", timeout=10_000)

        # "stop messaging me": the opt-out
        before = log.locator("li.from-bot").count()
        page.get_by_test_id("opt-out").click()
        expect(log.locator("li.from-customer").last).to_have_text(re.compile("Stop messaging me"))
        expect(log.locator("li.from-bot")).not_to_have_count(before, timeout=BOT_WAIT)
        assert wait_for(lambda: _consent(assistant)[2] is False, 20), _consent(assistant)
        page.screenshot(path=str(SHOTS / "widget-care-03-opted-out.png"))

        # the quick replies are reachable with the keyboard
        page.get_by_test_id("menu").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("menu-panel")).to_be_visible()
    finally:
        context.close()
        with assistant.session_factory.begin() as session:
            consent = session.get(Consent, CUSTOMER)
            consent.personalization, consent.intensity, consent.marketing = saved
