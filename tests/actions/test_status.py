"""Ticket and refund status in chat, the chosen reply language, and serving a concrete request before routing."""

from __future__ import annotations

from rasa_sdk.events import ConversationPaused
from sqlalchemy import select

from actions import names
from actions.signals import ActionValidateSlotMappings
from actions.status import LANGUAGE_CHOICE, ActionSwitchLanguage, ActionTicketStatus, chosen_language
from actions.tickets import ActionHandleComplaint, ActionHandleRefund
from desk.models import Handoff, Ticket
from tests.utils.builders import message, responses, slot_events

VIP = {names.CUSTOMER_ID: "C000001", names.CUSTOMER_NAME: "陈静", names.TIER: "vip", names.SEGMENT: "important_value",
       names.IS_GUEST: False, names.LANGUAGE: "zh", names.PERSONALIZED: True, names.SENTIMENT: "neutral",
       names.EMOTION: "none", names.TREND: "steady", names.SENTIMENT_HISTORY: [0.0], names.TONE: "neutral"}  # fmt: skip
REGULAR = {**VIP, names.CUSTOMER_ID: "C000005", names.CUSTOMER_NAME: "张伟", names.TIER: "regular",
           names.SEGMENT: "potential"}  # fmt: skip
ELDERLY = {**REGULAR, names.CUSTOMER_ID: "C000002", names.CUSTOMER_NAME: "王秀英", names.ELDERLY: True,
           names.RECENT_ORDER_IDS: []}  # fmt: skip
GUEST = {names.IS_GUEST: True, names.SEGMENT: "guest", names.LANGUAGE: "en"}
UPSET = {names.SENTIMENT: "negative", names.EMOTION: "anger", names.SENTIMENT_HISTORY: [-0.6, -0.8],
         names.TONE: "empathetic"}  # fmt: skip


def _refund_ticket(seeded) -> Ticket:  # type: ignore[no-untyped-def]
    with seeded.begin() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.customer_id == "C000001", Ticket.topic == "refund",
                                                Ticket.status == "open")).one()
        s.expunge(ticket)
        return ticket


def _handoffs(seeded, conversation_id):  # type: ignore[no-untyped-def]
    with seeded.begin() as s:
        return s.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)).all()


async def test_my_tickets_lists_the_open_ones_with_status_and_due_time(tracker_factory, dispatcher, domain, tickets, seeded):
    tracker = tracker_factory(text="我的工单", intent="ticket_status", slots=VIP)
    await ActionTicketStatus(tickets=tickets).run(dispatcher, tracker, domain)
    ticket = _refund_ticket(seeded)
    assert message(dispatcher, "utter_ticket_status_intro")["count"] == 1
    line = message(dispatcher, "utter_ticket_status_line")
    assert line["ticket_id"] == ticket.id and line["topic"] == "退款" and line["state"] == "已受理，专员处理中"
    assert ticket.order_id in line["order"]
    assert line["due"][:4] == "2026" and ":" in line["due"]


async def test_an_english_customer_reads_the_words_in_english(tracker_factory, dispatcher, domain, tickets, seeded):
    tracker = tracker_factory(text="my tickets", intent="ticket_status", slots={**VIP, names.LANGUAGE: "en"})
    await ActionTicketStatus(tickets=tickets).run(dispatcher, tracker, domain)
    line = message(dispatcher, "utter_ticket_status_line")
    assert (line["topic"], line["state"]) == ("Refund", "received and being handled by a specialist")


