"""Fixtures shared by every test package: a fixed day, in-memory SQLite seeded with the demo data,
the real stores on top of it, and rasa-sdk style builders (dispatcher, tracker, domain).

Stores are real; fakes exist only for pure-logic collaborators (see ``tests/utils/builders.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from demo.seed import seed_demo
from desk.conversations import ConversationLog
from desk.feedback import FeedbackLog
from desk.handoffs import HandoffQueue
from desk.schema import create_all
from desk.tickets import TicketStore
from profiles.offers import OfferStore, load_offer_rules
from profiles.segmentation import Thresholds, load_thresholds
from profiles.store import ProfileStore
from tests.utils.builders import load_domain, make_tracker

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS_FILE = ROOT / "profiles" / "segments.yml"
TODAY = date(2026, 11, 20)
NOON = datetime.combine(TODAY, time(12, 0))
SALT = "test-salt"

# assistant, console_url, browser: the real servers and the browser, for every package that needs them
pytest_plugins = ["tests.utils.browser_fixtures"]


# -- time --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def thresholds() -> Thresholds:
    return load_thresholds(SEGMENTS_FILE)


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """Noon of TODAY, always (the seed's dates are relative to TODAY)."""
    return lambda: NOON


class MovableClock:
    """A clock the test moves forward by hand: ``clock.advance(days=31)``."""

    def __init__(self, start: datetime = NOON) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def movable_clock() -> MovableClock:
    return MovableClock()


# -- databases ---------------------------------------------------------------------------------


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine("sqlite://")
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker:
    """An empty in-memory database with every table."""
    return make_session_factory(engine)


@pytest.fixture(scope="session")
def seeded_template() -> Iterator[Engine]:
    """Seeded once per test session; tests get a copy (``seeded``) so they may write freely."""
    engine = make_engine("sqlite://")
    create_all(engine)
    seed_demo(make_session_factory(engine), today=TODAY, salt=SALT)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded(seeded_template: Engine) -> Iterator[sessionmaker]:
    """A fresh in-memory database holding the demo seed for ``TODAY``."""
    engine = make_engine("sqlite://")
    source = seeded_template.raw_connection()
    target = engine.raw_connection()
    try:
        source.dbapi_connection.backup(target.dbapi_connection)
    finally:
        target.close()
        source.close()
    yield make_session_factory(engine)
    engine.dispose()


# -- stores (real, on the seeded copy) ---------------------------------------------------------


@pytest.fixture
def store(seeded: sessionmaker, thresholds: Thresholds, clock: Callable[[], datetime]) -> ProfileStore:
    return ProfileStore(seeded, thresholds=thresholds, clock=clock)


@pytest.fixture
def offer_store(seeded: sessionmaker, clock: Callable[[], datetime]) -> OfferStore:
    return OfferStore(seeded, rules=load_offer_rules(), clock=clock)


@pytest.fixture
def tickets(seeded: sessionmaker, clock: Callable[[], datetime]) -> TicketStore:
    return TicketStore(seeded, window_days=30, clock=clock)


@pytest.fixture
def queue(seeded: sessionmaker, clock: Callable[[], datetime]) -> HandoffQueue:
    return HandoffQueue(seeded, clock=clock)


@pytest.fixture
def feedback_log(seeded: sessionmaker, clock: Callable[[], datetime]) -> FeedbackLog:
    return FeedbackLog(seeded, low_threshold=2, followup_due=timedelta(hours=24), clock=clock)


@pytest.fixture
def conversations(seeded: sessionmaker, clock: Callable[[], datetime]) -> ConversationLog:
    return ConversationLog(seeded, clock=clock)


# -- rasa-sdk builders -------------------------------------------------------------------------


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def tracker_factory() -> Callable[..., Tracker]:
    """``tracker_factory(text=..., intent=..., slots=..., sender_id=..., events=..., metadata=...)``."""
    return make_tracker


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """``bot/domain/*.yml`` merged (no Rasa server)."""
    return load_domain()


# -- markers -----------------------------------------------------------------------------------------
# Fixtures that start a server of their own (devtools/services.py): a test using one is marked
# ``services`` so that ``make unit`` (no servers, no model) leaves it out. A test that starts a server
# in another way carries ``@pytest.mark.services`` itself.
SERVICE_FIXTURES = frozenset({"redis_url", "redis_server", "postgres", "pg_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)
