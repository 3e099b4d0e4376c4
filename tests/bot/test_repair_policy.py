"""What a customer line does to the active form (bot/components/repair_policy.py), on real Rasa trackers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa.core.policies.rule_policy import RulePolicy

from bot.components.repair_policy import LEAVE, QUESTION, SWITCH, RepairRulePolicy, repair_kind

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
        ("feedback_form", "feedback_comment", "faq", 0.9, (), None),
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
