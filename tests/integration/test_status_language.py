"""Serve then route, ticket and refund status, the reply language and everyday noise, over HTTP against
the real Rasa server and action server, checked in the database (issue 10 items 4-6)."""

from __future__ import annotations

from sqlalchemy import select

from desk.models import Conversation, Handoff, Ticket
from tests.integration.conftest import Assistant
from tests.integration.test_conversations import as_customer, handoffs_of, new_sender, order_of
from tests.utils.builders import load_domain

RESPONSES = load_domain()["responses"]


def _texts(response: str, language: str) -> list[str]:
    return [v["text"] for v in RESPONSES[response]
            if {"name": "language", "type": "slot", "value": language} in (v.get("condition") or [])]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _open_refund(bot: Assistant) -> Ticket:
    with bot.session_factory() as session:
        return session.scalars(select(Ticket).where(Ticket.customer_id == "C000001", Ticket.topic == "refund",
                                                    Ticket.status == "open")).first()


def test_my_tickets_lists_the_open_ones_with_status_and_due_time(assistant: Assistant) -> None:
    ticket = _open_refund(assistant)
    for text in ("我的工单", "我之前提交的退款工单现在处理到哪一步了？"):
        replies = " ".join(assistant.texts(as_customer(assistant, "demo-vip-zh"), text))
        assert f"#{ticket.id}" in replies and "退款" in replies and "预计" in replies, (text, replies)
    english = " ".join(assistant.texts(as_customer(assistant, "demo-vip-zh"), "my tickets"))
    assert f"#{ticket.id}" in english and "expected by" in english


def test_a_guest_is_asked_to_sign_in_for_tickets(assistant: Assistant) -> None:
    replies = assistant.texts(new_sender("guest"), "my ticket")
    assert _texts("utter_ticket_status_sign_in", "en")[0] in replies


def test_an_orders_open_refund_is_answered_from_its_ticket_and_not_handed_over_again(assistant: Assistant) -> None:
    ticket = _open_refund(assistant)
    sender = as_customer(assistant, "demo-vip-zh")
    replies = " ".join(assistant.texts(sender, f"{ticket.order_id}的退款到账了吗"))
    assert ticket.order_id in replies and f"#{ticket.id}" in replies
    assert [h for h in handoffs_of(assistant, sender) if h.reason == "refund"] == []
    # the bot is still talking (not paused for a second refund handoff)
    assert assistant.texts(sender, "谢谢")


def test_an_elderly_customers_parcel_is_looked_up_with_a_human_offered_and_no_complaint_ticket(
    assistant: Assistant,
) -> None:
    order = order_of(assistant, "demo-elderly-zh", "shipped")
    sender = as_customer(assistant, "demo-elderly-zh")
    messages = assistant.say(sender, "我的快递怎么还没到啊")
    replies = " ".join(m.get("text", "") for m in messages)
    assert order.id in replies  # her order is looked up and shown
    assert "尊享" not in replies  # no VIP words for a customer who is not VIP
    offered = any(m.get("buttons") for m in messages) or bool(handoffs_of(assistant, sender))
    assert offered
    with assistant.session_factory() as session:
        topics = [t.topic for t in session.scalars(select(Ticket).where(Ticket.conversation_id == sender))]
    assert "complaint" not in topics


def test_an_elderly_customer_handed_over_hears_care_words_not_vip_words(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-elderly-zh")
    replies = " ".join(assistant.texts(sender, "转人工"))
    assert _texts("utter_handoff_priority_care", "zh")[0] in replies and "尊享" not in replies
    with assistant.session_factory() as session:
        assert session.scalars(select(Handoff).where(Handoff.conversation_id == sender)).first() is not None


def test_the_customer_switches_language_and_the_bot_keeps_it(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-regular-zh")
    switched = assistant.texts(sender, "can you reply in English please?")
    assert _texts("utter_language_switched", "en")[0] in switched
    # a Chinese line afterwards is still answered in English
    later = assistant.texts(sender, "我的订单到哪了")
    assert later and not any(_has_cjk(t) for t in later), later
    back = assistant.texts(sender, "说中文")
    assert _texts("utter_language_switched", "zh")[0] in back


def test_a_guest_writing_english_is_recorded_as_an_english_conversation(assistant: Assistant) -> None:
    sender = new_sender("guest")
    assert assistant.texts(sender, "hello, where is my order?")
    import time

    for _ in range(20):  # the dashboards' note is written just after the reply
        with assistant.session_factory() as session:
            if session.get(Conversation, sender) and session.get(Conversation, sender).language == "en":
                break
        time.sleep(0.25)
    with assistant.session_factory() as session:
        assert session.get(Conversation, sender).language == "en"


def test_noise_is_understood_and_the_customers_words_are_kept(assistant: Assistant) -> None:
    order = order_of(assistant, "demo-regular-zh", "shipped")
    sender = as_customer(assistant, "demo-regular-zh")
    traditional = f"訂單{order.id}到哪了？？？😡"
    replies = " ".join(assistant.texts(sender, traditional))
    assert order.id in replies
    typo = as_customer(assistant, "demo-new-en")
    messages = assistant.say(typo, "wher is my ordr")
    assert any(b["payload"].startswith('/inform{"order_id":"E') for m in messages for b in m.get("buttons", []))
    full_width = " ".join(assistant.texts(as_customer(assistant, "demo-regular-zh"), f"Ｅ{order.id[1:]}到哪了"))
    assert order.id in full_width
    # the transcript keeps exactly what was written; the parse data carries both forms
    events = assistant.tracker(sender)["events"]
    user = [e for e in events if e.get("event") == "user"][-1]
    assert user["text"] == traditional
    assert user["parse_data"]["text_original"] == traditional
    assert "订单" in user["parse_data"]["text_normalised"] and "😡" not in user["parse_data"]["text_normalised"]
