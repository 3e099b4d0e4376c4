"""Alerts in a real browser (Playwright driving Debian's Chromium) against the session's real servers:
an agent signed in to the console, with the tab in the background, hears a tone and gets
a browser notification when a handoff arrives, and the tab title counts the waiting customers. The
page's AudioContext and Notification are replaced by recorders, so the calls are observed."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from desk.handoffs import HandoffQueue
from desk.models import HandoffReason
from tests.integration.conftest import Assistant

pytestmark = [pytest.mark.integration, pytest.mark.browser]
AGENT, PASSWORD, AGENT_NAME = "alerts-agent", "alerts-agent-pass", "提醒测试"

# the tab is in the background; Notification asks for permission (the answer is kept across pages); both the tone and notifications are recorded
RECORDERS = """
Object.defineProperty(document, "hidden", {get: () => true});
window.__calls = {tones: 0, notifications: [], asked: 0};
class FakeNotification {
  constructor(title, options) { window.__calls.notifications.push({title, body: (options || {}).body}); }
  close() {}
}
FakeNotification.permission = localStorage.getItem("test.granted") ? "granted" : "default";
FakeNotification.requestPermission = () => {
  window.__calls.asked += 1; FakeNotification.permission = "granted"; localStorage.setItem("test.granted", "1");
  return Promise.resolve("granted");
};
window.Notification = FakeNotification;
class FakeAudio {
  constructor() { this.currentTime = 0; this.destination = {}; }
  createOscillator() {
    return {frequency: {}, connect: (n) => n, start: () => { window.__calls.tones += 1; }, stop: () => {}};
  }
  createGain() { return {gain: {}, connect: (n) => n}; }
}
window.AudioContext = FakeAudio;
"""





def test_a_new_handoff_sounds_notifies_and_counts_in_the_title(
    assistant: Assistant, console_url: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="en-US")
    context.add_init_script(RECORDERS)
    page = context.new_page()
    try:
        page.goto(f"{console_url}/login")
        page.fill("input[name=username]", AGENT)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        expect(page.get_by_test_id("queued")).to_be_visible()
        page.wait_for_function("() => typeof DeskQueue === 'object'")

        # the permission is asked once, on the agent's first click, never again (not after a reload either)
        page.click("h1")
        page.click("h1")
        page.wait_for_function("() => window.__calls.asked === 1")
        page.reload()
        page.click("h1")
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__calls.asked") == 0  # counted per page: this page asked nothing

        page.wait_for_timeout(500)  # the first snapshot is drawn without an alert
        assert page.evaluate("() => window.__calls.tones") == 0
        handoff = HandoffQueue(assistant.session_factory).enqueue(
            conversation_id=f"web-alert-{uuid.uuid4().hex[:8]}", customer_id=None, channel="web", language="en",
            reason=HandoffReason.REFUND, priority=2, summary="refund please", package={},
        )
        try:
            page.wait_for_function("() => window.__calls.tones > 0", timeout=5_000)
            notes = page.evaluate("() => window.__calls.notifications")
            assert any(n["title"] == "New handoff waiting" and f"#{handoff.id}" in n["body"] for n in notes), notes
            waiting = page.locator("#queued tbody tr").count()
            expect(page).to_have_title(re.compile(rf"^\({waiting}\) "))
        finally:
            HandoffQueue(assistant.session_factory).cancel_by_customer(handoff.id)
    finally:
        context.close()
