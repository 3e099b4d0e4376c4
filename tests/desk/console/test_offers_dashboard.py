"""Offers end to end on the real stores: issued once in the conversation, shown on the supervisors' dashboard
by experiment arm, redeemed by an order (the shop's checkout, here the CLI) and counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from rasa_sdk.executor import CollectingDispatcher

from actions import names
from actions.offers import ActionRetention
from actions.session import ActionGreet
from desk.conversations import ConversationLog
from profiles.models import Offer, Order
from profiles.offers import OfferStore, load_offer_rules, main
from profiles.store import ProfileStore
from tests.desk.console.conftest import Console
from tests.utils.builders import load_domain, make_tracker

DORMANT = {names.CUSTOMER_ID: "C000003", names.CUSTOMER_NAME: "Emily Carter", names.IS_GUEST: False,
           names.SEGMENT: "at_risk", names.LIFECYCLE: "dormant", names.LANGUAGE: "en"}


async def test_an_offer_is_issued_once_and_appears_on_the_dashboard(console_factory: Callable[..., Console],
                                                                     clock: Any, thresholds: Any) -> None:
    console = console_factory()
    factory = console.session_factory
    boss = console.client("boss")
    before = _by_arm(boss.get("/supervisor/api/dashboard").json()["offers"])  # the seed's offers
    ProfileStore(factory, thresholds=thresholds, clock=clock).set_intensity(
        customer_id="C000003", intensity="high", source="test", conversation_id=None)
    offers = OfferStore(factory, rules=load_offer_rules(), clock=clock)
    greet = ActionGreet(offers, ConversationLog(factory, clock=clock))
    domain = load_domain()
    for turn in range(3):  # three greetings, one coupon
        await greet.run(CollectingDispatcher(), make_tracker(text="hi", intent="greet", slots=DORMANT,
                                                             sender_id=f"web-C000003-{turn}"), domain)
    await ActionRetention(offers).run(CollectingDispatcher(), make_tracker(
        text="I'm leaving", intent="want_to_leave", slots=DORMANT), domain)  # within 90 days of the coupon
    with factory.begin() as s:
        rows = list(s.scalars(sa.select(Offer).where(Offer.customer_id == "C000003")))
        order_id = s.scalars(sa.select(Order.id).where(Order.customer_id == "C000003")).first()
    assert [r.kind for r in rows] == ["welcome_back"]
    arm = ("welcome_back", rows[0].arm)
    issued, redeemed = before.get(arm, (0, 0))
    after = _by_arm(boss.get("/supervisor/api/dashboard").json()["offers"])
    assert after[arm] == (issued + 1, redeemed)
    assert {k: v for k, v in after.items() if k != arm} == {k: v for k, v in before.items() if k != arm}
    assert main(["redeem", rows[0].code, order_id], store=offers) == 0
    assert main(["redeem", rows[0].code, order_id], store=offers) == 1  # once
    card = boss.get("/supervisor/api/dashboard").json()["offers"]
    assert _by_arm(card)[arm] == (issued + 1, redeemed + 1)
    row = next(r for r in card if (r["kind"], r["arm"]) == arm)
    assert row["rate"] == (redeemed + 1) / (issued + 1) and row["experiment"] == "offer-amount-2026"
    page = boss.get("/supervisor/dashboard", headers={"Accept": "text/html"})
    assert 'data-testid="offers-row" data-kind="welcome_back"' in page.text
    assert "Welcome-back coupon" in page.text or "欢迎回来券" in page.text


def _by_arm(card: list[dict[str, Any]]) -> dict[tuple[str, str | None], tuple[int, int]]:
    return {(r["kind"], r["arm"]): (r["issued"], r["redeemed"]) for r in card}


def test_the_card_follows_the_date_filter_and_says_so_when_no_offer_was_made(
        console_factory: Callable[..., Console]) -> None:
    boss = console_factory().client("boss")
    seeded = boss.get("/supervisor/api/dashboard").json()["offers"]
    assert sum(r["redeemed"] for r in seeded) > 0  # the seed's redeemed coupons: a real rate
    assert boss.get("/supervisor/api/dashboard", params={"date_from": "2030-01-01"}).json()["offers"] == []
    page = boss.get("/supervisor/dashboard", params={"date_from": "2030-01-01"}, headers={"Accept": "text/html"})
    assert 'data-testid="offers"' in page.text and 'data-testid="offers-row"' not in page.text
