"""The profile and desk stores on a real PostgreSQL: the same tests that run on SQLite, plus races.

The schema is built the production way (``alembic upgrade head``), once, into template databases
(empty and demo-seeded); every test gets its own copy (``CREATE DATABASE ... TEMPLATE``). The
module's ``engine`` and ``seeded`` fixtures replace the SQLite ones of ``tests/conftest.py``, so the
imported tests below run unchanged against PostgreSQL.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from demo.seed import seed_demo
from desk.errors import InvalidTransition
from desk.feedback import FeedbackLog
from desk.handoffs import HandoffQueue
from desk.models import Feedback, Handoff
from devtools.services import PostgresServer
from tests.conftest import SALT, TODAY
from tests.deploy.test_migrations import alembic_config

# the existing store tests, collected again here against PostgreSQL
from tests.desk.test_feedback import (  # noqa: F401
    log,
    test_idempotency_key_upserts,
    test_low_rating_opens_one_followup,
    test_rejects_out_of_range,
)
from tests.desk.test_handoff_lifecycle import (  # noqa: F401
    _enqueue,
    test_claim_then_resolve_updates_the_conversation,
    test_illegal_moves_are_refused,
)
from tests.desk.test_handoffs import (  # noqa: F401
    test_closed_handoff_allows_a_new_one,
    test_enqueue_is_idempotent_per_conversation,
    test_positions,
)
from tests.desk.test_tickets import (  # noqa: F401
    empty_store,
    test_first_contact_opens_then_updates,
    test_old_contacts_fall_out_of_the_window,
    test_resolved_ticket_is_not_reopened,
    test_same_conversation_counts_once,
    test_seeded_refund_contacts_are_in_the_window,
    test_topic_history_and_recent,
)
from tests.profiles.conftest import demo_cast  # noqa: F401
from tests.profiles.test_store import (  # noqa: F401
    test_change_address_happy_path,
    test_change_address_masks_pii_typed_into_it,
    test_demo_cast_profiles,
    test_recent_orders_newest_first,
    test_resolve_demo_cast,
    test_resolve_unknown_is_guest,
    test_resolve_wechat_openid,
    test_shipped_order_snapshot,
)

_copies = itertools.count(1)


@pytest.fixture(scope="module")
def templates(postgres: PostgresServer) -> Iterator[dict[str, str]]:
    """Two migrated template databases: ``empty`` and ``seeded`` (the demo cast for TODAY)."""
    names = {"empty": "tpl_empty", "seeded": "tpl_seeded"}
    for name in names.values():
        url = postgres.create_database(name)
        command.upgrade(alembic_config(url), "head")
    engine = make_engine(postgres.url(names["seeded"]))
    seed_demo(make_session_factory(engine), today=TODAY, salt=SALT)
    engine.dispose()
    yield names
    for name in names.values():
        postgres.drop_database(name)


def _copy(postgres: PostgresServer, template: str) -> Iterator[Engine]:
    name = f"copy_{next(_copies)}"
    engine = make_engine(postgres.create_database(name, template=template))
    yield engine
    engine.dispose()
    postgres.drop_database(name)


@pytest.fixture
def engine(postgres: PostgresServer, templates: dict[str, str]) -> Iterator[Engine]:
    yield from _copy(postgres, templates["empty"])


@pytest.fixture
def seeded(postgres: PostgresServer, templates: dict[str, str]) -> Iterator[sessionmaker]:
    for engine in _copy(postgres, templates["seeded"]):
        yield make_session_factory(engine)


def test_the_database_is_postgresql(engine: Engine, seeded: sessionmaker) -> None:
    assert engine.dialect.name == "postgresql"
    with seeded() as session:
        assert session.get_bind().dialect.name == "postgresql"


@pytest.mark.parametrize("agents", [2, 8])
def test_agents_claiming_at_once_one_wins_on_postgresql(session_factory: sessionmaker, agents: int) -> None:
    queue = HandoffQueue(session_factory)
    for round_ in range(5):
        handoff_id = _enqueue(queue, conversation=f"race-{agents}-{round_}")
        results = _race(agents, lambda agent, handoff_id=handoff_id: queue.claim(handoff_id, agent_id=agent))
        assert results.count("refused") == agents - 1, results
        winner = next(r for r in results if r != "refused")
        assert queue.for_conversation(f"race-{agents}-{round_}")[0].agent_id == winner


def _race(agents: int, claim: Callable[[str], object]) -> list[str]:
    """Run ``claim(agent)`` in ``agents`` threads released at once: each agent's name, or "refused"."""
    barrier = threading.Barrier(agents)
    results: list[str] = []

    def run(agent: str) -> None:
        barrier.wait()
        try:
            claim(agent)
            results.append(agent)
        except InvalidTransition:
            results.append("refused")

    threads = [threading.Thread(target=run, args=(f"agent-{i}",)) for i in range(agents)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_enqueues_for_one_conversation_make_one_handoff(session_factory: sessionmaker) -> None:
    queue = HandoffQueue(session_factory)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def enqueue() -> None:
        barrier.wait()
        try:
            _enqueue(queue, conversation="twice")
        except Exception as exc:  # every caller must get the one open handoff back
            errors.append(exc)

    threads = [threading.Thread(target=enqueue) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_factory() as session:
        rows = session.scalar(select(func.count()).select_from(Handoff).where(Handoff.conversation_id == "twice"))
    assert rows == 1 and not errors, errors


def test_a_retried_rating_is_stored_once_under_concurrency(session_factory: sessionmaker, clock) -> None:  # type: ignore[no-untyped-def]
    feedback = FeedbackLog(session_factory, low_threshold=2, followup_due=timedelta(hours=24), clock=clock)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def record() -> None:
        barrier.wait()
        try:
            feedback.record(conversation_id="c", customer_id="C1", channel="web", language="zh", tone="neutral",
                       rating=1, comment=None, idempotency_key="same-key")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=record) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 1
    assert not errors, errors  # the losers of the race get the stored row back


@pytest.mark.parametrize("choice", ["personalization", "intensity"])
def test_a_first_consent_choice_made_twice_at_once_is_kept(store, seeded: sessionmaker, choice: str) -> None:  # type: ignore[no-untyped-def]
    """A double tap on the widget's personalisation menu (or the widget and WeChat at once) for a customer
    with no consent row yet: both requests insert it. The later one waits for the earlier, then records its
    own choice as an update, with its own consent change; it is not lost as an error."""
    from profiles.models import Consent, ConsentChange, Customer

    with seeded.begin() as session:
        customer_id = session.scalars(select(Customer.id).order_by(Customer.id)).first()
        session.query(ConsentChange).filter(ConsentChange.customer_id == customer_id).delete()
        session.query(Consent).filter(Consent.customer_id == customer_id).delete()
    result: dict = {}

    def choose() -> None:
        try:
            if choice == "personalization":
                store.set_personalization(customer_id=customer_id, enabled=False, source="web", conversation_id="c2")
            else:
                store.set_intensity(customer_id=customer_id, intensity="low", source="web", conversation_id="c2")
            result["ok"] = True
        except Exception as exc:  # noqa: BLE001 - the test reads it
            result["error"] = exc

    with seeded() as first, first.begin():  # the first tap, half-way: its consent row inserted, not committed
        first.add(Consent(customer_id=customer_id, personalization=True, source="web"))
        first.add(ConsentChange(customer_id=customer_id, personalization=True, source="web", conversation_id="c1"))
        first.flush()
        second = threading.Thread(target=choose)
        second.start()
        second.join(0.5)
    second.join(10)
    assert result == {"ok": True}
    with seeded() as session:
        consent = session.get(Consent, customer_id)
        changes = session.scalars(select(ConsentChange.conversation_id).where(ConsentChange.customer_id == customer_id)
                                  .order_by(ConsentChange.id)).all()
    assert changes == ["c1", "c2"]
    if choice == "personalization":
        assert consent.personalization is False
    else:
        assert consent.personalization is True and consent.intensity == "low"
