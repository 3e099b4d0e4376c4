"""Two requests in one message: "check my order E… and then let me talk to a human", "查一下订单然后转人工".

The customer asks for two things; the model gives one message one intent. ``TwoPartRequests`` (a
pipeline entry in config.yml, no NLU work of its own) wraps ``MessageProcessor.parse_message`` once per
Rasa process: when the text has a connector (然后 / 另外 / 还有 / 顺便 / and then / and also / also / , and)
the two halves are parsed by the same model as well. When both halves are clear requests or questions
(confidence ≥ ``min_confidence``, not an answer such as inform / affirm / deny, and not the same intent),
the message is read as its first half (intent, FAQ answer) and the second half is kept in the parse data
as ``second_request`` (text, intent, entities, FAQ answer). The entities of the whole message stay.

What happens next is the repair mechanism's (bot/components/repair_policy.py, docs/conversation-design.md):
``action_validate_slot_mappings`` keeps the second request in the slot ``second_request``; when the first
request is served (the bot would wait for the customer, no form running, no question of the bot open) the
policy runs ``action_second_request``, which serves the second one as if the customer had just written it.
A cancel drops it.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

SECOND_REQUEST = "second_request"
# the first connector that leaves words on both sides splits the message
DEFAULT_CONNECTORS = [
    "然后", "之后再", "另外", "还有", "顺便", "同时", "再帮我", "再给我", "并且",
    "and then", "and also", "after that", "as well as", "also", "then", "plus", ", and", "and",
]
# answers, small talk and feelings are no second task ("the item came broken and I'm livid" is one
# complaint about one item; "算了，然后转人工" is the request)
DEFAULT_IGNORE = [
    "inform", "affirm", "deny", "greet", "goodbye", "thank", "rate_service", "out_of_scope", "nlu_fallback",
    "complain", "cancel",
]
_SETTINGS: dict[str, Any] = {}
_INSTALLED = False


def _pattern(connectors: list[str]) -> re.Pattern[str]:
    parts = []
    for c in sorted(connectors, key=len, reverse=True):
        escaped = re.escape(c)
        # Latin connectors are whole words; Chinese ones sit between characters
        parts.append(rf"(?<![A-Za-z]){escaped}(?![A-Za-z])" if re.search(r"[A-Za-z]", c) else escaped)
    return re.compile("|".join(parts), re.IGNORECASE)


def _long_enough(text: str) -> bool:
    words = re.findall(r"[A-Za-z0-9]+", text)
    han = re.findall(r"[\u4e00-\u9fff]", text)
    return len(han) >= 2 or len(words) >= 2 or (len(han) >= 1 and len(words) >= 1)


def split_request(text: str, connectors: list[str] | None = None) -> tuple[str, str] | None:
    """The two halves around the first connector with words on both sides, else None."""
    if not text or text.startswith("/"):
        return None
    pattern = _pattern(connectors or DEFAULT_CONNECTORS)
    for match in pattern.finditer(text):
        first = text[: match.start()].strip(" ,，。.!！?？;；、")
        second = text[match.end():].strip(" ,，。.!！?？;；、")
        if _long_enough(first) and _long_enough(second):
            return first, second
    return None


def _intent(parse: dict[str, Any]) -> tuple[str | None, float]:
    intent = parse.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def _full_name(parse: dict[str, Any]) -> str | None:
    """``faq/returns`` for a retrieval intent (the answer differs per sub-intent), else the intent."""
    intent = parse.get("intent") or {}
    return intent.get("full_retrieval_intent_name") or intent.get("name")


def combine(
    whole: dict[str, Any],
    first: dict[str, Any],
    second: dict[str, Any],
    second_text: str,
    *,
    ignore: list[str],
    min_confidence: float,
) -> dict[str, Any]:
    """The parse data of a two-part message: the first request now, the second kept (or ``whole`` as it is)."""
    (i1, c1), (i2, c2) = _intent(first), _intent(second)
    if not i1 or not i2 or i1 in ignore or i2 in ignore or c1 < min_confidence or c2 < min_confidence:
        return whole
    if _full_name(first) == _full_name(second):
        return whole
    combined = dict(whole)
    combined["intent"] = dict(first["intent"])
    if first.get("intent_ranking"):
        combined["intent_ranking"] = list(first["intent_ranking"])
    if "response_selector" in first:
        combined["response_selector"] = first["response_selector"]
    combined[SECOND_REQUEST] = {
        "text": second_text,
        "intent": dict(second["intent"]),
        "entities": list(second.get("entities") or []),
        "response_selector": second.get("response_selector") or {},
        "intent_ranking": list(second.get("intent_ranking") or [])[:3],
    }
    return combined


def install_two_part(connectors: list[str], ignore: list[str], min_confidence: float) -> None:
    """Wrap ``MessageProcessor.parse_message`` (idempotent; the settings of the last loaded model win)."""
    global _INSTALLED
    _SETTINGS.update(connectors=list(connectors), ignore=list(ignore), min_confidence=float(min_confidence))
    if _INSTALLED:
        return
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.parse_message

    async def parse_message(self: Any, message: Any, tracker: Any = None, only_output_properties: bool = True) -> Any:
        whole = await original(self, message, tracker, only_output_properties)
        halves = split_request(message.text or "", _SETTINGS.get("connectors"))
        if halves is None or whole.get(SECOND_REQUEST):
            return whole
        try:
            parsed = []
            for half in halves:
                part = UserMessage(half, sender_id=message.sender_id, input_channel=message.input_channel)
                parsed.append(await original(self, part, tracker, only_output_properties))
        except Exception:  # the whole message is still understood: never lose the customer's turn
            logger.exception("two-part message: the halves could not be parsed")
            return whole
        return combine(copy.deepcopy(whole), parsed[0], parsed[1], halves[1],
                       ignore=_SETTINGS["ignore"], min_confidence=_SETTINGS["min_confidence"])

    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]
    _INSTALLED = True


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class TwoPartRequests(GraphComponent):
    """Installs the two-part reading of messages when the model loads; leaves every message as it is."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"connectors": DEFAULT_CONNECTORS, "ignore_intents": DEFAULT_IGNORE, "min_confidence": 0.5}

    def __init__(self, config: dict[str, Any]) -> None:
        install_two_part(config["connectors"], config["ignore_intents"], config["min_confidence"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TwoPartRequests:
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: list[Message]) -> list[Message]:
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
