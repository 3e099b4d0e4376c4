"""Issue 11, item 12 (queued handoffs): a flood of "转人工" from fresh guest ids cannot grow the queue without end.

Written first: every fresh sender id got a queued handoff, however many were already waiting.
"""

from __future__ import annotations

import logging

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet

from actions import names
from actions.handoff import ActionRequestHandoff
from desk.handoffs import MAX_QUEUED_GUESTS, HandoffQueue, QueueFull
from desk.models import HandoffStatus
from tests.utils.builders import responses

GUEST = {names.IS_GUEST: True, names.LANGUAGE: "zh"}
CUSTOMER = {names.CUSTOMER_ID: "C000005", names.TIER: "regular", names.IS_GUEST: False, names.LANGUAGE: "en"}


def _ask(queue: HandoffQueue, conversation_id: str, customer_id: str | None = None):  # type: ignore[no-untyped-def]
    return queue.enqueue(conversation_id=conversation_id, customer_id=customer_id, channel="rest", language="zh",
                         reason="user_request", priority=5, summary="guest", package={})


def test_guests_past_the_guest_bound_are_not_queued_customers_still_are(seeded, movable_clock, caplog) -> None:
    queue = HandoffQueue(seeded, clock=movable_clock, max_queued_guests=3, max_queued=10)
    for n in range(3):
        _ask(queue, f"flood-{n}")
    with caplog.at_level(logging.WARNING), pytest.raises(QueueFull) as full:
        _ask(queue, "flood-3")
    assert full.value.bound == "guests" and "guest" in caplog.text
    assert _ask(queue, "web-C000005", customer_id="C000005").created
    assert _ask(queue, "flood-1").created is False  # the same guest asking again keeps its place
    assert len(queue.queued()) == 4


def test_the_whole_queue_is_bounded_for_everyone(seeded, movable_clock) -> None:
    queue = HandoffQueue(seeded, clock=movable_clock, max_queued_guests=10, max_queued=2)
    _ask(queue, "web-C000001", customer_id="C000001")
    _ask(queue, "web-C000002", customer_id="C000002")
    with pytest.raises(QueueFull) as full:
        _ask(queue, "web-C000003", customer_id="C000003")
    assert full.value.bound == "queue"


def test_one_guest_cannot_queue_again_and_again(seeded, movable_clock) -> None:
    queue = HandoffQueue(seeded, clock=movable_clock, guest_requests_per_hour=2)
    for _ in range(2):
        handoff = _ask(queue, "rest-guest-1")
        queue.transition(handoff.id, HandoffStatus.ABANDONED)
    with pytest.raises(QueueFull) as full:
        _ask(queue, "rest-guest-1")
    assert full.value.bound == "guest"
    movable_clock.advance(hours=1, minutes=1)
    assert _ask(queue, "rest-guest-1").created


def test_the_default_bound_stops_a_flood_of_25_fresh_guests(seeded, movable_clock) -> None:
    queue = HandoffQueue(seeded, clock=movable_clock)
    queued = 0
    for n in range(25):
        try:
            _ask(queue, f"fresh-{n}")
            queued += 1
        except QueueFull:
            pass
    assert queued == MAX_QUEUED_GUESTS < 25


async def test_the_customer_is_told_politely_and_the_bot_stays(seeded, movable_clock, tracker_factory, dispatcher,
                                                               domain, store, tickets) -> None:
    queue = HandoffQueue(seeded, clock=movable_clock, max_queued_guests=0)
    tracker = tracker_factory(text="转人工", intent="request_human", slots=GUEST, sender_id="flood-x")
    events = await ActionRequestHandoff(queue=queue, profiles=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_HANDOFF_QUEUE_FULL]
    assert ConversationPaused() not in events and events == [SlotSet(names.HUMAN_OFFERED, False)]
    wording = {v.get("text") for v in domain["responses"][names.UTTER_HANDOFF_QUEUE_FULL]}
    assert len(wording) >= 2


def test_bounds_reset_as_the_queue_moves(seeded, movable_clock) -> None:
    queue = HandoffQueue(seeded, clock=movable_clock, max_queued_guests=1)
    first = _ask(queue, "g-1")
    with pytest.raises(QueueFull):
        _ask(queue, "g-2")
    queue.claim(first.id, agent_id="agent1")
    movable_clock.advance(seconds=1)
    assert _ask(queue, "g-2").created


def test_the_bounds_are_settings_that_both_processes_use(monkeypatch, session_factory) -> None:
    seeded_factory = session_factory
    from actions import providers
    from common.settings import Settings
    from desk.console.services import Services

    env = {"HANDOFF_MAX_QUEUED_GUESTS": "7", "HANDOFF_MAX_QUEUED": "70", "HANDOFF_GUEST_REQUESTS_PER_HOUR": "2"}
    settings = Settings.from_env(env)
    assert (settings.handoff_max_queued_guests, settings.handoff_max_queued,
            settings.handoff_guest_requests_per_hour) == (7, 70, 2)
    assert Settings.from_env({}).handoff_max_queued_guests == MAX_QUEUED_GUESTS

    monkeypatch.setattr(providers, "settings", lambda: settings)
    monkeypatch.setattr(providers, "session_factory", lambda: None)
    providers.handoff_queue.cache_clear()
    try:
        queue = providers.handoff_queue()
    finally:
        providers.handoff_queue.cache_clear()
    assert (queue.max_queued_guests, queue.max_queued, queue.guest_requests_per_hour) == (7, 70, 2)
    console = Services.build(settings, seeded_factory)
    assert (console.queue.max_queued_guests, console.queue.max_queued, console.queue.guest_requests_per_hour) == (7, 70, 2)
