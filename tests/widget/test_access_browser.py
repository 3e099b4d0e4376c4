"""The accessibility customer's widget in a real browser (Debian's Chromium) against the session's real
servers: larger text is on by default for a customer who declared a need (林晓梅, demo-access-zh, visual),
the customer's own choice wins over that default (and is kept across a reload), and a customer without
a declared need starts with the normal size. Screenshot: results/screenshots/widget-access-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "results" / "screenshots"
AGENT, PASSWORD, AGENT_NAME = "access-agent", "access-agent-pass", "小林"  # console_url (browser_fixtures)
ACCESS, OTHER = "C000901", "C000003"  # declared a visual need; no need declared (demo seed)


def _font_size(page: Any) -> float:
    return float(page.get_by_test_id("log").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def _open(page: Any, console_url: str, customer: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{console_url}/demo/shop?customer={customer}")
    page.get_by_test_id("launcher").click()
    expect(page.locator("#kic-chat-widget[data-identity=customer]")).to_be_attached()


def test_larger_text_is_on_by_default_for_a_declared_need_and_the_customers_choice_wins(
    console_url: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    other = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 900})
    context = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 900})
    try:
        plain = other.new_page()
        _open(plain, console_url, OTHER)
        expect(plain.get_by_test_id("larger-text")).to_have_attribute("aria-pressed", "false")
        normal = _font_size(plain)

        page = context.new_page()
        _open(page, console_url, ACCESS)
        toggle = page.get_by_test_id("larger-text")
        expect(toggle).to_have_attribute("aria-pressed", "true")  # nobody pressed it: the profile's default
        assert _font_size(page) >= normal * 1.25
        page.screenshot(path=str(SHOTS / "widget-access-01-larger-by-default.png"))

        toggle.click()  # the customer prefers the normal size: kept, and it wins over the default
        expect(toggle).to_have_attribute("aria-pressed", "false")
        assert _font_size(page) == normal
        page.reload()  # still open: the welcome (with the default) arrives again
        expect(page.get_by_test_id("launcher")).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#kic-chat-widget[data-identity=customer][data-state=open]")).to_be_attached()
        expect(page.get_by_test_id("larger-text")).to_have_attribute("aria-pressed", "false")
        assert _font_size(page) == normal
    finally:
        context.close()
        other.close()
