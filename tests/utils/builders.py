"""Small builders in the rasa-sdk style: trackers, the merged domain, dispatcher helpers and fakes.

Nothing here starts a Rasa server: the domain is the merge of ``bot/domain/*.yml`` read with
``yaml.safe_load`` and trackers are plain ``rasa_sdk.Tracker`` objects.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from common.db import StoreUnavailable
from sentiment import SentimentResult

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_DIR = ROOT / "bot" / "domain"
SESSION_START_TS = 1_700_000_000.0


@lru_cache(maxsize=1)
def _merged_domain() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in part.items():
            if isinstance(value, list):
                merged.setdefault(key, [])
                merged[key].extend(v for v in value if v not in merged[key])
            elif isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
    return merged


def load_domain() -> dict[str, Any]:
    """The merged domain (a deep-ish copy so a test may not corrupt the cache)."""
    import copy

    return copy.deepcopy(_merged_domain())


def slot_defaults() -> dict[str, Any]:
    """Every domain slot with its ``initial_value`` (None when it has none), as Rasa starts a session."""
    return {name: spec.get("initial_value") for name, spec in _merged_domain()["slots"].items()}


def user_event(
    text: str,
    *,
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: Mapping[str, Any] | None = None,
    input_channel: str | None = None,
    timestamp: float | None = None,
) -> dict[str, Any]:
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": list(entities or []),
        "metadata": dict(metadata or {}),
    }
    return {
        "event": "user",
        "timestamp": timestamp if timestamp is not None else time.time(),
        "text": text,
        "parse_data": parse_data,
        "input_channel": input_channel,
        "metadata": dict(metadata or {}),
    }


def bot_event(text: str, *, timestamp: float | None = None) -> dict[str, Any]:
    return {"event": "bot", "timestamp": timestamp if timestamp is not None else time.time(), "text": text}


def make_tracker(
    *,
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    slots: Mapping[str, Any] | None = None,
    sender_id: str = "test-conversation",
    events: Iterable[dict[str, Any]] = (),
    metadata: Mapping[str, Any] | None = None,
    input_channel: str | None = None,
    session_started_at: float = SESSION_START_TS,
    active_loop: Mapping[str, Any] | None = None,
) -> Tracker:
    """A tracker in the middle of a session: session start, ``events``, then the latest user turn."""
    latest = user_event(
        text, intent=intent, entities=entities, metadata=metadata, input_channel=input_channel
    )
    all_events = [
        {"event": "action", "name": "action_session_start", "timestamp": session_started_at},
        {"event": "session_started", "timestamp": session_started_at},
        {"event": "action", "name": "action_listen", "timestamp": session_started_at},
        *events,
        latest,
    ]
    tracker_slots = {**slot_defaults(), **dict(slots or {})}
    return Tracker(
        sender_id=sender_id,
        slots=tracker_slots,
        latest_message=latest["parse_data"],
        events=all_events,
        paused=False,
        followup_action=None,
        active_loop=dict(active_loop or {}),
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    """The response names the action uttered, in order."""
    return [m.get("response") for m in dispatcher.messages]


def message(dispatcher: CollectingDispatcher, response: str) -> dict[str, Any]:
    """The one message with ``response`` (fails when it was not uttered exactly once)."""
    found = [m for m in dispatcher.messages if m.get("response") == response]
    assert len(found) == 1, f"{response} uttered {len(found)} times: {responses(dispatcher)}"
    return found[0]


def slot_events(events: Iterable[Any]) -> dict[str, Any]:
    """The last value each SlotSet event sets, by slot name."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


class Unavailable:
    """A store whose every call fails as a database outage does (``StoreUnavailable``)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def fail(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            raise StoreUnavailable(f"database down ({name})")

        return fail


class FakeAnalyzer:
    """A sentiment analyzer that returns a fixed result (or raises it, when it is an exception)."""

    def __init__(self, result: SentimentResult | Exception) -> None:
        self.result = result
        self.texts: list[str] = []

    def analyze(self, text: str) -> SentimentResult:
        self.texts.append(text)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result
