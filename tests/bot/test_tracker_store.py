"""The compacting tracker store keeps every event and hands Rasa a short, equivalent tracker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import CompactingSQLTrackerStore, cut_index

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


@pytest.fixture
def store(tmp_path: Path, domain: Domain) -> CompactingSQLTrackerStore:
    return CompactingSQLTrackerStore(domain, compact_after=40, keep_turns=3, dialect="sqlite", db=str(tmp_path / "t.db"))


def turn(n: int) -> list:
    intent = {"name": "order_status" if n % 2 else "greet", "confidence": 1.0}
    return [
        UserUttered(f"message {n}", intent=intent),
        SlotSet("sentiment_history", [float(i) / 10 for i in range(n % 5)]),
        SlotSet("tone", "empathetic" if n % 3 == 0 else "neutral"),
        ActionExecuted("action_check_order"),
        BotUttered(f"reply {n}"),
        SlotSet("order_id", f"E20261120{n:03d}"),
        ActionExecuted("action_listen"),
    ]


async def converse(store: CompactingSQLTrackerStore, sender: str, turns: int, extra=None) -> list[int]:  # type: ignore[no-untyped-def]
    """Play ``turns`` turns the way Rasa's processor does: retrieve, update, save. Returns tracker sizes."""
    tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
    for event in [SessionStarted(), SlotSet("customer_id", "C000001"), SlotSet("tier", "vip"), ActionExecuted("action_listen")]:
        tracker.update(event)
    await store.save(tracker)
    sizes = []
    for n in range(turns):
        tracker = await store.retrieve(sender)
        sizes.append(len(tracker.events))
        for event in turn(n) + (extra(n) if extra else []):
            tracker.update(event)
        await store.save(tracker)
    return sizes


def test_every_event_is_kept_in_order(store: CompactingSQLTrackerStore) -> None:
    asyncio.run(converse(store, "long", 60))
    full = asyncio.run(store.retrieve_full_tracker("long"))
    texts = [e.text for e in full.events if isinstance(e, UserUttered)]
    assert texts == [f"message {n}" for n in range(60)]
    assert sum(isinstance(e, SessionStarted) for e in full.events) == 1  # no synthetic events in the log


def test_working_tracker_stays_short(store: CompactingSQLTrackerStore) -> None:
    sizes = asyncio.run(converse(store, "short", 80))
    assert max(sizes[20:]) <= 40 + len(turn(0))
    assert sizes[-1] < sizes[0] + 40


def test_compacted_tracker_is_equivalent(store: CompactingSQLTrackerStore, domain: Domain) -> None:
    def extra(n: int) -> list:
        if n == 30:
            return [ActiveLoop("address_form"), SlotSet("requested_slot", "new_address")]
        if n == 45:
            return [SlotSet("human_offered", True), ConversationPaused()]
        return []

    asyncio.run(converse(store, "same", 50, extra))
    compacted = asyncio.run(store.retrieve("same"))
    full = asyncio.run(store.retrieve_full_tracker("same"))
    reference = DialogueStateTracker.from_events("same", list(full.events), slots=domain.slots)
    assert len(compacted.events) < len(reference.events)
    assert compacted.current_slot_values() == reference.current_slot_values()
    assert compacted.active_loop_name == reference.active_loop_name == "address_form"
    assert compacted.is_paused() and reference.is_paused()
    assert isinstance(compacted.events[0], SessionStarted)
    assert compacted.events[0].timestamp == reference.events[0].timestamp
    # what the policies look at: the states of the last turns are the same
    assert compacted.past_states(domain)[-6:] == reference.past_states(domain)[-6:]


def test_a_new_session_after_a_checkpoint_starts_clean(store: CompactingSQLTrackerStore) -> None:
    asyncio.run(converse(store, "again", 30))
    tracker = asyncio.run(store.retrieve("again"))
    for event in [SessionStarted(), ActionExecuted("action_listen"), UserUttered("hi", intent={"name": "greet"})]:
        tracker.update(event)
    asyncio.run(store.save(tracker))
    fresh = asyncio.run(store.retrieve("again"))
    assert [type(e).__name__ for e in fresh.events] == ["SessionStarted", "ActionExecuted", "UserUttered"]
    assert fresh.get_slot("tier") is None


@pytest.mark.parametrize(
    ("kinds", "keep", "expected"),
    [
        (["L", "U", "A", "L", "U", "A", "L", "U", "A", "L"], 2, 3),
        (["L", "U", "A", "L"], 2, None),
        (["L", "U", "A", "L", "U", "A", "L"], 1, 3),
    ],
)
def test_cut_index(kinds: list[str], keep: int, expected: int | None) -> None:
    make = {
        "L": lambda: ActionExecuted("action_listen"),
        "U": lambda: UserUttered("x", intent={"name": "greet"}),
        "A": lambda: ActionExecuted("utter_greet"),
    }
    assert cut_index([make[k]() for k in kinds], keep) == expected
