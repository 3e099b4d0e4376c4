"""The lifecycle service for the demo cast against the real servers (the session's Rasa server and action
server, a console in a thread on the same database):

* the dormant customer (``demo-dormant-en``, intensity high) greeted twice gets one welcome-back offer: one
  row in ``offers``, its code said once, and the supervisors' dashboard counts it in its offers card;
* the accessibility customer (``demo-access-zh``, a declared visual need) asking for a person: the handoff
  card the agent opens shows the need;
* the same dormant customer's birthday (three days after the seed's day): the care scheduler, with an
  injected clock, plans a birthday message for her on the day at noon, waits in quiet hours, and plans none
  when she lowers her intensity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from desk.care import BIRTHDAY, INTENSITY, QUIET_HOURS, SEND, CareRules, CareScheduler, CareStore
from desk.models import Handoff, ProactiveMessage
from profiles.models import Consent, Customer, Offer
from tests.integration.conftest import Assistant
from tests.integration.test_conversations import as_customer
from tests.integration.test_queue_live import AgentClient
from tests.utils.browser import ensure_agent, running_console, wait_for

BOSS, BOSS_PASSWORD = "lifecycle-boss", "lifecycle-boss-2026"
DORMANT, ACCESS = "C000902", "C000901"
CODE = re.compile(r"\bWB[0-9A-F]{8}\b")


@pytest.fixture(scope="module")
def console(assistant: Assistant) -> Iterator[str]:
    ensure_agent(assistant, BOSS, BOSS_PASSWORD, "生命周期主管", role="supervisor")
    with running_console(assistant) as url:
        yield url


def _offers(assistant: Assistant, customer: str) -> list[Offer]:
    with assistant.session_factory() as s:
        return list(s.scalars(sa.select(Offer).where(Offer.customer_id == customer).order_by(Offer.id)))


def _card(boss: AgentClient) -> dict[tuple[str, str | None], tuple[int, int]]:
    return {(r["kind"], r["arm"]): (r["issued"], r["redeemed"]) for r in boss.get("/supervisor/api/dashboard")["offers"]}


def test_the_dormant_customer_greeted_twice_gets_one_welcome_back_offer_on_the_dashboard(
    assistant: Assistant, console: str
) -> None:
    with assistant.session_factory.begin() as s:  # another test of the session may have greeted her already
        s.execute(sa.delete(Offer).where(Offer.customer_id == DORMANT))
    boss = AgentClient(console, BOSS, BOSS_PASSWORD)
    before = _card(boss)
    try:
        first = " ".join(assistant.texts(as_customer(assistant, "demo-dormant-en"), "hi there"))
        second = " ".join(assistant.texts(as_customer(assistant, "demo-dormant-en"), "hello"))
        [offer] = _offers(assistant, DORMANT)
        assert offer.kind == "welcome_back" and offer.redeemed_at is None and offer.reason == "at_risk"
        assert offer.expires_at - offer.issued_at == timedelta(days=30)
        assert CODE.findall(first) == [offer.code], first  # the record's code, said on the first greeting
        assert CODE.findall(second) == [], second  # once
        assert "Sarah" in first or "welcome back" in first.lower()

        arm = ("welcome_back", offer.arm)
        after = _card(boss)
        issued, redeemed = before.get(arm, (0, 0))
        assert after[arm] == (issued + 1, redeemed)
        assert {k: v for k, v in after.items() if k != arm} == {k: v for k, v in before.items() if k != arm}
        page = boss.http.get("/supervisor/dashboard", headers={"Accept": "text/html"})
        assert page.status_code == 200 and 'data-testid="offers-row" data-kind="welcome_back"' in page.text
    finally:
        with assistant.session_factory.begin() as s:
            s.execute(sa.delete(Offer).where(Offer.customer_id == DORMANT))


def test_the_accessibility_customers_handoff_card_shows_the_need(assistant: Assistant, console: str) -> None:
    sender = as_customer(assistant, "demo-access-zh")
    replies = assistant.texts(sender, "帮我转人工客服")
    assert replies and any("优先" in r for r in replies), replies

    def handoff() -> Handoff | None:
        with assistant.session_factory() as s:
            return s.scalars(sa.select(Handoff).where(Handoff.conversation_id == sender)).first()

    found = wait_for(handoff, 20)
    assert found is not None
    boss = AgentClient(console, BOSS, BOSS_PASSWORD)
    card = boss.http.get(f"/handoffs/{found.id}", headers={"Accept": "text/html"})
    assert card.status_code == 200
    need = re.search(r'data-testid="accessibility">([^<]+)<', card.text)
    assert need is not None, "the need is not on the handoff card"
    assert need.group(1).strip() and need.group(1).strip() != "visual"  # the agent's wording, not the code


def test_the_accessibility_customer_is_answered_in_plain_short_sentences(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-access-zh")
    greeting = assistant.texts(sender, "你好")
    slots = assistant.tracker(sender)["slots"]
    assert slots["accessibility"] == "visual" and slots["tone"] == "elder_friendly", slots
    assert greeting and "林晓梅" in greeting[0]
    lines = [line for text in greeting for line in re.split(r"[\n。！？]", text) if line.strip()]
    assert len(lines) >= 2 and max(len(line) for line in lines) <= 20, greeting  # one short idea a line
    other = as_customer(assistant, "demo-regular-zh")  # no need declared: the usual wording
    assert assistant.texts(other, "你好") and assistant.tracker(other)["slots"]["tone"] != "elder_friendly"


# --- birthday care for the cast's dormant customer --------------------------------------------------------

RULES = CareRules()  # 22:00-08:00 Asia/Shanghai


def _birthday_this_year(assistant: Assistant) -> date:
    with assistant.session_factory() as s:
        birthday = s.get(Customer, DORMANT).birthday
    assert birthday is not None, "the seed gives the dormant customer a birthday"
    today = datetime.utcnow().date()
    for ahead in range(7):  # this week
        day = today + timedelta(days=ahead)
        if (day.month, day.day) == (birthday.month, birthday.day) or (
                (birthday.month, birthday.day) == (2, 29) and (day.month, day.day) == (2, 28)):
            return day
    raise AssertionError(f"the birthday {birthday} is not this week (today {today})")


def _mine(decisions: list[Any]) -> list[str]:
    return [d.why for d in decisions if d.candidate.customer_id == DORMANT and d.candidate.kind == BIRTHDAY]


def _round(assistant: Assistant, clock: datetime) -> list[Any]:
    import asyncio

    scheduler = CareScheduler(CareStore(assistant.session_factory), RULES, clock=lambda: clock)
    return asyncio.run(scheduler.run_once())


def _forget(assistant: Assistant, *moments: datetime) -> None:
    """The rows those rounds recorded (every customer's: the round is the real one)."""
    with assistant.session_factory.begin() as s:
        s.execute(sa.delete(ProactiveMessage).where(ProactiveMessage.created_at.in_(moments)))


def test_the_dormant_customer_gets_birthday_care_on_the_day_outside_quiet_hours(assistant: Assistant) -> None:
    day = _birthday_this_year(assistant)
    noon = datetime.combine(day, time(4))  # 12:00 in Shanghai
    night = datetime.combine(day, time(15))  # 23:00 in Shanghai
    eve = noon - timedelta(days=1)
    with assistant.session_factory() as s:
        consent = s.get(Consent, DORMANT)
        assert (consent.personalization, consent.intensity, consent.marketing) == (True, "high", True)
    try:
        assert _mine(_round(assistant, eve)) == []  # not her birthday yet
        assert _mine(_round(assistant, night)) == [QUIET_HOURS]
        assert _mine(_round(assistant, noon)) == [SEND]
        with assistant.session_factory() as s:
            [row] = s.scalars(sa.select(ProactiveMessage).where(ProactiveMessage.customer_id == DORMANT,
                                                                ProactiveMessage.kind == BIRTHDAY)).all()
        assert (row.channel, row.status, row.language, row.ref) == ("web", "waiting", "en", str(day.year))
        assert row.conversation_id == f"web-{DORMANT}"
        assert not re.search(r"[\u4e00-\u9fff]", row.text) and "Sarah" not in row.reason
        assert _mine(_round(assistant, noon + timedelta(hours=2))) == ["already_sent"]
    finally:
        _forget(assistant, eve, night, noon, noon + timedelta(hours=2))


def test_no_birthday_care_when_the_dormant_customer_lowers_her_intensity(assistant: Assistant) -> None:
    noon = datetime.combine(_birthday_this_year(assistant), time(4))
    with assistant.session_factory.begin() as s:
        s.get(Consent, DORMANT).intensity = "medium"
    try:
        assert _mine(_round(assistant, noon)) == [INTENSITY]
    finally:
        _forget(assistant, noon)
        with assistant.session_factory.begin() as s:
            s.get(Consent, DORMANT).intensity = "high"
