"""Refunds and complaints: history recalled, ticket kept, human brought in when needed."""

from __future__ import annotations

import json
import re

from rasa_sdk.events import ConversationPaused, SlotSet
from sqlalchemy import func, select

from actions import names
from actions.tickets import ActionHandleComplaint, ActionHandleRefund
from desk.models import Handoff, HandoffStatus, Ticket, TicketContact
from tests.utils.builders import bot_event, message, responses, slot_events, user_event

VIP = {names.CUSTOMER_ID: "C000001", names.CUSTOMER_NAME: "陈静", names.TIER: "vip", names.SEGMENT: "important_value",
       names.IS_GUEST: False, names.LANGUAGE: "zh", names.PERSONALIZED: True, names.SENTIMENT: "negative",
       names.EMOTION: "none", names.TREND: "steady", names.SENTIMENT_HISTORY: [0.0, -0.4], names.TONE: "empathetic"}  # fmt: skip
REGULAR = {names.CUSTOMER_ID: "C000005", names.CUSTOMER_NAME: "张伟", names.TIER: "regular", names.SEGMENT: "potential",
           names.IS_GUEST: False, names.LANGUAGE: "zh", names.PERSONALIZED: True, names.SENTIMENT: "neutral",
           names.EMOTION: "none", names.TREND: "steady", names.SENTIMENT_HISTORY: [0.0]}  # fmt: skip
ELDERLY = {**REGULAR, names.CUSTOMER_ID: "C000002", names.CUSTOMER_NAME: "王秀英", names.ELDERLY: True}
GUEST = {names.IS_GUEST: True, names.SEGMENT: "guest", names.LANGUAGE: "en"}
MOBILE = re.compile(r"1[3-9]\d{9}")


def _refund(tickets, queue, store):
    return ActionHandleRefund(tickets=tickets, queue=queue, profiles=store)


def _complaint(tickets, queue, store):
    return ActionHandleComplaint(tickets=tickets, queue=queue, profiles=store)


def _handoffs(seeded, conversation_id):
    with seeded.begin() as s:
        return s.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)).all()


def _vip_refund_tracker(tracker_factory):
    history = [
        user_event("你好", intent="greet"),
        bot_event("您好，请问有什么可以帮您？"),
        user_event("我的电话是13812341234", intent="inform"),
    ]
    return tracker_factory(text="我要退款，上次说好的退款还没到", intent="request_refund", slots=VIP,
                           sender_id="conv-refund-vip", events=history)


async def test_vip_refund_recalls_history_and_hands_over(tracker_factory, dispatcher, domain, tickets, queue, store, seeded):
    events = await _refund(tickets, queue, store).run(dispatcher, _vip_refund_tracker(tracker_factory), domain)

    said = responses(dispatcher)
    assert said[0] == names.UTTER_TONE_OPENER
    history = message(dispatcher, names.UTTER_REFUND_HISTORY)
    assert history["count"] >= 1
    assert history["last_date"] == "2026-11-08"  # the seeded open refund ticket, 12 days before TODAY
    assert names.UTTER_REFUND_FIRST not in said
    assert said[-2:] == [names.UTTER_HANDOFF_PRIORITY, names.UTTER_HANDOFF_QUEUED]
    assert ConversationPaused() in events

    [handoff] = _handoffs(seeded, "conv-refund-vip")
    assert (handoff.reason, handoff.priority, handoff.status) == ("refund", 1, HandoffStatus.QUEUED.value)
    assert SlotSet(names.HANDOFF_ID, float(handoff.id)) in events
    package = handoff.package
    assert package["profile"]["name"].startswith("陈") and package["profile"]["name"] != "陈静"
    assert "****" in package["profile"]["phone_masked"]
    assert not MOBILE.search(json.dumps(package, ensure_ascii=False))
    assert not MOBILE.search(handoff.summary)
    assert package["sentiment"]["latest"] == "negative"
    assert package["sentiment"]["history"] == [0.0, -0.4]
    assert any(t["topic"] == "refund" for t in package["recent_tickets"])
    texts = [m["text"] for m in package["last_messages"]]
    assert texts[-1] == "我要退款，上次说好的退款还没到"
    assert "我的电话是138****1234" in texts
    assert package["summary_facts"]["intents"][-1] == "request_refund"
    assert "陈静" not in handoff.summary

    with seeded.begin() as s:
        ticket_id = int(slot_events(events)[names.TICKET_ID])
        ticket = s.get(Ticket, ticket_id)
        assert (ticket.topic, ticket.customer_id) == ("refund", "C000001")
        assert package["summary_facts"]["order_id"] == ticket.order_id


async def test_vip_refund_is_the_third_contact(tracker_factory, dispatcher, domain, tickets, queue, store, seeded):
    await _refund(tickets, queue, store).run(dispatcher, _vip_refund_tracker(tracker_factory), domain)
    assert message(dispatcher, "utter_repeat_contact_refund")["count"] == 3
    [handoff] = _handoffs(seeded, "conv-refund-vip")
    assert handoff.package["summary_facts"]["repeat_contacts"] == 3


