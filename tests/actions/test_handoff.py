"""The warm handoff, the offer of a human, and the fallback that leads to it."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet

from actions import names
from actions.handoff import ActionDeclineHuman, ActionHandleFallback, ActionRequestHandoff
from desk.models import Handoff
from tests.utils.builders import Unavailable, message, responses, slot_events

REGULAR = {names.CUSTOMER_ID: "C000005", names.TIER: "regular", names.SEGMENT: "potential", names.IS_GUEST: False,
           names.LANGUAGE: "zh", names.ELDERLY: False}  # fmt: skip
VIP = {**REGULAR, names.CUSTOMER_ID: "C000001", names.TIER: "vip", names.SEGMENT: "important_value"}
ELDERLY = {**REGULAR, names.CUSTOMER_ID: "C000002", names.ELDERLY: True}
ACCESSIBLE = {**REGULAR, names.ACCESSIBILITY: "visual"}
VALUED = {**REGULAR, names.SEGMENT: "important_value", names.TIER: "gold"}


async def _request(tracker, dispatcher, domain, queue, store, tickets):
    return await ActionRequestHandoff(queue=queue, profiles=store, tickets=tickets).run(dispatcher, tracker, domain)


async def test_request_human(tracker_factory, dispatcher, domain, queue, store, tickets, seeded):
    tracker = tracker_factory(text="转人工", intent="request_human", slots=REGULAR, sender_id="conv-a")
    events = await _request(tracker, dispatcher, domain, queue, store, tickets)
    assert responses(dispatcher) == [names.UTTER_HANDOFF_QUEUED]
    queued = message(dispatcher, names.UTTER_HANDOFF_QUEUED)
    assert (queued["position"], queued["wait_minutes"]) == (1, 3)
    assert events[-1] == ConversationPaused()
    assert SlotSet(names.HUMAN_OFFERED, False) in events
    assert SlotSet(names.FALLBACK_COUNT, 0.0) in events
    with seeded.begin() as s:
        handoff = s.get(Handoff, int(slot_events(events)[names.HANDOFF_ID]))
        assert (handoff.reason, handoff.priority, handoff.conversation_id) == ("user_request", 5, "conv-a")


async def test_queue_positions(tracker_factory, domain, queue, store, tickets):
    from rasa_sdk.executor import CollectingDispatcher

    async def ask(sender, slots):
        d = CollectingDispatcher()
        tracker = tracker_factory(text="转人工", intent="request_human", slots=slots, sender_id=sender)
        await _request(tracker, d, domain, queue, store, tickets)
        return d

    assert message(await ask("r1", REGULAR), names.UTTER_HANDOFF_QUEUED)["position"] == 1
    second = message(await ask("r2", REGULAR), names.UTTER_HANDOFF_QUEUED)
    assert (second["position"], second["wait_minutes"]) == (2, 6)
    vip = await ask("v1", VIP)
    assert responses(vip) == [names.UTTER_HANDOFF_PRIORITY, names.UTTER_HANDOFF_QUEUED]
    assert message(vip, names.UTTER_HANDOFF_QUEUED)["position"] == 1
    # asking again in the same conversation keeps the place
    assert message(await ask("r1", REGULAR), names.UTTER_HANDOFF_QUEUED)["position"] == 2
    assert [h.conversation_id for h in queue.queued()] == ["v1", "r1", "r2"]


@pytest.mark.parametrize(
    "slots, priority, wording",
    [(VIP, 1, names.UTTER_HANDOFF_PRIORITY), (ELDERLY, 2, names.UTTER_HANDOFF_PRIORITY_CARE),
     (ACCESSIBLE, 2, names.UTTER_HANDOFF_PRIORITY_CARE), (VALUED, 2, names.UTTER_PRIVILEGE_PRIORITY)],
    ids=["vip", "elderly", "accessibility", "important-value-privilege"],
)
async def test_priority_customers_are_told_in_words_that_match_who_they_are(
    tracker_factory, dispatcher, domain, queue, store, tickets, seeded, slots, priority, wording
):
    """VIP wording ("尊享客户") for VIP customers only; an elderly customer, or one with a declared
    accessibility need, hears the care wording; an important-value customer hears their privilege."""
    tracker = tracker_factory(text="人工", intent="request_human", slots=slots, sender_id="prio")
    events = await _request(tracker, dispatcher, domain, queue, store, tickets)
    assert responses(dispatcher) == [wording, names.UTTER_HANDOFF_QUEUED]
    with seeded.begin() as s:
        assert s.get(Handoff, int(slot_events(events)[names.HANDOFF_ID])).priority == priority


@pytest.mark.parametrize(
    "intent, offer_reason, reason",
    [("affirm", "bot_failure", "bot_failure"), ("affirm", "negative_sentiment", "negative_sentiment"),
     ("affirm", None, "user_request"), ("request_human", "bot_failure", "user_request")],
)
async def test_reason_after_offer(tracker_factory, dispatcher, domain, queue, store, tickets, seeded, intent, offer_reason, reason):
    slots = {**REGULAR, names.HUMAN_OFFERED: True, names.OFFER_REASON: offer_reason}
    tracker = tracker_factory(text="好的", intent=intent, slots=slots, sender_id="offer")
    events = await _request(tracker, dispatcher, domain, queue, store, tickets)
    with seeded.begin() as s:
        assert s.get(Handoff, int(slot_events(events)[names.HANDOFF_ID])).reason == reason


async def test_queue_unavailable(tracker_factory, dispatcher, domain, store, tickets):
    tracker = tracker_factory(text="转人工", intent="request_human", slots=REGULAR)
    events = await _request(tracker, dispatcher, domain, Unavailable(), store, tickets)
    assert responses(dispatcher) == [names.UTTER_HANDOFF_UNAVAILABLE]
    assert ConversationPaused() not in events
    assert events == [SlotSet(names.HUMAN_OFFERED, False)]


async def test_profiles_unavailable_is_handoff_unavailable(tracker_factory, dispatcher, domain, queue, tickets):
    tracker = tracker_factory(text="转人工", intent="request_human", slots=REGULAR)
    events = await _request(tracker, dispatcher, domain, queue, Unavailable(), tickets)
    assert responses(dispatcher) == [names.UTTER_HANDOFF_UNAVAILABLE]
    assert ConversationPaused() not in events


async def test_order_in_slot_is_in_the_package(tracker_factory, dispatcher, domain, queue, store, tickets, seeded):
    order = store.recent_orders("C000005")[0]
    tracker = tracker_factory(text="转人工", intent="request_human",
                              slots={**REGULAR, names.ORDER_ID: order.order_id}, sender_id="with-order")
    events = await _request(tracker, dispatcher, domain, queue, store, tickets)
    with seeded.begin() as s:
        handoff = s.get(Handoff, int(slot_events(events)[names.HANDOFF_ID]))
        assert handoff.package["summary_facts"]["order_id"] == order.order_id
        assert order.order_id in handoff.summary


# -- fallback ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "slots, count, expected, offered",
    [
        (REGULAR, 0, [names.UTTER_DEFAULT], False),
        (REGULAR, 1, [names.UTTER_DEFAULT, names.UTTER_OFFER_HUMAN], True),
        (VIP, 0, [names.UTTER_DEFAULT, names.UTTER_OFFER_HUMAN], True),
        (ELDERLY, 0, [names.UTTER_DEFAULT, names.UTTER_OFFER_HUMAN], True),
        ({names.IS_GUEST: True}, None, [names.UTTER_DEFAULT], False),
    ],
    ids=["first", "second", "vip-first", "elderly-first", "guest-unset"],
)
async def test_fallback(tracker_factory, dispatcher, domain, slots, count, expected, offered):
    tracker = tracker_factory(text="asdfgh", intent="nlu_fallback", slots={**slots, names.FALLBACK_COUNT: count})
    events = await ActionHandleFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == expected
    assert SlotSet(names.FALLBACK_COUNT, float((count or 0) + 1)) in events
    assert (SlotSet(names.HUMAN_OFFERED, True) in events) is offered
    if offered:
        assert SlotSet(names.OFFER_REASON, "bot_failure") in events


@pytest.mark.parametrize(
    "signals",
    [
        {names.EMOTION: "anxiety", names.SENTIMENT: "negative"},
        {names.EMOTION: "anger", names.SENTIMENT: "negative"},
        {names.EMOTION: "none", names.SENTIMENT: "negative", names.TREND: "worsening"},
    ],
    ids=["anxious", "angry", "worsening"],
)
async def test_fallback_offers_an_upset_customer_a_human_at_once(tracker_factory, dispatcher, domain, signals):
    tracker = tracker_factory(text="我心里实在没底", intent="nlu_fallback", slots={**REGULAR, **signals})
    events = await ActionHandleFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_DEFAULT, names.UTTER_OFFER_HUMAN]
    assert SlotSet(names.OFFER_REASON, "negative_sentiment") in events


async def test_fallback_leaves_a_calming_customer_alone(tracker_factory, dispatcher, domain):
    slots = {**REGULAR, names.EMOTION: "none", names.SENTIMENT: "negative", names.TREND: "improving"}
    events = await ActionHandleFallback().run(dispatcher, tracker_factory(text="嗯", intent="nlu_fallback", slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_DEFAULT]
    assert SlotSet(names.HUMAN_OFFERED, True) not in events


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_fallback_blank_message(tracker_factory, dispatcher, domain, text):
    events = await ActionHandleFallback().run(dispatcher, tracker_factory(text=text, intent="nlu_fallback"), domain)
    assert events == []
    assert responses(dispatcher) == [names.UTTER_EMPTY_MESSAGE]


async def test_decline_human(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="不用了", intent="deny", slots={names.HUMAN_OFFERED: True, names.FALLBACK_COUNT: 2.0})
    events = await ActionDeclineHuman().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_HUMAN_DECLINED]
    assert events == [SlotSet(names.HUMAN_OFFERED, False), SlotSet(names.FALLBACK_COUNT, 0.0)]


async def test_a_regular_customer_hears_no_priority_line(tracker_factory, dispatcher, domain, queue, store, tickets,
                                                         seeded):
    tracker = tracker_factory(text="人工", intent="request_human", slots=REGULAR, sender_id="plain")
    events = await _request(tracker, dispatcher, domain, queue, store, tickets)
    assert responses(dispatcher) == [names.UTTER_HANDOFF_QUEUED]
    with seeded.begin() as s:
        assert s.get(Handoff, int(slot_events(events)[names.HANDOFF_ID])).priority > 2


async def test_the_agent_sees_the_accessibility_need_on_the_card(tracker_factory, dispatcher, domain, queue, store,
                                                                 tickets, seeded):
    from datetime import datetime

    from desk.console.card import build_card

    store.set_accessibility(customer_id="C000005", need="hearing", source="test", conversation_id=None)
    tracker = tracker_factory(text="人工", intent="request_human", slots=REGULAR, sender_id="card")
    events = await _request(tracker, dispatcher, domain, queue, store, tickets)
    handoff = queue.get(int(slot_events(events)[names.HANDOFF_ID]))
    assert build_card(handoff, now=datetime(2026, 11, 20, 12)).profile["accessibility"] == "hearing"
