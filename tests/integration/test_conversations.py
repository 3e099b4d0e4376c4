"""Whole conversations over HTTP against the real Rasa server and action server, checked in the database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from demo.seed import DEMO_CAST
from desk.models import Conversation, ConversationStatus, Feedback, Handoff, Ticket, TicketTopic
from profiles.models import ChannelIdentity, ConsentChange, Order
from tests.integration.conftest import ROOT, Assistant


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def as_customer(bot: Assistant, demo_id: str) -> str:
    """A new conversation id (a new web session) signed in as one of the demo customers."""
    sender = new_sender(demo_id)
    with bot.session_factory.begin() as session:
        session.add(ChannelIdentity(channel="rest", external_id=sender, customer_id=DEMO_CAST[demo_id]))
    return sender


def order_of(bot: Assistant, demo_id: str, status: str) -> Order:
    customer_id = DEMO_CAST[demo_id]
    with bot.session_factory() as session:
        return session.scalars(
            select(Order).where(Order.customer_id == customer_id, Order.status == status).order_by(Order.created_at.desc())
        ).first()


def handoffs_of(bot: Assistant, sender: str) -> list[Handoff]:
    with bot.session_factory() as session:
        return list(session.scalars(select(Handoff).where(Handoff.conversation_id == sender)))


def test_greeting_uses_the_customers_name_and_language(assistant: Assistant) -> None:
    replies = assistant.texts(as_customer(assistant, "demo-vip-zh"), "你好")
    assert replies and "陈静" in " ".join(replies)
    english = assistant.texts(new_sender("guest"), "hello there")
    assert english and all(not any("\u4e00" <= c <= "\u9fff" for c in t) for t in english)


def test_order_status_with_a_number_reads_the_database(assistant: Assistant) -> None:
    order = order_of(assistant, "demo-vip-zh", "shipped")
    replies = " ".join(assistant.texts(as_customer(assistant, "demo-vip-zh"), f"订单{order.id[1:]}到哪了"))
    assert order.id in replies
    assert "顺丰" in replies and order.tracking_no in replies
    # a guest is asked for the last four digits of the phone on the order first (issue 11 item 3;
    # tests/integration/test_order_access.py)
    english = " ".join(assistant.texts(new_sender("guest"), f"where is my order {order.id}?"))
    assert order.id in english and "SF Express" not in english and "last four digits" in english


def test_mixed_language_turn_is_answered_in_chinese(assistant: Assistant) -> None:
    order = order_of(assistant, "demo-regular-zh", "shipped")
    replies = " ".join(assistant.texts(new_sender("mixed"), f"我的order {order.id} 到哪了"))
    assert order.id in replies and any("\u4e00" <= c <= "\u9fff" for c in replies)


def test_unknown_order_number_gets_a_helpful_reply(assistant: Assistant) -> None:
    replies = " ".join(assistant.texts(new_sender("guest"), "where is order E20991231999"))
    assert "E20991231999" in replies


def test_order_question_without_number_offers_recent_orders(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-new-en")
    messages = assistant.say(sender, "where is my package?")
    buttons = [b for m in messages for b in m.get("buttons", [])]
    assert buttons and all(b["payload"].startswith('/inform{"order_id":"E') for b in buttons)
    follow = " ".join(m.get("text", "") for m in assistant.say(sender, buttons[0]["payload"]))
    assert buttons[0]["title"] in follow


def test_refund_recalls_history_and_hands_over_with_a_complete_package(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-vip-zh")
    replies = " ".join(assistant.texts(sender, "我要退款，东西不想要了"))
    assert "3" in replies  # third contact about this refund within 30 days
    [handoff] = [h for h in handoffs_of(assistant, sender) if h.reason == "refund"]
    assert handoff.priority == 1 and handoff.status == "queued"
    package = handoff.package
    assert package["profile"]["tier"] == "vip"
    assert "陈静" not in str(package) and package["profile"]["name"].startswith("陈")
    assert package["recent_tickets"] and package["last_messages"]
    assert package["sentiment"]["history"]
    assert handoff.summary
    with assistant.session_factory() as session:
        conversation = session.get(Conversation, sender)
        assert conversation.status == ConversationStatus.QUEUED.value
    # queued: the bot still answers while nobody has claimed it (test_queue_live.py), and the message is kept
    assert assistant.say(sender, "还在吗")
    events = assistant.tracker(sender)["events"]
    assert any(e.get("event") == "user" and e.get("text") == "还在吗" for e in events)


def test_angry_customer_is_handed_over(assistant: Assistant) -> None:
    sender = new_sender("angry")
    assistant.texts(sender, "This is ridiculous, I've been waiting for days and nobody helps!")
    [handoff] = handoffs_of(assistant, sender)
    assert handoff.reason == "negative_sentiment"
    with assistant.session_factory() as session:
        tickets = list(session.scalars(select(Ticket).where(Ticket.conversation_id == sender)))
    assert [t.topic for t in tickets] == [TicketTopic.COMPLAINT.value]


def test_asking_for_a_person_hands_over(assistant: Assistant) -> None:
    for text in ("转人工", "real person please"):
        sender = new_sender("human")
        replies = assistant.texts(sender, text)
        assert replies
        [handoff] = handoffs_of(assistant, sender)
        assert handoff.reason == "user_request"


def test_faq_answers_come_from_the_knowledge_base(assistant: Assistant) -> None:
    kb = {e["id"]: e for e in yaml.safe_load((ROOT / "knowledge_base" / "faq.yml").read_text(encoding="utf-8"))}
    zh = " ".join(assistant.texts(new_sender("faq"), "你们支持哪些付款方式？"))
    assert zh == kb["payment_methods"]["answer"]["zh"].strip()
    en = " ".join(assistant.texts(new_sender("faq"), "how long does delivery usually take?"))
    assert en == kb["shipping_time"]["answer"]["en"].strip()


def test_feedback_is_stored_and_a_low_score_opens_a_follow_up(assistant: Assistant) -> None:
    sender = new_sender("csat")
    assistant.texts(sender, "hi")
    asked = assistant.say(sender, "bye")
    assert any(m.get("buttons") for m in asked)
    assistant.texts(sender, "1")
    assistant.texts(sender, "the answer took too long, call me on 13812341234")
    with assistant.session_factory() as session:
        [row] = list(session.scalars(select(Feedback).where(Feedback.conversation_id == sender)))
        assert row.rating == 1 and "138****1234" in row.comment and "13812341234" not in row.comment
        followup = session.get(Ticket, row.followup_ticket_id)
        assert followup.topic == TicketTopic.FEEDBACK_FOLLOWUP.value
        assert timedelta(hours=23, minutes=59) <= followup.due_at - followup.created_at <= timedelta(hours=24, minutes=1)


def test_personalisation_can_be_switched_off_and_on(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-elderly-zh")
    assert "王秀英" in " ".join(assistant.texts(sender, "你好"))
    assistant.texts(sender, "不要根据我的信息推荐")
    assert "王秀英" not in " ".join(assistant.texts(sender, "你好"))
    assistant.texts(sender, "可以根据我的信息推荐了，打开个性化")
    with assistant.session_factory() as session:
        changes = list(session.scalars(select(ConsentChange).where(ConsentChange.conversation_id == sender)))
    assert [c.personalization for c in changes] == [False, True]
    assert "王秀英" in " ".join(assistant.texts(sender, "你好"))


def test_address_change_for_an_order_not_yet_shipped(assistant: Assistant) -> None:
    order = order_of(assistant, "demo-regular-zh", "paid")
    sender = as_customer(assistant, "demo-regular-zh")
    assistant.texts(sender, "我想改一下收货地址")
    assistant.texts(sender, order.id)
    assistant.texts(sender, "上海市浦东新区世纪大道100号环球金融中心")
    replies = " ".join(assistant.texts(sender, "是的"))
    assert order.id in replies
    with assistant.session_factory() as session:
        assert session.get(Order, order.id).address == "上海市浦东新区世纪大道100号环球金融中心"


def test_address_of_a_shipped_order_is_kept_with_the_reason(assistant: Assistant) -> None:
    order = order_of(assistant, "demo-elderly-zh", "shipped")
    before = order.address
    sender = as_customer(assistant, "demo-elderly-zh")
    assistant.texts(sender, "我想改收货地址")
    replies = " ".join(assistant.texts(sender, order.id))
    assert order.id in replies
    with assistant.session_factory() as session:
        assert session.get(Order, order.id).address == before


def test_two_fallbacks_in_a_row_offer_a_human(assistant: Assistant) -> None:
    sender = new_sender("lost")
    first = assistant.say(sender, "qwzx plorf vuut")
    second = assistant.say(sender, "zzkq bnnm ttrw")
    assert first and not any(m.get("buttons") for m in first)
    assert any(m.get("buttons") for m in second)
    assistant.texts(sender, "yes")
    [handoff] = handoffs_of(assistant, sender)
    assert handoff.reason == "bot_failure"


def test_bad_input_gets_a_polite_reply_and_nothing_is_lost(assistant: Assistant) -> None:
    inputs = [
        "",
        "   \t  ",
        "退" * 3900,
        "😡😡😡🙏",
        "hello\x00\x07\x1b[31m",
        "'; DROP TABLE orders; --",
        "<script>alert(1)</script>",
        "{{7*7}} ${jndi:ldap://x}",
        "E20991231999",
    ]
    for text in inputs:
        sender = new_sender("fuzz")
        replies = assistant.say(sender, text)
        assert replies, f"no reply to {text[:20]!r}"
        assert all(r.get("text") or r.get("buttons") for r in replies)
        events = assistant.tracker(sender)["events"]
        # every message is in the transcript (surrounding whitespace stripped, NUL characters dropped)
        assert [e.get("text") for e in events if e.get("event") == "user"] == [text.replace("\x00", "").strip()]
    assert assistant.healthy()
    with assistant.session_factory() as session:
        assert session.scalar(select(Order.id).limit(1)) is not None  # the orders table is intact


def test_a_message_over_the_size_limit_is_refused_clearly_and_not_half_stored(assistant: Assistant) -> None:
    import urllib.error

    sender = new_sender("huge")
    with pytest.raises(urllib.error.HTTPError) as refused:
        assistant.say(sender, "退" * 5000)
    assert refused.value.code == 413 and b"too long" in refused.value.read()
    assert [e for e in assistant.tracker(sender)["events"] if e.get("event") == "user"] == []


def test_unprompted_rating_and_a_praising_comment(assistant: Assistant) -> None:
    sender = new_sender("rate")
    assistant.texts(sender, "你好")
    asked_comment = assistant.say(sender, "我给5分")
    assert any(m.get("buttons") for m in asked_comment)  # the comment question, with "skip"
    assistant.texts(sender, "服务很好，很专业")
    with assistant.session_factory() as session:
        [row] = list(session.scalars(select(Feedback).where(Feedback.conversation_id == sender)))
    assert (row.rating, row.comment, row.followup_ticket_id) == (5, "服务很好，很专业", None)


def test_a_resolved_handoff_resumes_the_bot_and_asks_for_a_rating(assistant: Assistant) -> None:
    import asyncio

    from desk.handoffs import HandoffQueue
    from desk.rasa_client import RasaClient
    from desk.resolution import resolve_and_resume

    sender = as_customer(assistant, "demo-regular-zh")
    assistant.texts(sender, "转人工")
    [handoff] = handoffs_of(assistant, sender)
    queue = HandoffQueue(assistant.session_factory)
    queue.claim(handoff.id, agent_id="agent-7")
    assert assistant.say(sender, "你好？") == []  # with an agent: the bot stays silent, the line is kept
    resolved, messages = asyncio.run(resolve_and_resume(queue, RasaClient(assistant.rasa_url, token=assistant.token), handoff.id))
    assert resolved.status == "resolved"
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert payloads and all(p.startswith("/rate_service") for p in payloads)  # the 1-5 question, in the channel
    asked_comment = assistant.say(sender, "4")
    assert [b["payload"] for m in asked_comment for b in m.get("buttons", [])] == ["/deny"]
    assert assistant.texts(sender, "跳过")
    with assistant.session_factory() as session:
        [row] = list(session.scalars(select(Feedback).where(Feedback.conversation_id == sender)))
    assert (row.rating, row.handoff_id) == (4, handoff.id)
    events = assistant.tracker(sender)["events"]
    assert any(e.get("event") == "user" and e.get("text") == "你好？" for e in events)
    assert any(e.get("event") == "resume" for e in events)


def test_declining_to_rate_ends_politely_and_is_not_asked_again(assistant: Assistant) -> None:
    sender = new_sender("norate")
    assistant.texts(sender, "hello")
    asked = assistant.say(sender, "bye")
    assert any(b["payload"].startswith("/rate_service") for m in asked for b in m.get("buttons", []))
    farewell = assistant.say(sender, "bye")
    assert farewell and not any(m.get("buttons") for m in farewell)
    again = assistant.say(sender, "goodbye")
    assert again and not any(m.get("buttons") for m in again)
    with assistant.session_factory() as session:  # one ask, recorded as not answered (a request, not a rating)
        [row] = list(session.scalars(select(Feedback).where(Feedback.conversation_id == sender)))
    assert row.rating is None and row.comment is None


def _tone_texts(response: str | None, tone: str) -> set[str]:
    """Texts conditioned on one tone, of one response or (``None``) of every response in the domain."""
    texts = set()
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        for name, variants in (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).items():
            if response in (None, name):
                texts |= {v["text"] for v in variants
                          if {"type": "slot", "name": "tone", "value": tone} in v.get("condition", [])}
    return texts


def _slots(bot: Assistant, sender: str) -> dict:
    return bot.tracker(sender)["slots"]


def _offered_or_handed_over(bot: Assistant, sender: str, replies: list[dict]) -> bool:
    offers = _tone_texts("utter_offer_human", "empathetic")
    return bool(handoffs_of(bot, sender)) or any(m.get("text") in offers and m.get("buttons") for m in replies)


def test_an_anxious_customer_gets_empathy_and_a_human(assistant: Assistant) -> None:
    """Worry without any listed cue word: the model reads it, the tone follows, a human is brought in."""
    order = order_of(assistant, "demo-regular-zh", "shipped")
    sender = as_customer(assistant, "demo-regular-zh")
    replies = assistant.say(sender, f"订单{order.id}明天一早就要用，现在还在路上，我心里实在没底，能赶得上吗")
    slots = _slots(assistant, sender)
    assert slots["emotion"] in ("anxiety", "anger") and slots["tone"] == "empathetic"
    assert {m.get("text") for m in replies} & _tone_texts(None, "empathetic")
    assert _offered_or_handed_over(assistant, sender, replies)


@pytest.mark.parametrize("text", ["Seriously? You expect me to wait another week? Unbelievable.",
                                  "你们到底有没有人管？我都说了三遍了"])
def test_indirect_anger_gets_empathy_and_a_human(assistant: Assistant, text: str) -> None:
    sender = new_sender("upset")
    replies = assistant.say(sender, text)
    slots = _slots(assistant, sender)
    assert slots["emotion"] in ("anger", "anxiety") and slots["tone"] == "empathetic"
    assert {m.get("text") for m in replies} & _tone_texts(None, "empathetic")
    assert _offered_or_handed_over(assistant, sender, replies)


def test_a_calm_customer_is_not_interrupted(assistant: Assistant) -> None:
    order = order_of(assistant, "demo-regular-zh", "shipped")
    sender = as_customer(assistant, "demo-regular-zh")
    offers = _tone_texts("utter_offer_human", "neutral") | _tone_texts("utter_offer_human", "empathetic")
    for text in (f"where is my order {order.id}?", "how long do refunds usually take?", "ok, thanks"):
        replies = assistant.say(sender, text)
        assert not {m.get("text") for m in replies} & offers, text
        slots = _slots(assistant, sender)
        assert slots["emotion"] == "none" and slots["tone"] != "empathetic", (text, slots)
    assert handoffs_of(assistant, sender) == []