async def test_asking_twice_in_one_conversation_counts_once(tracker_factory, dispatcher, domain, tickets, queue, store, seeded):
    action = _refund(tickets, queue, store)
    first = await action.run(dispatcher, _vip_refund_tracker(tracker_factory), domain)
    second = await action.run(dispatcher, _vip_refund_tracker(tracker_factory), domain)
    assert slot_events(first)[names.TICKET_ID] == slot_events(second)[names.TICKET_ID]
    assert slot_events(first)[names.HANDOFF_ID] == slot_events(second)[names.HANDOFF_ID]
    with seeded.begin() as s:
        contacts = s.scalar(
            select(func.count()).select_from(TicketContact).where(TicketContact.conversation_id == "conv-refund-vip")
        )
        assert contacts == 1
    assert len(_handoffs(seeded, "conv-refund-vip")) == 1


async def test_guest_refund(tracker_factory, dispatcher, domain, tickets, queue, store, seeded):
    tracker = tracker_factory(text="I want a refund", intent="request_refund", slots=GUEST, sender_id="guest-refund")
    events = await _refund(tickets, queue, store).run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert said[0] == names.UTTER_REFUND_FIRST
    assert names.UTTER_HANDOFF_PRIORITY not in said
    assert said[-1] == names.UTTER_HANDOFF_QUEUED
    assert ConversationPaused() in events
    [handoff] = _handoffs(seeded, "guest-refund")
    assert (handoff.reason, handoff.priority, handoff.customer_id) == ("refund", 4, None)
    assert handoff.package["profile"]["segment"] == "guest"
    assert handoff.package["recent_tickets"] == []
    assert handoff.summary.startswith("Guest")
    with seeded.begin() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.conversation_id == "guest-refund")).one()
        assert (ticket.topic, ticket.customer_id, ticket.priority) == ("refund", None, "high")


async def test_angry_complaint_goes_to_a_human(tracker_factory, dispatcher, domain, tickets, queue, store, seeded):
    slots = {**REGULAR, names.SENTIMENT: "negative", names.EMOTION: "anger", names.TONE: "empathetic"}
    tracker = tracker_factory(text="太差劲了，你们怎么回事", intent="complain", slots=slots, sender_id="angry")
    events = await _complaint(tickets, queue, store).run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert said[:2] == [names.UTTER_COMPLAINT_ACK, names.UTTER_TICKET_OPENED]
    assert said[-1] == names.UTTER_HANDOFF_QUEUED
    assert names.UTTER_ANYTHING_ELSE not in said
    assert ConversationPaused() in events
    [handoff] = _handoffs(seeded, "angry")
    assert (handoff.reason, handoff.priority) == ("negative_sentiment", 3)
    with seeded.begin() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.conversation_id == "angry")).one()
        assert (ticket.topic, ticket.priority) == ("complaint", "high")
    assert message(dispatcher, names.UTTER_TICKET_OPENED)["ticket_id"] == ticket.id


async def test_calm_complaint_is_acknowledged(tracker_factory, dispatcher, domain, tickets, queue, store, seeded):
    tracker = tracker_factory(text="包装有点破损", intent="complain", slots=REGULAR, sender_id="calm")
    events = await _complaint(tickets, queue, store).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_COMPLAINT_ACK, names.UTTER_TICKET_OPENED, names.UTTER_ANYTHING_ELSE]
    assert ConversationPaused() not in events
    assert names.HUMAN_OFFERED not in slot_events(events)
    assert _handoffs(seeded, "calm") == []
    with seeded.begin() as s:
        assert s.scalars(select(Ticket).where(Ticket.conversation_id == "calm")).one().priority == "medium"


async def test_second_complaint_updates_the_ticket(tracker_factory, dispatcher, domain, tickets, queue, store):
    action = _complaint(tickets, queue, store)
    await action.run(dispatcher, tracker_factory(text="包装破了", slots=REGULAR, sender_id="c1"), domain)
    dispatcher.messages.clear()
    await action.run(dispatcher, tracker_factory(text="还是破的", slots=REGULAR, sender_id="c2"), domain)
    said = responses(dispatcher)
    assert names.UTTER_TICKET_UPDATED in said
    assert message(dispatcher, "utter_repeat_contact_complaint")["count"] == 2


async def test_elderly_calm_complaint_is_offered_a_human(tracker_factory, dispatcher, domain, tickets, queue, store, seeded):
    tracker = tracker_factory(text="东西还没收到", intent="complain", slots=ELDERLY, sender_id="elderly")
    events = await _complaint(tickets, queue, store).run(dispatcher, tracker, domain)
    assert responses(dispatcher)[-1] == names.UTTER_OFFER_HUMAN
    assert SlotSet(names.HUMAN_OFFERED, True) in events
    assert SlotSet(names.OFFER_REASON, "priority_customer") in events
    assert ConversationPaused() not in events
    assert _handoffs(seeded, "elderly") == []


async def test_worsening_complaint_is_offered_for_negative_sentiment(tracker_factory, dispatcher, domain, tickets, queue, store):
    slots = {**REGULAR, names.SENTIMENT: "negative", names.TREND: "worsening", names.SENTIMENT_HISTORY: [0.2, -0.4]}
    events = await _complaint(tickets, queue, store).run(dispatcher, tracker_factory(text="很失望", slots=slots), domain)
    assert SlotSet(names.OFFER_REASON, "negative_sentiment") in events


async def test_ticket_store_down_complaint_still_answers(tracker_factory, dispatcher, domain, queue, store):
    from tests.utils.builders import Unavailable

    events = await _complaint(Unavailable(), queue, store).run(
        dispatcher, tracker_factory(text="包装破了", slots=REGULAR), domain
    )
    assert responses(dispatcher) == [names.UTTER_COMPLAINT_ACK, names.UTTER_ANYTHING_ELSE]
    assert events == []
