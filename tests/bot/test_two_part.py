"""Two requests in one message (bot/components/two_part.py) and when the second is served (repair policy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.repair_policy import NOTE, SERVE, asked_action, second_request_due
from bot.components.two_part import DEFAULT_IGNORE, SECOND_REQUEST, combine, split_request

ROOT = Path(__file__).resolve().parents[2]
POLICY = next(p for p in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["policies"]
          if p["name"].endswith("RepairRulePolicy"))
SECOND = POLICY["second_request"]


@pytest.mark.parametrize(("text", "expected"), [
    ("check my order E20261120001 and then let me talk to a human",
     ("check my order E20261120001", "let me talk to a human")),
    ("查一下我的订单然后转人工", ("查一下我的订单", "转人工")),
    ("我的订单到哪了，另外我想改个地址", ("我的订单到哪了", "我想改个地址")),
    ("where is my order and also what's your return policy?", ("where is my order", "what's your return policy")),
    ("查一下订单, and change my address", ("查一下订单", "change my address")),
    ("I want to check my order status and then talk to a human",
     ("I want to check my order status", "talk to a human")),
])
def test_split_at_the_first_connector_with_words_on_both_sides(text, expected):
    assert split_request(text) == expected


@pytest.mark.parametrize("text", [
    "转人工", "where is my order", "/request_human", "and then?", "black and white", "", "还有吗",
    "handmade candles",  # "and" inside a word is no connector
])
def test_no_split(text):
    assert split_request(text) is None


def _parse(intent, confidence=0.9, **extra):
    return {"text": "…", "intent": {"name": intent, "confidence": confidence, **extra}, "entities": [],
            "intent_ranking": [{"name": intent, "confidence": confidence}]}


def test_two_clear_requests_first_now_second_kept():
    whole = _parse("request_human", 0.6)
    whole["entities"] = [{"entity": "order_id", "value": "E20261120001"}]
    out = combine(whole, _parse("order_status"), _parse("request_human"), "let me talk to a human",
                  ignore=DEFAULT_IGNORE, min_confidence=0.5)
    assert out["intent"]["name"] == "order_status"
    assert out["entities"] == whole["entities"]  # the order number of the whole message stays
    assert out[SECOND_REQUEST]["intent"]["name"] == "request_human"
    assert out[SECOND_REQUEST]["text"] == "let me talk to a human"


def test_two_faq_answers_keep_their_own_answer():
    first = _parse("faq", full_retrieval_intent_name="faq/returns")
    first["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/returns"}}}
    second = _parse("faq", full_retrieval_intent_name="faq/shipping_fee")
    second["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/shipping_fee"}}}
    out = combine(_parse("faq"), first, second, "运费怎么算", ignore=DEFAULT_IGNORE, min_confidence=0.5)
    assert out["response_selector"] == first["response_selector"]
    assert out[SECOND_REQUEST]["response_selector"] == second["response_selector"]


@pytest.mark.parametrize(("first", "second"), [
    (_parse("order_status"), _parse("order_status")),  # one request said twice
    (_parse("order_status"), _parse("inform")),  # "... and it's E2026…": an answer, not a request
    (_parse("greet"), _parse("order_status")),
    (_parse("wrong_item"), _parse("complain")),  # "the item came broken and I'm livid": one complaint
    (_parse("order_status"), _parse("request_human", 0.3)),  # unsure
    (_parse("faq", full_retrieval_intent_name="faq/returns"), _parse("faq", full_retrieval_intent_name="faq/returns")),
])
def test_otherwise_the_whole_message_as_it_was(first, second):
    whole = _parse("order_status")
    assert combine(whole, first, second, "…", ignore=DEFAULT_IGNORE, min_confidence=0.5) is whole


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


def _tracker(domain, *tail, second=True, noted=False):
    events = [ActionExecuted("action_listen"),
              UserUttered("check my order and then a human", intent={"name": "order_status", "confidence": 0.9})]
    if second:
        events.append(SlotSet(SECOND["slot"], {"text": "a human", "intent": {"name": "request_human"}, "noted": noted}))
    return DialogueStateTracker.from_events("t", [*events, *tail], slots=domain.slots)


def _due(tracker):
    return second_request_due(tracker, slot=SECOND["slot"], action=SECOND["action"], asked_by=POLICY["asked_by"])


def test_due_once_the_first_request_is_served(domain):
    tracker = _tracker(domain, ActionExecuted("action_check_order"),
                       BotUttered("Shipped.", metadata={"utter_action": "utter_order_status_shipped"}))
    assert _due(tracker) == SERVE


def test_noted_once_while_the_bot_asks_which_order(domain):
    asked = (ActionExecuted("action_check_order"),
             BotUttered("Which order?", metadata={"utter_action": "utter_ask_order_id"}))
    assert _due(_tracker(domain, *asked)) == NOTE
    assert _due(_tracker(domain, *asked, noted=True)) is None


def test_noted_once_while_a_form_runs(domain):
    assert _due(_tracker(domain, ActionExecuted("address_form"), ActiveLoop("address_form"))) == NOTE
    assert _due(_tracker(domain, ActionExecuted("address_form"), ActiveLoop("address_form"), noted=True)) is None


def test_the_note_does_not_hide_the_question_it_sits_beside(domain):
    events = [ActionExecuted("action_listen"), UserUttered("where is my order and then a human", intent={"name": "order_status"}),
              ActionExecuted("action_check_order"), BotUttered("Which order?", metadata={"utter_action": "utter_ask_order_id"}),
              ActionExecuted(SECOND["action"]),
              BotUttered("I'll do that after this.", metadata={"utter_action": "utter_second_request_noted"}),
              ActionExecuted("action_listen"), UserUttered("E20261120001", intent={"name": "inform", "confidence": 0.9})]
    tracker = DialogueStateTracker.from_events("t", events, slots=domain.slots)
    assert asked_action(tracker, asked_by=POLICY["asked_by"], keep_intents=[], min_confidence=0.5) == "action_check_order"


def test_not_without_a_second_request_nor_right_after_serving_it(domain):
    assert not _due(_tracker(domain, ActionExecuted("action_check_order"), second=False))
    assert not _due(_tracker(domain, ActionExecuted(SECOND["action"])))
