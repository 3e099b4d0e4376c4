"""Issue 11 item 12: trackers and archive events held while PostgreSQL is down are bounded.

A real PostgreSQL (``tests/utils/services.PostgresServer``) is halted for the outage and resumed.
At the bound the oldest held item is dropped and the drop is logged; everything else is written when
the database returns, in order, masked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

from bot.event_archive import EventArchive
from bot.tracker_store import CompactingSQLTrackerStore
from devtools.services import PostgresServer, ServiceUnavailable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        server.stop()
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def outage(postgres: PostgresServer) -> Iterator[PostgresServer]:
    postgres.halt()
    try:
        yield postgres
    finally:
        postgres.resume()


def test_archive_events_held_in_an_outage_are_bounded_and_masked(postgres: PostgresServer, caplog) -> None:
    archive = EventArchive(postgres.url())
    archive.waiting_max = 5
    postgres.halt()
    try:
        with caplog.at_level(logging.WARNING):
            for n in range(12):
                archive.publish({"sender_id": "outage-archive", "event": "user", "timestamp": float(n),
                                 "text": f"line {n} 13812341234"})
        assert len(archive._waiting) == 5
        assert all("13812341234" not in str(e) for e in archive._waiting)  # held masked, not raw
        assert any("dropped" in r.getMessage() for r in caplog.records)
    finally:
        postgres.resume()
    archive.publish({"sender_id": "outage-archive", "event": "user", "timestamp": 99.0, "text": "back"})
    texts = [e["text"] for e in archive.transcript("outage-archive")]
    # the bound holds for the publish that finds the database back too: the oldest held event gives way
    assert texts == [f"line {n} 138****1234" for n in range(8, 12)] + ["back"]


async def test_trackers_held_in_an_outage_are_bounded(postgres: PostgresServer, caplog) -> None:
    domain = Domain.load(str(ROOT / "bot" / "domain"))
    database = "outage_trackers"
    postgres.create_database(database)
    store = CompactingSQLTrackerStore(domain, dialect="postgresql", host="127.0.0.1", port=postgres.port,
                                      db=database, username=postgres.superuser)
    store.pending_max = 3
    postgres.halt()
    try:
        with caplog.at_level(logging.WARNING):
            for n in range(6):
                tracker = await store.get_or_create_tracker(f"held-{n}", append_action_listen=False)
                for event in (SessionStarted(), ActionExecuted("action_listen"), UserUttered(f"hi {n}")):
                    tracker.update(event)
                await store.save(tracker)
        assert sorted(store._pending) == ["held-3", "held-4", "held-5"]
        assert any("dropped" in r.getMessage() for r in caplog.records)
    finally:
        postgres.resume()
    kept = await store.retrieve("held-5")
    assert kept is not None and any(getattr(e, "text", None) == "hi 5" for e in kept.events)


async def test_turns_saved_in_an_outage_reach_the_archive_once(postgres: PostgresServer) -> None:
    """A conversation that goes on while PostgreSQL is down is written to the tracker store and to the archive
    when it returns, every event exactly once and in order (nothing published twice when the held turns are
    written)."""
    domain = Domain.load(str(ROOT / "bot" / "domain"))
    database = "outage_archive_once"
    url = postgres.create_database(database)
    archive = EventArchive(url)
    store = CompactingSQLTrackerStore(domain, dialect="postgresql", host="127.0.0.1", port=postgres.port,
                                      db=database, username=postgres.superuser, event_broker=archive)

    async def say(text: str) -> None:
        tracker = await store.get_or_create_tracker("once", append_action_listen=False)
        if not tracker.events:
            tracker.update(SessionStarted())
        for event in (ActionExecuted("action_listen"), UserUttered(text)):
            tracker.update(event)
        await store.save(tracker)

    await say("before")
    postgres.halt()
    try:
        await say("during 1")
        await say("during 2")
        assert "once" in store._pending
    finally:
        postgres.resume()
    await say("after")
    full = await store.retrieve_full_tracker("once")
    stored = [(e.type_name, e.timestamp) for e in full.events]
    assert [getattr(e, "text", None) for e in full.events if isinstance(e, UserUttered)] == [
        "before", "during 1", "during 2", "after"]
    assert [(e["event"], e.get("timestamp")) for e in archive.transcript("once")] == stored
    await archive.close()
