"""The availability switch and the transfer in a real browser (Playwright driving Debian's Chromium), over a
seeded file database (Rasa is not needed: the card shows the handoff package when the transcript is out
of reach, and a transfer never writes to the conversation)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from desk.handoffs import HandoffQueue
from desk.models import Agent, AgentAvailability, HandoffTransfer
from tests.desk.console.conftest import make_package
from tests.utils.browser import seeded_console, sign_in, wait_for

pytestmark = [pytest.mark.browser]
ANN, BOB, PASSWORD = "switch-ann", "switch-bob", "switch-agent-pass"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with seeded_console(tmp_path_factory.mktemp("teams"), [(ANN, PASSWORD, "agent", "小安"), (BOB, PASSWORD, "agent", "小博")]) as world:
        yield world


def _sign_in(page: Any, url: str, username: str) -> None:
    sign_in(page, url, username, PASSWORD)


def _status(factory: Any, username: str) -> str | None:
    with factory() as session:
        return session.scalars(select(AgentAvailability.status).join(Agent, Agent.id == AgentAvailability.agent_id)
                               .where(Agent.username == username)).first()


def test_the_availability_switch_is_persisted_and_signing_out_goes_offline(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, world.url, ANN)
        switch = page.get_by_test_id("availability")
        expect(switch).to_have_attribute("data-status", "offline")
        expect(switch.locator("option:checked")).to_have_text("离线")
        switch.select_option("online")
        expect(switch).to_have_attribute("data-status", "online")
        assert wait_for(lambda: _status(world.factory, ANN) == "online", timeout=5)
        page.reload()
        expect(page.get_by_test_id("availability")).to_have_attribute("data-status", "online")
        page.get_by_test_id("availability").select_option("away")
        assert wait_for(lambda: _status(world.factory, ANN) == "away", timeout=5)
        page.goto(f"{world.url}/tickets")  # the switch is on every page
        expect(page.get_by_test_id("availability")).to_have_attribute("data-status", "away")
        page.get_by_test_id("availability").select_option("online")
        assert wait_for(lambda: _status(world.factory, ANN) == "online", timeout=5)
        with page.expect_navigation():
            page.click("form[action='/logout'] button[type=submit]")
        assert _status(world.factory, ANN) == "offline"
        _sign_in(page, world.url, ANN)
        expect(page.get_by_test_id("availability")).to_have_attribute("data-status", "offline")
    finally:
        context.close()


def test_an_agent_transfers_a_conversation_to_a_colleague_with_a_private_note(world: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    ann_context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    bob_context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    ann, bob = ann_context.new_page(), bob_context.new_page()
    try:
        _sign_in(ann, world.url, ANN)
        _sign_in(bob, world.url, BOB)
        ann.get_by_test_id("availability").select_option("online")
        bob.get_by_test_id("availability").select_option("away")
        assert wait_for(lambda: (_status(world.factory, ANN), _status(world.factory, BOB)) == ("online", "away"),
                        timeout=5)
        handoff_id = HandoffQueue(world.factory).enqueue(
            conversation_id="web-transfer-browser", customer_id="C000001", channel="web", language="zh",
            reason="refund", priority=4, summary="陈*因「退款/退货」转人工。", package=make_package(), team="refunds").id
        # auto-assigned to the one agent online: it appears in her conversations at once
        row = ann.locator(f"#mine tr[data-id='{handoff_id}']")
        expect(row).to_be_visible(timeout=5000)
        expect(bob.locator(f"#mine tr[data-id='{handoff_id}']")).to_have_count(0)
        with ann.expect_navigation():
            row.get_by_role("link").click()
        expect(ann.get_by_test_id("team")).to_have_text("退款专员组")
        form = ann.get_by_test_id("transfer-form")
        expect(form).to_be_visible()
        form.get_by_test_id("transfer-agent").select_option(BOB)
        form.get_by_test_id("transfer-note").fill("客户已等候较久，请先致歉再核对退款金额")
        form.get_by_test_id("transfer-submit").click()
        expect(ann.locator("#notice")).to_have_text(f"已转接给 {BOB}")
        ann.wait_for_url(f"{world.url}/")
        expect(ann.get_by_test_id("mine")).not_to_contain_text(f"#{handoff_id}")
        # the receiver sees it at once in their conversations (live), and the note on the card
        row = bob.locator(f"#mine tr[data-id='{handoff_id}']")
        expect(row).to_be_visible(timeout=5000)
        with bob.expect_navigation():
            row.get_by_role("link").click()
        expect(bob.get_by_test_id("transfers")).to_contain_text("由 switch-ann 转来")
        expect(bob.get_by_test_id("transfer-note-shown")).to_have_text("客户已等候较久，请先致歉再核对退款金额")
        expect(bob.get_by_test_id("reply-text")).to_be_visible()  # bob holds it now
        with world.factory() as session:
            [audit] = session.scalars(select(HandoffTransfer).where(HandoffTransfer.handoff_id == handoff_id)).all()
            assert (audit.from_agent, audit.to_agent) == (ANN, BOB)
    finally:
        ann_context.close()
        bob_context.close()
