"""Leaving, switching and asking in between inside a form, and the optional survey, over HTTP against the
real Rasa server and action server (docs/conversation-design.md)."""

from __future__ import annotations

import yaml
from sqlalchemy import select

from desk.models import Feedback
from tests.integration.conftest import ROOT, Assistant
from tests.integration.test_conversations import as_customer, new_sender

RATE_PAYLOAD = "/rate_service"


def _texts_of(response: str, language: str) -> set[str]:
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        variants = (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).get(response)
        if variants:
            return {v["text"] for v in variants
                    if {"type": "slot", "name": "language", "value": language} in v.get("condition", [])}
    raise AssertionError(f"no response {response}")


def _faq(entry: str, language: str) -> str:
    kb = {e["id"]: e for e in yaml.safe_load((ROOT / "knowledge_base" / "faq.yml").read_text(encoding="utf-8"))}
    return kb[entry]["answer"][language].strip()


def _asks_rating(messages: list[dict]) -> bool:
    return any(b.get("payload", "").startswith(RATE_PAYLOAD) for m in messages for b in m.get("buttons", []))


def _loop(bot: Assistant, sender: str) -> str | None:
    return (bot.tracker(sender).get("active_loop") or {}).get("name")


def _feedback(bot: Assistant, sender: str) -> list[Feedback]:
    with bot.session_factory() as session:
        return list(session.scalars(select(Feedback).where(Feedback.conversation_id == sender)))


def test_never_mind_inside_the_address_form_ends_it_and_the_bot_goes_on(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-regular-zh")
    assistant.texts(sender, "我要改收货地址")
    assert _loop(assistant, sender) == "address_form"
    left = assistant.say(sender, "算了，不改了")
    assert [m["text"] for m in left] and {m["text"] for m in left} <= _texts_of("utter_task_cancelled", "zh")
    assert not _asks_rating(left)
    assert _loop(assistant, sender) is None
    assert " ".join(assistant.texts(sender, "退货有什么规定吗")) == _faq("return_policy", "zh")


def test_never_mind_in_english_at_any_step(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-regular-zh")
    assistant.texts(sender, "I need to change my delivery address")
    left = assistant.say(sender, "never mind")
    assert {m["text"] for m in left} <= _texts_of("utter_task_cancelled", "en") | _texts_of("utter_task_cancelled", "zh")
    assert left and not _asks_rating(left) and _loop(assistant, sender) is None


def test_a_cancel_after_an_order_answer_never_starts_the_survey(assistant: Assistant) -> None:
    sender = new_sender("cancel")
    assistant.texts(sender, "我的订单到哪了")
    left = assistant.say(sender, "算了，不查了")
    assert left and not _asks_rating(left) and _loop(assistant, sender) is None
    later = assistant.texts(sender, "退货有什么规定吗")
    assert " ".join(later) == _faq("return_policy", "zh")
    assert _feedback(assistant, sender) == []


def test_a_new_request_inside_a_form_switches_to_it(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-regular-zh")
    assistant.texts(sender, "I need to change my delivery address")
    assert _loop(assistant, sender) == "address_form"
    assistant.texts(sender, "what's your return policy?")  # a question: answered, the form asks again
    assert _loop(assistant, sender) == "address_form"
    assistant.texts(sender, "actually, where is my order?")
    assert _loop(assistant, sender) is None
    assert assistant.tracker(sender)["slots"]["requested_slot"] is None


def test_a_question_inside_a_form_is_answered_and_the_form_asks_again(assistant: Assistant) -> None:
    sender = as_customer(assistant, "demo-regular-zh")
    first = assistant.texts(sender, "我要改收货地址")
    replies = assistant.texts(sender, "退货有什么规定吗")
    assert replies[0] == _faq("return_policy", "zh")
    assert replies[-1] == first[-1]  # the same question again
    assert _loop(assistant, sender) == "address_form"


def test_a_reply_to_the_survey_that_is_not_a_rating_leaves_it_and_is_answered(assistant: Assistant) -> None:
    sender = new_sender("survey")
    assistant.texts(sender, "你好")
    assert _asks_rating(assistant.say(sender, "再见"))
    answer = assistant.texts(sender, "退货有什么规定吗")
    assert " ".join(answer) == _faq("return_policy", "zh")
    assert not any("1 到 5" in t for t in answer)
    assert _loop(assistant, sender) is None
    assert not _asks_rating(assistant.say(sender, "再见"))  # never asked twice in one session
    [row] = _feedback(assistant, sender)
    assert row.rating is None  # recorded as not answered


def test_skipping_the_survey_is_accepted_politely(assistant: Assistant) -> None:
    sender = new_sender("skip")
    assistant.texts(sender, "hello")
    assert _asks_rating(assistant.say(sender, "bye"))
    skipped = assistant.say(sender, "skip")
    assert {m["text"] for m in skipped} <= _texts_of("utter_survey_skipped", "en") and skipped
    assert _loop(assistant, sender) is None
    [row] = _feedback(assistant, sender)
    assert row.rating is None


def test_a_rating_is_still_stored_over_the_new_flow(assistant: Assistant) -> None:
    sender = new_sender("rated")
    assistant.texts(sender, "你好")
    assert _asks_rating(assistant.say(sender, "再见"))
    assistant.texts(sender, "5")
    assistant.texts(sender, "跳过")
    [row] = _feedback(assistant, sender)
    assert row.rating == 5


def test_a_corrected_order_number_replaces_the_old_one(assistant: Assistant) -> None:
    from tests.integration.test_conversations import order_of

    paid = order_of(assistant, "demo-regular-zh", "paid")
    shipped = order_of(assistant, "demo-regular-zh", "shipped")
    sender = as_customer(assistant, "demo-regular-zh")
    assistant.texts(sender, "我想改一下收货地址")
    assistant.texts(sender, paid.id)
    assert assistant.tracker(sender)["slots"]["requested_slot"] == "new_address"
    replies = " ".join(assistant.texts(sender, f"不对，是{shipped.id}"))
    # the corrected order is the one checked (shipped: its address stays, and the reply says so); as a refused
    # value it is cleared and the form asks which order again (the customer still has a changeable one)
    assert shipped.id in replies
    slots = assistant.tracker(sender)["slots"]
    assert slots["order_id"] is None and slots["requested_slot"] == "order_id"


def test_three_unusable_answers_in_a_row_bring_the_offer_of_a_human(assistant: Assistant) -> None:
    from tests.integration.test_conversations import order_of

    paid = order_of(assistant, "demo-regular-zh", "paid")
    sender = as_customer(assistant, "demo-regular-zh")
    assistant.texts(sender, "我想改一下收货地址")
    assistant.texts(sender, paid.id)
    offer = _texts_of("utter_offer_human", "zh") | _texts_of("utter_offer_human", "en")  # "abc" reads as English
    for _ in range(2):
        again = assistant.texts(sender, "abc")
        assert again and not set(again) & offer and _loop(assistant, sender) == "address_form"
    third = assistant.texts(sender, "abc")
    slots = assistant.tracker(sender)["slots"]
    assert _loop(assistant, sender) is None and slots["human_offered"] is True
    assert set(third) & offer  # the offer of a human (worded for the customer's tone)
