"""What a customer line does to the active form (bot/components/repair_policy.py), on real Rasa trackers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.repair_policy import LEAVE, QUESTION, SWITCH, RepairRulePolicy, asked_action, repair_kind

ROOT = Path(__file__).resolve().parents[2]


def _config() -> dict:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    [policy] = [p for p in config["policies"] if p["name"].endswith("RepairRulePolicy")]
    return policy


CONFIG = _config()
KWARGS = dict(
    leave_intents=CONFIG["leave_intents"], switch_intents=CONFIG["switch_intents"],
    question_intents=CONFIG["question_intents"], optional_loops=CONFIG["optional_loops"],
    keep_loop_slots=CONFIG["keep_loop_slots"], min_confidence=CONFIG["repair_min_confidence"],
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


def _tracker(domain, *, loop, requested, intent, confidence=0.95, entities=(), last_action="action_listen"):
    events = [ActionExecuted("action_listen")]
    if loop:
        events += [ActionExecuted(loop), ActiveLoop(loop), SlotSet("requested_slot", requested),
                   ActionExecuted("action_listen")]
    events.append(UserUttered("…", intent={"name": intent, "confidence": confidence}, entities=list(entities)))
    if last_action != "action_listen":
        events.append(ActionExecuted(last_action))
    return DialogueStateTracker.from_events("t", events, slots=domain.slots)


@pytest.mark.parametrize(
    ("loop", "requested", "intent", "confidence", "entities", "expected"),
    [
        ("address_form", "new_address", "cancel", 0.9, (), LEAVE),
        ("order_access_form", "order_phone_last4", "cancel", 0.9, (), LEAVE),
        ("a_form_added_later", "anything", "cancel", 0.9, (), LEAVE),
        ("address_form", "new_address", "cancel", 0.2, (), None),  # unsure: the form decides
        ("address_form", "order_id", "order_status", 0.9, (), SWITCH),
        ("order_access_form", "order_phone_last4", "change_address", 0.9, (), SWITCH),
        ("a_form_added_later", "anything", "request_refund", 0.9, (), SWITCH),
        # the line answers the form (it carries the order number): a correction, not a switch
        ("address_form", "new_address", "order_status", 0.9, ({"entity": "order_id", "value": "E20260000001"},), None),
        ("address_form", "new_address", "faq", 0.9, (), QUESTION),
        ("address_form", "new_address", "bot_challenge", 0.9, (), QUESTION),
        ("address_form", "new_address", "inform", 0.9, (), None),
        ("address_form", "address_confirmed", "affirm", 0.9, (), None),
        # the survey: a rating, a decline or a goodbye answers it; anything else leaves it
        ("feedback_form", "feedback_rating", "rate_service", 0.9, (), None),
        ("feedback_form", "feedback_rating", "deny", 0.9, (), None),
        ("feedback_form", "feedback_rating", "goodbye", 0.9, (), None),
        ("feedback_form", "feedback_rating", "faq", 0.9, (), SWITCH),
        ("feedback_form", "feedback_rating", "request_refund", 0.9, (), SWITCH),
        ("feedback_form", "feedback_rating", "nlu_fallback", 0.3, (), SWITCH),
        ("feedback_form", "feedback_rating", "cancel", 0.9, (), LEAVE),
        # the free comment takes any text; only a cancel leaves it
        ("feedback_form", "feedback_comment", "complain", 0.9, (), None),
        # a question instead of the comment ("what's your return policy?") is answered, then asked again
        ("feedback_form", "feedback_comment", "faq", 0.9, (), QUESTION),
        ("feedback_form", "feedback_comment", "faq", 0.3, (), None),
        ("feedback_form", "feedback_comment", "cancel", 0.9, (), LEAVE),
        (None, None, "cancel", 0.9, (), None),  # no form: the plain rule for cancel
    ],
)
def test_repair_kind(domain, loop, requested, intent, confidence, entities, expected):
    tracker = _tracker(domain, loop=loop, requested=requested, intent=intent, confidence=confidence,
                       entities=entities)
    assert repair_kind(tracker, **KWARGS) == expected


def test_only_right_after_the_customer_line(domain):
    tracker = _tracker(domain, loop="address_form", requested="new_address", intent="cancel",
                       last_action="utter_faq")
    assert repair_kind(tracker, **KWARGS) is None


def test_the_policy_defaults_keep_plain_rule_behaviour():
    defaults = RepairRulePolicy.get_default_config()
    assert defaults["leave_intents"] == [] and defaults["switch_intents"] == [] and defaults["optional_loops"] == {}
    assert {k: v for k, v in defaults.items() if k in RulePolicy.get_default_config()} == RulePolicy.get_default_config()


ASKED_BY = CONFIG["asked_by"]
KEEP = [*CONFIG["leave_intents"], *CONFIG["switch_intents"], *CONFIG["question_intents"], "goodbye"]


def _asked_tracker(domain, *, asked, intent, text="…", confidence=0.9):
    events = [ActionExecuted("action_listen"), UserUttered("where is my order", intent={"name": "order_status"}),
              ActionExecuted("action_check_order"), BotUttered("Which order?", metadata={"utter_action": asked}),
              ActionExecuted("action_listen"),
              UserUttered(text, intent={"name": intent, "confidence": confidence})]
    return DialogueStateTracker.from_events("t", events, slots=domain.slots)


@pytest.mark.parametrize(
    ("asked", "intent", "text", "expected"),
    [
        # the answer to "which order number?" goes back to the lookup, however it was classified
        ("utter_ask_order_id", "rate_service", "order five", "action_check_order"),
        ("utter_ask_order_id_with_recent", "inform", "E123", "action_check_order"),
        ("utter_ask_order_id", "deny", "no idea", "action_check_order"),
        ("utter_ask_order_id", "nlu_fallback", "hmm", "action_check_order"),
        # leaving, a new request, a question or a goodbye keep their own rules
        ("utter_ask_order_id", "cancel", "never mind", None),
        ("utter_ask_order_id", "change_address", "actually I need to change my address", None),
        ("utter_ask_order_id", "faq", "what is your return policy", None),
        ("utter_ask_order_id", "goodbye", "bye", None),
        # a button says what it means; another question than the order number: the rules decide
        ("utter_ask_order_id", "rate_service", "/rate_service", None),
        ("utter_anything_else", "rate_service", "5", None),
    ],
)
def test_the_answer_goes_to_the_action_that_asked(domain, asked, intent, text, expected):
    tracker = _asked_tracker(domain, asked=asked, intent=intent, text=text)
    assert asked_action(tracker, asked_by=ASKED_BY, keep_intents=KEEP, min_confidence=0.5) == expected


def test_only_the_bots_last_line_counts(domain):
    events = [ActionExecuted("action_listen"), UserUttered("where is my order", intent={"name": "order_status"}),
              BotUttered("Which order?", metadata={"utter_action": "utter_ask_order_id"}),
              ActionExecuted("action_listen"), UserUttered("E20261120001", intent={"name": "inform"}),
              BotUttered("Shipped.", metadata={"utter_action": "utter_order_status_shipped"}),
              ActionExecuted("action_listen"), UserUttered("5", intent={"name": "rate_service"})]
    tracker = DialogueStateTracker.from_events("t", events, slots=domain.slots)
    assert asked_action(tracker, asked_by=ASKED_BY, keep_intents=KEEP, min_confidence=0.5) is None
