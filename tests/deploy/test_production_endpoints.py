"""The production endpoints file, read by Rasa's own loaders, on a real PostgreSQL and redis-server.

The stores are built exactly as ``rasa run --endpoints bot/endpoints.production.yml`` builds them:
the compacting SQL tracker store on PostgreSQL, the Redis lock store, the event archive. A long
conversation is saved turn by turn; every event is in ``events`` and once, in order, in the archive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain

from bot.event_archive import EventArchive
from bot.tracker_store import CompactingSQLTrackerStore
from devtools.services import PostgresServer, RedisServer
from tests.bot.test_tracker_store import converse

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ROOT / "bot" / "endpoints.production.yml"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


@pytest.fixture
def production_env(
    monkeypatch: pytest.MonkeyPatch, postgres: PostgresServer, pg_url: str, redis_server: RedisServer
) -> Iterator[dict[str, str]]:
    database = urlparse(pg_url).path.lstrip("/")
    env = {
        "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
        "ACTION_SERVER_TOKEN": "test-action-token",
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(postgres.port),
        "TRACKER_POSTGRES_DB": database,
        "POSTGRES_USER": postgres.superuser,
        "POSTGRES_PASSWORD": "",
        "TRACKER_DB_URL": pg_url,
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis_server.port),
        "REDIS_PASSWORD": "",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env


def test_production_profile_uses_redis_locks_postgres_trackers_and_an_archive(production_env: dict[str, str]) -> None:
    endpoints = AvailableEndpoints.read_endpoints(str(PRODUCTION))
    assert endpoints.lock_store.type == "bot.lock_store.FallbackRedisLockStore"  # Rasa's RedisLockStore + fallback
    assert endpoints.tracker_store.type == "bot.tracker_store.CompactingSQLTrackerStore"
    assert endpoints.tracker_store.kwargs["dialect"] == "postgresql"
    assert endpoints.event_broker.type == "bot.event_archive.EventArchive"
    assert endpoints.action.headers == {"X-Action-Token": "test-action-token"}


def test_a_missing_variable_stops_rasa(production_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTGRES_HOST")
    with pytest.raises(Exception, match="POSTGRES_HOST"):
        AvailableEndpoints.read_endpoints(str(PRODUCTION))


async def test_stores_built_by_rasa_keep_and_archive_every_event(production_env: dict[str, str], domain: Domain) -> None:
    endpoints = AvailableEndpoints.read_endpoints(str(PRODUCTION))
    broker = await EventBroker.create(endpoints.event_broker)
    assert isinstance(broker, EventArchive)
    store = TrackerStore.create(endpoints.tracker_store, domain=domain, event_broker=broker)
    assert isinstance(store, CompactingSQLTrackerStore)
    assert store.engine.dialect.name == "postgresql"
    store.compact_after, store.keep_turns = 40, 3

    sizes = await converse(store, "pg-long", 30)
    assert max(sizes) < 60, sizes  # checkpoints keep the working tracker short on PostgreSQL too

    full = await store.retrieve_full_tracker("pg-long")
    stored = [e.as_dict() for e in full.events]
    assert len(stored) == 4 + 30 * 7
    assert [e["text"] for e in stored if e["event"] == "user"] == [f"message {n}" for n in range(30)]
    with store.session_scope() as session:
        checkpoints = session.execute(sa.text("SELECT count(*) FROM tracker_checkpoints")).scalar()
    assert checkpoints == 1

    archived = broker.transcript("pg-long")  # every event exactly once, in order
    assert [(e["event"], e.get("timestamp")) for e in archived] == [(e["event"], e["timestamp"]) for e in stored]

    # the tracker store loses the conversation (expiry, a wiped tracker database): the archive keeps it
    with store.session_scope() as session:
        session.execute(sa.text("DELETE FROM events WHERE sender_id = 'pg-long'"))
        session.execute(sa.text("DELETE FROM tracker_checkpoints"))
        session.commit()
    assert await store.retrieve("pg-long") is None
    assert len(broker.transcript("pg-long")) == len(stored)
    await broker.close()


async def test_two_replicas_share_one_lock_per_conversation(production_env: dict[str, str]) -> None:
    endpoints = AvailableEndpoints.read_endpoints(str(PRODUCTION))
    first, second = LockStore.create(endpoints.lock_store), LockStore.create(endpoints.lock_store)
    assert isinstance(first, RedisLockStore) and isinstance(second, RedisLockStore)
    order: list[str] = []

    async def turn(store: LockStore, name: str) -> None:
        async with store.lock("conversation-1", wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")

    await asyncio.gather(turn(first, "a"), turn(second, "b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


async def test_a_saved_turn_costs_one_archive_transaction_and_no_second_read(
        production_env: dict[str, str], domain: Domain) -> None:
    """Saving a turn publishes its new events without reading the conversation back from PostgreSQL (the
    store knows what it read), and the archive writes them in one transaction, not one per event: under a
    burst of conversations these were a third of a Rasa replica's time."""
    endpoints = AvailableEndpoints.read_endpoints(str(PRODUCTION))
    broker = await EventBroker.create(endpoints.event_broker)
    store = TrackerStore.create(endpoints.tracker_store, domain=domain, event_broker=broker)
    assert isinstance(broker, EventArchive) and isinstance(store, CompactingSQLTrackerStore)

    commits = []
    sa.event.listen(broker.engine, "commit", lambda connection: commits.append(1))
    reads = []
    read = store._retrieve_stored

    async def counted(sender_id: str):  # type: ignore[no-untyped-def]
        reads.append(sender_id)
        return await read(sender_id)

    store._retrieve_stored = counted  # type: ignore[method-assign]
    turns = 12
    await converse(store, "pg-cost", turns)
    # converse reads once per turn (as Rasa's processor does) and once when it creates the conversation;
    # the very first save of a new conversation may read once more to learn what is stored
    assert len(reads) <= turns + 2, len(reads)
    assert len(commits) == turns + 1, len(commits)  # one per save (the first save and one per turn)
    full = await store.retrieve_full_tracker("pg-cost")
    archived = broker.transcript("pg-cost")
    assert [(e["event"], e.get("timestamp")) for e in archived] == [(e.type_name, e.timestamp) for e in full.events]
    await broker.close()