async def test_a_guest_is_asked_to_sign_in(tracker_factory, dispatcher, domain, tickets):
    tracker = tracker_factory(text="my ticket", intent="ticket_status", slots=GUEST)
    await ActionTicketStatus(tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ticket_status_sign_in"]


async def test_no_open_tickets_is_said_plainly(tracker_factory, dispatcher, domain, tickets):
    tracker = tracker_factory(text="我的工单", intent="ticket_status", slots=ELDERLY)
    await ActionTicketStatus(tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ticket_status_none"]


async def test_the_refund_of_an_order_is_answered_from_its_ticket(tracker_factory, dispatcher, domain, tickets, seeded):
    ticket = _refund_ticket(seeded)
    slots = {**VIP, names.ORDER_ID: ticket.order_id}
    tracker = tracker_factory(text=f"{ticket.order_id}的退款到账了吗", intent="ticket_status", slots=slots)
    events = await ActionTicketStatus(tickets=tickets).run(dispatcher, tracker, domain)
    said = message(dispatcher, "utter_refund_in_progress")
    assert (said["order_id"], said["ticket_id"]) == (ticket.order_id, ticket.id)
    assert names.UTTER_OFFER_HUMAN not in responses(dispatcher)
    assert ConversationPaused() not in events


async def test_a_refund_asked_again_for_an_order_with_an_open_refund_is_not_a_second_handoff(
    tracker_factory, dispatcher, domain, tickets, queue, store, seeded
):
    ticket = _refund_ticket(seeded)
    slots = {**VIP, names.ORDER_ID: ticket.order_id}
    tracker = tracker_factory(text=f"{ticket.order_id}的退款到账了吗", intent="request_refund", slots=slots,
                              sender_id="refund-again")
    events = await ActionHandleRefund(tickets=tickets, queue=queue, profiles=store).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_refund_in_progress")["ticket_id"] == ticket.id
    assert ConversationPaused() not in events
    assert _handoffs(seeded, "refund-again") == []
    assert slot_events(events)[names.TICKET_ID] == float(ticket.id)


async def test_an_upset_customer_asking_about_the_open_refund_is_offered_a_human(
    tracker_factory, dispatcher, domain, tickets, queue, store, seeded
):
    ticket = _refund_ticket(seeded)
    slots = {**VIP, **UPSET, names.ORDER_ID: ticket.order_id}
    tracker = tracker_factory(text="退款到底什么时候到账！", intent="request_refund", slots=slots, sender_id="refund-upset")
    events = await ActionHandleRefund(tickets=tickets, queue=queue, profiles=store).run(dispatcher, tracker, domain)
    assert "utter_refund_in_progress" in responses(dispatcher)
    assert responses(dispatcher)[-1] == names.UTTER_OFFER_HUMAN
    assert slot_events(events)[names.HUMAN_OFFERED] is True
    assert _handoffs(seeded, "refund-upset") == []


async def test_switching_language_is_kept(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="can you reply in English please?", intent="switch_language", slots=VIP)
    events = slot_events(await ActionSwitchLanguage().run(dispatcher, tracker, domain))
    assert (events[LANGUAGE_CHOICE], events[names.LANGUAGE]) == ("en", "en")
    back = tracker_factory(text="说中文", intent="switch_language", slots={**VIP, names.LANGUAGE: "en"})
    events = slot_events(await ActionSwitchLanguage().run(dispatcher, back, domain))
    assert (events[LANGUAGE_CHOICE], events[names.LANGUAGE]) == ("zh", "zh")


def test_the_chosen_language_wins_over_what_is_written() -> None:
    assert chosen_language("请用英文回复") == "en"
    assert chosen_language("English please") == "en"
    assert chosen_language("说中文") == "zh"
    assert chosen_language("can you reply in Chinese") == "zh"
    assert chosen_language("switch language", current="zh") == "en"


async def test_the_turn_keeps_the_chosen_language(tracker_factory, dispatcher, domain, conversations):
    slots = {**VIP, LANGUAGE_CHOICE: "en", names.LANGUAGE: "en"}
    tracker = tracker_factory(text="我的订单到哪了", intent="order_status", slots=slots)
    action = ActionValidateSlotMappings(analyzer=_Neutral(), conversations=conversations)
    events = slot_events(await action.run(dispatcher, tracker, domain))
    await _settled()  # the dashboards' note writes to this test's database: let it finish first
    assert events.get(names.LANGUAGE, "en") == "en"


async def test_a_guest_writing_english_is_an_english_conversation(tracker_factory, dispatcher, domain, conversations, seeded):
    from desk.models import Conversation

    conversations.touch(conversation_id="guest-en", channel="rest", customer_id=None, language="zh")
    tracker = tracker_factory(text="where is my order", intent="order_status", slots={**GUEST, names.LANGUAGE: "zh"},
                              sender_id="guest-en")
    action = ActionValidateSlotMappings(analyzer=_Neutral(), conversations=conversations)
    events = slot_events(await action.run(dispatcher, tracker, domain))
    assert events[names.LANGUAGE] == "en"
    await _settled()
    with seeded.begin() as s:
        assert s.get(Conversation, "guest-en").language == "en"


async def test_an_elderly_customer_asking_where_her_parcel_is_gets_it_looked_up(
    tracker_factory, dispatcher, domain, tickets, queue, store, seeded
):
    """"我的快递怎么还没到啊": her order is shown, a human is offered, and no complaint ticket is opened."""
    recent = [o.order_id for o in store.recent_orders("C000002")]
    slots = {**ELDERLY, names.RECENT_ORDER_IDS: recent, names.TONE: "elder_friendly"}
    tracker = tracker_factory(text="我的快递怎么还没到啊", intent="complain", slots=slots, sender_id="elderly-parcel")
    events = await ActionHandleComplaint(tickets=tickets, queue=queue, profiles=store).run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert "utter_order_status_shipped" in said
    assert names.UTTER_COMPLAINT_ACK not in said and names.UTTER_TICKET_OPENED not in said
    assert said[-1] == names.UTTER_OFFER_HUMAN
    assert slot_events(events)[names.HUMAN_OFFERED] is True
    with seeded.begin() as s:
        topics = [t.topic for t in s.scalars(select(Ticket).where(Ticket.conversation_id == "elderly-parcel"))]
    assert "complaint" not in topics


async def test_an_angry_customer_asking_where_the_parcel_is_gets_it_and_a_human(
    tracker_factory, dispatcher, domain, tickets, queue, store, seeded
):
    recent = [o.order_id for o in store.recent_orders("C000005")]
    slots = {**REGULAR, **UPSET, names.RECENT_ORDER_IDS: recent}
    tracker = tracker_factory(text="我的快递怎么还没到！！到底在哪", intent="complain", slots=slots, sender_id="angry-parcel")
    events = await ActionHandleComplaint(tickets=tickets, queue=queue, profiles=store).run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert any(r and r.startswith("utter_order_status_") for r in said)
    assert names.UTTER_HANDOFF_PRIORITY not in said  # not VIP: no VIP words
    assert names.UTTER_HANDOFF_QUEUED in said or said[-1] == names.UTTER_OFFER_HUMAN
    with seeded.begin() as s:
        topics = [t.topic for t in s.scalars(select(Ticket).where(Ticket.conversation_id == "angry-parcel"))]
    assert "complaint" not in topics
    assert events


async def test_a_real_complaint_still_opens_a_complaint_ticket(tracker_factory, dispatcher, domain, tickets, queue, store, seeded):
    tracker = tracker_factory(text="客服态度太差了，我要投诉", intent="complain", slots=REGULAR, sender_id="real-complaint")
    await ActionHandleComplaint(tickets=tickets, queue=queue, profiles=store).run(dispatcher, tracker, domain)
    assert names.UTTER_COMPLAINT_ACK in responses(dispatcher)
    with seeded.begin() as s:
        topics = [t.topic for t in s.scalars(select(Ticket).where(Ticket.conversation_id == "real-complaint"))]
    assert topics == ["complaint"]


class _Neutral:
    def analyze(self, text):  # type: ignore[no-untyped-def]
        from sentiment import SentimentResult

        return SentimentResult.neutral()


async def _settled() -> None:
    import asyncio

    from actions import signals

    loop = asyncio.get_running_loop()
    await asyncio.gather(*(task for task in signals._pending if task.get_loop() is loop))


async def test_an_elderly_customer_asking_for_her_order_is_shown_it_not_asked_for_a_number(
    tracker_factory, dispatcher, domain, tickets, store
):
    from actions.orders import ActionCheckOrder

    recent = [o.order_id for o in store.recent_orders("C000002")]
    slots = {**ELDERLY, names.RECENT_ORDER_IDS: recent, names.TONE: "elder_friendly"}
    tracker = tracker_factory(text="我的快递到哪了", intent="order_status", slots=slots)
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert "utter_order_status_shipped" in said and names.UTTER_ASK_ORDER_ID_WITH_RECENT not in said
    assert said[-1] == names.UTTER_OFFER_HUMAN
    assert slot_events(events)[names.ORDER_ID] in recent


async def test_a_calm_regular_customer_is_still_asked_which_order(tracker_factory, dispatcher, domain, tickets, store):
    from actions.orders import ActionCheckOrder

    recent = [o.order_id for o in store.recent_orders("C000005")]
    tracker = tracker_factory(text="我的订单到哪了", intent="order_status", slots={**REGULAR, names.RECENT_ORDER_IDS: recent})
    await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_ASK_ORDER_ID_WITH_RECENT]
