"""Offers are issued once when one customer's conversations greet at the same moment (two tabs, the widget
and WeChat): on a real PostgreSQL (production) and on the SQLite file of ``make run``, eight greetings of
the dormant customer of the demo cast racing each other leave one welcome-back offer."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from common.db import StoreUnavailable, make_engine, make_session_factory
from demo.seed import seed_demo
from desk.schema import create_all
from devtools.services import PostgresServer, ServiceUnavailable
from profiles.models import Offer, Order
from profiles.offers import OfferError, OfferStore, load_offer_rules

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12)
DORMANT = "C000902"
RACERS = 8


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path) -> Iterator[sessionmaker]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        engine = make_engine(request.getfixturevalue("postgres").create_database(f"offers_{uuid.uuid4().hex[:8]}"))
    create_all(engine)
    factory = make_session_factory(engine)
    seed_demo(factory, today=TODAY, salt="offers-once-salt")
    yield factory
    engine.dispose()


def test_racing_greetings_of_one_customer_issue_one_welcome_back_offer(app: sessionmaker) -> None:
    store = OfferStore(app, rules=load_offer_rules(), clock=lambda: NOW)
    start = threading.Barrier(RACERS)
    issued: list[str] = []
    refused: list[str | None] = []
    unavailable: list[StoreUnavailable] = []

    def greet(turn: int) -> None:
        start.wait()
        try:
            decision, offer = store.offer(customer_id=DORMANT, segment="at_risk", lifecycle="dormant",
                                          trigger="contact", channel="web", conversation_id=f"web-{DORMANT}-{turn}")
        except StoreUnavailable as exc:  # the greeting goes on without an offer (actions/offers.py)
            unavailable.append(exc)
            return
        if offer is not None:
            issued.append(offer.code)
        else:
            refused.append(decision.why_not)

    threads = [threading.Thread(target=greet, args=(turn,)) for turn in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with app() as s:
        rows = list(s.scalars(sa.select(Offer).where(Offer.customer_id == DORMANT)))
    assert [r.kind for r in rows] == ["welcome_back"] and issued == [rows[0].code]
    assert set(refused) <= {"once"} and len(refused) + len(unavailable) == RACERS - 1
    if app.kw["bind"].dialect.name == "postgresql":
        assert unavailable == []  # the row lock makes the others wait, then see the offer


def test_racing_checkouts_redeem_an_offer_once(app: sessionmaker) -> None:
    store = OfferStore(app, rules=load_offer_rules(), clock=lambda: NOW)
    _, offer = store.offer(customer_id=DORMANT, segment="at_risk", lifecycle="dormant", trigger="contact",
                           channel="web", conversation_id=f"web-{DORMANT}")
    assert offer is not None
    with app() as s:
        order_id = s.scalars(sa.select(Order.id).where(Order.customer_id == DORMANT)).first()
    start = threading.Barrier(RACERS)
    redeemed: list[str] = []
    refused: list[str] = []

    def checkout() -> None:
        start.wait()
        try:
            redeemed.append(store.redeem(offer.code, order_id=order_id).code)
        except OfferError as exc:
            refused.append(exc.reason)
        except StoreUnavailable:
            refused.append("unavailable")

    threads = [threading.Thread(target=checkout) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert redeemed == [offer.code] and len(refused) == RACERS - 1, (redeemed, refused)
    assert set(refused) <= {"redeemed", "unavailable"}
