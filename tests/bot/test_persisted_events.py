"""Personal data is masked in the stored copy of a tracker, while Rasa's in-memory tracker keeps it raw."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot.persisted_events import masked_event
from bot.tracker_store import CompactingSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]
PHONE, EMAIL, ID_NUMBER = "13812341234", "zhang.wei@example.com", "110101199003071234"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


def test_an_event_is_masked_but_order_numbers_are_kept() -> None:
    text = f"订单E20261120001 电话{PHONE} 邮箱{EMAIL} 身份证{ID_NUMBER}"
    event = UserUttered(text, intent={"name": "order_status", "confidence": 1.0},
                        entities=[{"entity": "phone", "value": PHONE}, {"entity": "order_id", "value": "E20261120001"}])
    stored = masked_event(event.as_dict())
    flat = str(stored)
    assert PHONE not in flat and EMAIL not in flat and ID_NUMBER not in flat
    assert "138****1234" in stored["text"] and "E20261120001" in stored["text"]
    assert stored["parse_data"]["entities"][1]["value"] == "E20261120001"
    assert event.text == text  # the original is untouched


def test_every_slot_is_stored_masked_even_the_one_the_next_turn_acts_on() -> None:
    # the new address is confirmed in the next turn; it reads back masked, as the order stores it anyway
    assert masked_event(SlotSet("new_address", f"上海 {PHONE}").as_dict())["value"] == "上海 138****1234"
    assert PHONE not in str(masked_event(SlotSet("customer_name", f"x {PHONE}").as_dict()))


async def test_the_tracker_db_never_holds_the_raw_phone(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    store = CompactingSQLTrackerStore(domain, compact_after=6, keep_turns=1, dialect="sqlite", db=str(db))
    tracker = await store.get_or_create_tracker("s1", append_action_listen=False)
    for event in [SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    await store.save(tracker)
    for n in range(4):  # enough turns for a checkpoint
        tracker = await store.retrieve("s1")
        user = UserUttered(f"my phone is {PHONE}, order E2026112000{n}", intent={"name": "greet", "confidence": 1.0})
        tracker.update(user)
        assert tracker.latest_message.text.startswith(f"my phone is {PHONE}")  # this turn acts on raw text
        for event in [ActionExecuted("utter_greet"), BotUttered(f"noted {EMAIL}"), ActionExecuted("action_listen")]:
            tracker.update(event)
        await store.save(tracker)
    raw = b"".join(
        str(row).encode() for table in ("events", "tracker_checkpoints")
        for row in sqlite3.connect(db).execute(f"SELECT * FROM {table}")  # noqa: S608
    )
    assert PHONE.encode() not in raw and EMAIL.encode() not in raw
    assert b"138****1234" in raw and b"E20261120003" in raw
    assert sqlite3.connect(db).execute("SELECT count(*) FROM tracker_checkpoints").fetchone()[0] == 1
