"""actions/names.py is the contract between YAML and Python: every name exists in the merged domain."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from rasa_sdk import Action

import actions
from actions import names
from desk.models import TicketTopic
from profiles.models import OrderStatus, Tier
from profiles.segmentation import LIFECYCLES, SEGMENTS
from profiles.transparency import INTENSITY_LEVELS
from tests.utils.builders import load_domain

DOMAIN = load_domain()
RESPONSES = set(DOMAIN["responses"])
RASA_DEFAULT_ACTIONS = {
    "action_listen", "action_restart", "action_session_start", "action_default_fallback",
    "action_deactivate_loop", "action_revert_fallback_events", "action_default_ask_affirmation",
    "action_default_ask_rephrase", "action_two_stage_fallback", "action_unlikely_intent",
    "action_back", "action_extract_slots", "action_validate_slot_mappings",
}  # fmt: skip


def _constants(prefix: str) -> dict[str, str]:
    return {k: v for k, v in vars(names).items() if k.startswith(prefix) and isinstance(v, str)}


INTENT_KEYS = [
    "GREET", "GOODBYE", "THANK", "AFFIRM", "DENY", "BOT_CAPABILITIES", "BOT_CHALLENGE", "ORDER_STATUS",
    "CHANGE_ADDRESS", "REQUEST_REFUND", "COMPLAIN", "REQUEST_HUMAN", "INFORM", "RATE_SERVICE",
    "PERSONALIZATION_OFF", "PERSONALIZATION_ON", "FAQ", "OUT_OF_SCOPE", "NLU_FALLBACK", "CONVERSATION_RESOLVED",
    "TICKET_STATUS", "SWITCH_LANGUAGE", "QUEUE_WAIT", "CANCEL_HANDOFF", "CANCEL",
    "ASK_MY_DATA", "PERSONALIZATION_LESS", "PERSONALIZATION_STANDARD", "PERSONALIZATION_MORE",
    "WANT_TO_LEAVE", "DECLARE_ACCESSIBILITY",
]  # fmt: skip
SLOT_KEYS = [
    "CUSTOMER_ID", "CUSTOMER_NAME", "IS_GUEST", "TIER", "SEGMENT", "LIFECYCLE", "ELDERLY", "LANGUAGE",
    "PERSONALIZED", "PERSONALIZATION_INTENSITY", "SENTIMENT", "SENTIMENT_SCORE", "EMOTION", "SENTIMENT_HISTORY", "TREND", "TONE",
    "HUMAN_OFFERED", "FALLBACK_COUNT", "OFFER_REASON", "RECENT_ORDER_IDS", "ORDER_ID", "NEW_ADDRESS",
    "ADDRESS_CONFIRMED", "ADDRESS_BLOCKED", "HANDOFF_ID", "TICKET_ID", "FEEDBACK_RATING", "FEEDBACK_COMMENT",
    "FEEDBACK_GIVEN", "LANGUAGE_CHOICE", "FEEDBACK_ASKED", "SECOND_REQUEST",
    "ACCESSIBILITY", "ACCESSIBILITY_PENDING", "ACCESSIBILITY_ASKED",
]  # fmt: skip


def test_every_module_constant_is_classified() -> None:
    """A new constant in names.py must be added to one of the checks below."""
    known = (
        set(INTENT_KEYS) | set(SLOT_KEYS) | {"REQUESTED_SLOT", "ENTITY_ORDER_ID", "ENTITY_RATING",
                                                        "ENTITY_ACCESSIBILITY_NEED"}
        | set(_constants("UTTER_")) | set(_constants("ACTION_")) | set(_constants("VALIDATE_"))
        | {k for k in vars(names) if k.endswith("_FORM")}
    )
    public = {k for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}
    assert public - known == set()


@pytest.mark.parametrize("key", INTENT_KEYS)
def test_intent_in_domain(key: str) -> None:
    assert getattr(names, key) in DOMAIN["intents"]


@pytest.mark.parametrize("key", SLOT_KEYS)
def test_slot_in_domain(key: str) -> None:
    assert getattr(names, key) in DOMAIN["slots"]


@pytest.mark.parametrize("key", ["ENTITY_ORDER_ID", "ENTITY_RATING", "ENTITY_ACCESSIBILITY_NEED"])
def test_entity_in_domain(key: str) -> None:
    assert getattr(names, key) in DOMAIN["entities"]


def test_requested_slot_is_rasas_own() -> None:
    assert names.REQUESTED_SLOT == "requested_slot"


FORM_KEYS = [k for k in vars(names) if k.endswith("_FORM") and not k.startswith("VALIDATE_")]



@pytest.mark.parametrize("key", FORM_KEYS)
def test_form_in_domain(key: str) -> None:
    assert getattr(names, key) in DOMAIN["forms"]


@pytest.mark.parametrize("key", sorted({**_constants("ACTION_"), **_constants("VALIDATE_")}))
def test_action_in_domain(key: str) -> None:
    assert getattr(names, key) in DOMAIN["actions"]


@pytest.mark.parametrize("key", sorted(k for k in _constants("UTTER_") if not k.endswith("_PREFIX")))
def test_response_in_domain(key: str) -> None:
    assert getattr(names, key) in RESPONSES


@pytest.mark.parametrize("key", sorted(k for k in _constants("UTTER_") if k.endswith("_PREFIX")))
def test_response_prefix_is_used(key: str) -> None:
    prefix = getattr(names, key)
    assert any(r.startswith(prefix) for r in RESPONSES)


@pytest.mark.parametrize("status", [s.value for s in OrderStatus])
def test_every_order_status_has_a_response(status: str) -> None:
    assert names.UTTER_ORDER_STATUS_PREFIX + status in RESPONSES


@pytest.mark.parametrize("topic", [TicketTopic.REFUND, TicketTopic.ORDER, TicketTopic.COMPLAINT, TicketTopic.ADDRESS])
def test_repeat_contact_response_per_topic(topic: TicketTopic) -> None:
    assert names.UTTER_REPEAT_CONTACT_PREFIX + topic.value in RESPONSES


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled", "refunded"])
def test_address_locked_response_per_status(status: str) -> None:
    assert names.UTTER_ADDRESS_LOCKED_PREFIX + status in RESPONSES


def _action_classes() -> dict[str, type[Action]]:
    found: dict[str, type[Action]] = {}
    for info in pkgutil.walk_packages(actions.__path__, prefix="actions."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, Action) or cls.__module__ != module.__name__ or inspect.isabstract(cls):
                continue
            try:
                name: Any = cls().name()
            except (NotImplementedError, TypeError):
                continue
            if isinstance(name, str) and name:
                found[name] = cls
    return found


def test_every_action_class_is_in_the_domain_and_vice_versa() -> None:
    classes = _action_classes()
    declared = set(DOMAIN["actions"])
    assert set(classes) - declared == set(), "action classes missing from domain `actions:`"
    assert declared - set(classes) - RASA_DEFAULT_ACTIONS == set(), "domain actions without a class"
    # the two Rasa defaults the project overrides are implemented here
    assert {names.ACTION_SESSION_START, names.ACTION_VALIDATE_SLOT_MAPPINGS} <= set(classes)


@pytest.mark.parametrize("tier", [t.value for t in Tier])
def test_transparency_response_per_tier(tier: str) -> None:
    assert names.UTTER_MY_DATA_TIER_PREFIX + tier in RESPONSES


@pytest.mark.parametrize("segment", SEGMENTS)
def test_transparency_response_per_segment(segment: str) -> None:
    assert names.UTTER_MY_DATA_SEGMENT_PREFIX + segment in RESPONSES


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_transparency_response_per_lifecycle(lifecycle: str) -> None:
    assert names.UTTER_MY_DATA_LIFECYCLE_PREFIX + lifecycle in RESPONSES


@pytest.mark.parametrize("level", INTENSITY_LEVELS)
def test_transparency_response_per_level(level: str) -> None:
    assert names.UTTER_MY_DATA_EFFECTS_PREFIX + level in RESPONSES
    assert level == "off" or names.UTTER_INTENSITY_PREFIX + level in RESPONSES


@pytest.mark.parametrize("need", ["visual", "hearing", "motor", "cognitive"])
def test_accessibility_question_per_need(need: str) -> None:
    assert names.UTTER_ASK_ACCESSIBILITY_PREFIX + need in RESPONSES
    assert need in DOMAIN["slots"][names.ACCESSIBILITY]["values"]


@pytest.mark.parametrize("kind", ["welcome_back", "points_boost"])
def test_offer_response_per_contact_offer(kind: str) -> None:
    assert names.UTTER_OFFER_PREFIX + kind in RESPONSES
