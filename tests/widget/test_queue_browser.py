"""Leaving the queue from the widget (issue 10 item 3), in a real browser against the session's real
servers: a signed-in customer asks for a person, asks how long, adds a line that the agent sees appear
live on the handoff card (the console page open in a second tab), then cancels; the handoff ends as
cancelled and the bot answers the next line. Screenshots: results/screenshots/queue-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desk.models import Handoff
from tests.integration.conftest import Assistant
from tests.utils.browser import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "results" / "screenshots"
AGENT, PASSWORD, AGENT_NAME = "queue-widget-agent", "queue-widget-pass", "Queue"  # console_url (conftest) signs this agent up
BOT_WAIT = 60_000


def _say(page: Any, text: str) -> None:
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("input").press("Enter")


def test_a_customer_leaves_the_queue_from_the_widget(assistant: Assistant, console_url: str, browser: Any) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    conversation = "web-C000004"  # James Wilson, English, signed in on the shop
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 860})
    page = context.new_page()
    desk = context.new_page()
    try:
        page.goto(f"{console_url}/demo/shop?customer=C000004")
        page.get_by_test_id("launcher").click()
        log = page.get_by_test_id("log")
        _say(page, "I want to talk to a real person")

        def queued() -> Handoff | None:
            with assistant.session_factory() as session:
                return session.scalars(
                    select(Handoff).where(Handoff.conversation_id == conversation, Handoff.status == "queued")
                ).first()

        handoff = wait_for(queued, timeout=90)
        assert handoff is not None and handoff.channel == "web"
        expect(page.locator("#kic-chat-widget[data-typing=false]")).to_be_attached(timeout=BOT_WAIT)

        # the agent opens the handoff card in the console
        desk.goto(f"{console_url}/login")
        desk.fill("input[name=username]", AGENT)
        desk.fill("input[name=password]", PASSWORD)
        desk.click("button[type=submit]")
        desk.goto(f"{console_url}/handoffs/{handoff.id}")
        expect(desk.get_by_test_id("customer-notes-box")).to_be_hidden()

        before = log.locator("li.from-bot").count()
        _say(page, "how long?")
        expect(log.locator("li.from-bot")).not_to_have_count(before, timeout=BOT_WAIT)
        expect(log.locator("li.from-bot").last).to_contain_text(re.compile(r"number \d+ in the queue"))

        _say(page, "It's about the blue jacket, size M please")
        expect(log.locator("li.from-bot").last).to_contain_text("added for the agent", timeout=BOT_WAIT)
        notes = desk.get_by_test_id("customer-notes")
        expect(notes).to_contain_text("blue jacket, size M", timeout=15_000)  # live, without a reload
        page.screenshot(path=str(SHOTS / "queue-01-waiting.png"))
        desk.screenshot(path=str(SHOTS / "queue-02-card-notes.png"))

        _say(page, "never mind, cancel the agent")
        expect(log.locator("li.from-bot").last).to_contain_text("out of the queue", timeout=BOT_WAIT)
        with assistant.session_factory() as session:
            assert session.get(Handoff, handoff.id).status == "cancelled"
        expect(desk.locator("#status")).to_have_text(re.compile("left the queue"), timeout=15_000)
        page.screenshot(path=str(SHOTS / "queue-03-left.png"))

        before = log.locator("li.from-bot").count()
        _say(page, "hello")
        expect(log.locator("li.from-bot")).not_to_have_count(before, timeout=BOT_WAIT)  # the bot is back
    finally:
        context.close()
