"""action_queue_turn: a customer's line while waiting for an agent (issue 10 item 3)."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ConversationResumed, SlotSet

from actions import names
from actions.queue_turn import (
    UTTER_QUEUE_CANCELLED,
    UTTER_QUEUE_NOT_WAITING,
    UTTER_QUEUE_NOTE_ADDED,
    UTTER_QUEUE_POSITION,
    UTTER_QUEUE_REFUND_KEPT,
    ActionQueueTurn,
    leaves_queue,
    withdraws_refund,
)
from desk.models import HandoffStatus, Ticket, TicketTopic
from tests.utils.builders import message, responses

SLOTS = {names.CUSTOMER_ID: "C000005", names.LANGUAGE: "zh", names.HANDOFF_ID: 1.0}


def _queued(queue, conversation, *, reason="user_request", order_id=None, priority=5):
    return queue.enqueue(conversation_id=conversation, customer_id="C000005", channel="rest", language="zh",
                         reason=reason, priority=priority, summary="s",
                         package={"summary_facts": {"order_id": order_id}})


def _turn(tracker_factory, text, intent, sender, *, paused=True):
    tracker = tracker_factory(text=text, intent=intent, slots=SLOTS, sender_id=sender)
    tracker._paused = paused
    return tracker


async def _run(action, tracker, dispatcher, domain):
    return await action.run(dispatcher, tracker, domain)


async def test_the_wait_question_gets_the_place_and_estimate(tracker_factory, dispatcher, domain, queue, tickets):
    _queued(queue, "ahead")
    _queued(queue, "w1")
    events = await _run(ActionQueueTurn(queue, tickets), _turn(tracker_factory, "还要等多久？", "queue_wait", "w1"),
                        dispatcher, domain)
    assert events == []
    assert responses(dispatcher) == [UTTER_QUEUE_POSITION]
    shown = message(dispatcher, UTTER_QUEUE_POSITION)
    assert (shown["position"], shown["wait_minutes"]) == (2, 6)


@pytest.mark.parametrize("intent", ["cancel_handoff", "cancel"])
async def test_cancel_leaves_the_queue_and_resumes_the_bot(tracker_factory, dispatcher, domain, queue, tickets, intent):
    handoff = _queued(queue, "c1")
    events = await _run(ActionQueueTurn(queue, tickets), _turn(tracker_factory, "算了不用人工了", intent, "c1"),
                        dispatcher, domain)
    assert responses(dispatcher) == [UTTER_QUEUE_CANCELLED]
    assert events == [ConversationResumed(), SlotSet(names.HANDOFF_ID, None)]
    assert queue.get(handoff.id).status == HandoffStatus.CANCELLED.value


async def test_refund_change_of_mind_is_noted_on_the_ticket(tracker_factory, dispatcher, domain, queue, tickets, seeded):
    ticket = tickets.record_contact(customer_id="C000005", conversation_id="r1", channel="rest",
                                    topic=TicketTopic.REFUND, order_id="E20261120001", subject="refund")
    handoff = _queued(queue, "r1", reason="refund", order_id="E20261120001", priority=4)
    events = await _run(ActionQueueTurn(queue, tickets), _turn(tracker_factory, "不退了", "cancel_handoff", "r1"),
                        dispatcher, domain)
    assert responses(dispatcher) == [UTTER_QUEUE_CANCELLED, UTTER_QUEUE_REFUND_KEPT]
    assert ConversationResumed() in events
    assert queue.get(handoff.id).package["cancelled_by_customer"]["refund_withdrawn"] is True
    with seeded.begin() as s:
        assert s.get(Ticket, ticket.ticket.id).status == "closed"


async def test_other_lines_are_kept_and_acknowledged_once(tracker_factory, domain, queue, tickets):
    from rasa_sdk.executor import CollectingDispatcher

    handoff = _queued(queue, "n1")
    said = []
    for text in ["订单号是 E20261120001", "颜色是黑色的"]:
        d = CollectingDispatcher()
        events = await _run(ActionQueueTurn(queue, tickets), _turn(tracker_factory, text, "inform", "n1"), d, domain)
        assert events == []
        said.append(responses(d))
    assert said == [[UTTER_QUEUE_NOTE_ADDED], []]
    assert [n["text"] for n in queue.get(handoff.id).package["customer_notes"]] == ["订单号是 E20261120001", "颜色是黑色的"]


@pytest.mark.parametrize("intent", ["queue_wait", "cancel_handoff", "inform"])
async def test_silent_once_an_agent_has_claimed(tracker_factory, dispatcher, domain, queue, tickets, intent):
    handoff = _queued(queue, "a1")
    queue.claim(handoff.id, agent_id="alice")
    events = await _run(ActionQueueTurn(queue, tickets), _turn(tracker_factory, "还要等多久", intent, "a1"),
                        dispatcher, domain)
    assert (events, dispatcher.messages) == ([], [])
    assert queue.get(handoff.id).status == HandoffStatus.ASSIGNED.value


async def test_silent_while_a_closed_handoff_waits_for_the_resume(tracker_factory, dispatcher, domain, queue, tickets):
    handoff = _queued(queue, "p1")
    queue.resolve(queue.claim(handoff.id, agent_id="alice").id)
    events = await _run(ActionQueueTurn(queue, tickets), _turn(tracker_factory, "hello", "greet", "p1"),
                        dispatcher, domain)
    assert (events, dispatcher.messages) == ([], [])


@pytest.mark.parametrize("intent", ["queue_wait", "cancel_handoff"])
async def test_outside_the_queue_the_customer_is_told(tracker_factory, dispatcher, domain, queue, tickets, intent):
    events = await _run(ActionQueueTurn(queue, tickets), _turn(tracker_factory, "how long?", intent, "none", paused=False),
                        dispatcher, domain)
    assert events == [] and responses(dispatcher) == [UTTER_QUEUE_NOT_WAITING]


@pytest.mark.parametrize("text, expected", [
    ("不退了", True), ("算了不退了", True), ("我不退款了", True), ("退款不要了", True), ("退款申请撤回吧", True),
    ("撤回退款", True), ("I don't want the refund anymore", True), ("keep the order, no refund", True),
    ("不用人工了", False), ("cancel", False), ("never mind the agent", False),
])
def test_withdraws_refund(text, expected):
    assert withdraws_refund(text) is expected


@pytest.mark.parametrize("intent, text, expected", [
    ("cancel_handoff", "不用人工了", True), ("cancel", "never mind", True), ("deny", "算了", True),
    ("deny", "cancel", True), ("deny", "Never mind!", True), ("deny", "不对", False), ("deny", "no", False),
    ("inform", "cancel order E20261120001", False), ("queue_wait", "还要等多久", False),
    ("request_refund", "退款的事就算了", True), ("request_refund", "我不打算退款了", True),
    ("request_human", "不要再给我转人工了", True), ("request_human", "don't transfer me to anybody", True),
    ("request_refund", "no refund for me, thanks", True),
    ("request_refund", "我要退款", False), ("request_human", "转人工", False), ("request_refund", "I want my refund now", False),
    ("request_human", "please connect me to a person", False), ("request_refund", "退款什么时候到", False),
    ("request_refund", "为什么不给我退款", False), ("request_human", "人工客服不在吗", False),
])
def test_leaves_queue(intent, text, expected):
    assert leaves_queue(intent, text) is expected


@pytest.mark.parametrize("ranking, text, expected", [
    # unsure between the refund and the cancel: the ranking decides, the words say "no refund"
    ([{"name": "nlu_fallback", "confidence": 0.3}, {"name": "request_refund", "confidence": 0.42},
      {"name": "cancel_handoff", "confidence": 0.4}], "I changed my mind, no refund please", True),
    ([{"name": "nlu_fallback", "confidence": 0.3}, {"name": "cancel_handoff", "confidence": 0.41}],
     "hmm forget it all", True),
    # unsure and not a cancel: kept for the agent
    ([{"name": "nlu_fallback", "confidence": 0.3}, {"name": "request_refund", "confidence": 0.42}],
     "the refund is for the blue one", False),
    ([], "??", False),
])
def test_an_unsure_line_counts_by_its_first_ranked_intent(ranking, text, expected):
    assert leaves_queue("nlu_fallback", text, ranking) is expected


async def test_an_unsure_english_change_of_mind_leaves_and_is_not_kept_as_a_note(
        tracker_factory, dispatcher, domain, queue, tickets, seeded):
    ticket = tickets.record_contact(customer_id="C000005", conversation_id="r2", channel="rest",
                                    topic=TicketTopic.REFUND, order_id="E20261120001", subject="refund")
    handoff = _queued(queue, "r2", reason="refund", order_id="E20261120001", priority=4)
    tracker = _turn(tracker_factory, "I changed my mind, no refund please", "nlu_fallback", "r2")
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.3}, {"name": "request_refund", "confidence": 0.42},
        {"name": "cancel_handoff", "confidence": 0.4}]
    events = await _run(ActionQueueTurn(queue, tickets), tracker, dispatcher, domain)
    assert responses(dispatcher) == [UTTER_QUEUE_CANCELLED, UTTER_QUEUE_REFUND_KEPT]
    assert ConversationResumed() in events
    assert queue.get(handoff.id).status == HandoffStatus.CANCELLED.value
    assert not queue.get(handoff.id).package.get("customer_notes")
    with seeded.begin() as s:
        assert s.get(Ticket, ticket.ticket.id).status == "closed"
