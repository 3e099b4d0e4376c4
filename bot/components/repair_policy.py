"""RepairRulePolicy: Rasa's RulePolicy plus one shared way to leave, switch or ask a question inside any form.

Rasa's RulePolicy runs the active form on every customer line and lets other rules act only when the
form rejects the line (nothing it could fill). A form with a free-text slot takes "算了" or "actually I
need to change my address" as the answer, so the customer cannot get out. This policy looks at the
intent of the latest line first, for whatever form is active (forms added later get it without a rule):

* ``leave_intents`` (``cancel``): the form does not run; the rule for the intent runs
  (``action_cancel_task`` ends the form, clears its slots and says what else the bot can do).
* ``switch_intents`` (a new request: order status, address change, refund, complaint, a person): the form
  is ended (``ActiveLoop(None)``, ``requested_slot`` cleared, as events of the prediction) and the
  request's own rule serves it. Not when the line carries an entity (it answers the form: "my order
  E2026… is wrong" fills the order number) or when the request's rule would run this same form.
* ``question_intents`` (FAQ, "are you a bot", …): answered by their rule, then the form asks its question
  again (Rasa's unhappy path: the form is predicted after the answer and does not validate).
* ``optional_loops``: ``{form: {requested slot: [intents that answer it]}}``. Any other intent on that
  slot ends the form and the line is served normally (the rating survey: a line that is not a rating
  leaves the survey).
* ``keep_loop_slots``: requested slots that take any text (a free comment): only ``leave_intents`` and a
  clear question (``question_intents``, answered, then the form asks again) act.

* ``asked_by``: ``{response: action}`` for a question asked outside a form ("which order number?" of
  ``action_check_order``). The customer's next line goes back to the action that asked, whatever its
  intent ("order five" is not a rating, "E123" not a new request), unless it leaves, switches, asks a
  question or says goodbye; the action counts the answers it could not use and offers a human.

* ``second_request``: ``{slot, action}``. A message with two requests ("查一下订单然后转人工",
  bot/components/two_part.py) keeps its second request in ``slot``; when the first one is served (the
  policy would wait for the customer, no form runs and the bot's last line is not a question of
  ``asked_by``) ``action`` runs and serves the second request as if the customer had just written it.

Below ``repair_min_confidence`` nothing changes (the form decides, as before), except for optional loops.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

# said beside a question, never a question themselves (the second request of a two-part message)
ASIDE_RESPONSES = frozenset({"utter_second_request_noted"})
LEAVE = "leave"
SWITCH = "switch"
QUESTION = "question"


def repair_kind(
    tracker: DialogueStateTracker,
    *,
    leave_intents: list[str],
    switch_intents: list[str],
    question_intents: list[str],
    optional_loops: dict[str, dict[str, list[str]]],
    keep_loop_slots: list[str],
    min_confidence: float,
) -> str | None:
    """What the latest customer line does to the active form: LEAVE, SWITCH, QUESTION or None (answer it)."""
    loop = tracker.active_loop_name
    if not loop or tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.is_active_loop_rejected:
        return None
    message = tracker.latest_message
    intent = (message.intent or {}) if message else {}
    name = intent.get("name")
    if not name:
        return None
    confidence = intent.get("confidence")
    sure = confidence is None or float(confidence) >= min_confidence
    requested = tracker.get_slot(REQUESTED_SLOT)
    if name in leave_intents and sure:
        return LEAVE
    if requested in keep_loop_slots:
        # free text is the answer; only a clear question is answered first (then the form asks again)
        if name in question_intents and sure and not message.entities:
            return QUESTION
        return None
    answers = (optional_loops.get(loop) or {}).get(requested)
    if answers is not None:
        if name in answers or message.entities:
            return None
        return SWITCH
    if not sure or message.entities:
        return None
    if name in switch_intents:
        return SWITCH
    if name in question_intents:
        return QUESTION
    return None


def last_question(tracker: DialogueStateTracker) -> str | None:
    """The response name of the bot's last line before the latest customer line (None if there was none)."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_user:
                return None
            seen_user = True
        elif isinstance(event, BotUttered) and seen_user:
            response = (event.metadata or {}).get("utter_action")
            if response in ASIDE_RESPONSES:
                continue  # "I'll do your other request after this" asks nothing
            return response
    return None


def asked_action(
    tracker: DialogueStateTracker,
    *,
    asked_by: dict[str, str],
    keep_intents: list[str],
    min_confidence: float,
) -> str | None:
    """The action that asked the question the latest line answers, outside a form (None: rules decide)."""
    if not asked_by or tracker.active_loop_name or tracker.latest_action_name != ACTION_LISTEN_NAME:
        return None
    message = tracker.latest_message
    intent = (message.intent or {}) if message else {}
    name = intent.get("name")
    if not name or (message.text or "").startswith("/"):
        return None  # a button or a payload says what it means
    confidence = intent.get("confidence")
    sure = confidence is None or float(confidence) >= min_confidence
    if name in keep_intents and sure:
        return None
    return asked_by.get(last_question(tracker) or "")


SERVE = "serve"
NOTE = "note"


def second_request_due(
    tracker: DialogueStateTracker, *, slot: str | None, action: str | None, asked_by: dict[str, str]
) -> str | None:
    """What to do about a waiting second request (``slot``) when the bot would wait for the customer:
    SERVE it (the first request is served: no form, no open question of the bot), NOTE it once (the first
    request asks a question first: the customer hears the second is not forgotten) or nothing (None)."""
    second = tracker.get_slot(slot) if slot else None
    if not action or not second or tracker.is_paused() or tracker.latest_action_name == action:
        return None
    noted = isinstance(second, dict) and bool(second.get("noted"))
    if tracker.active_loop_name:
        return None if noted else NOTE
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return SERVE
        if isinstance(event, BotUttered) and (event.metadata or {}).get("utter_action") in asked_by:
            return None if noted else NOTE  # "which order?" is open: the answer comes first
    return SERVE


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RepairRulePolicy(RulePolicy):
    """RulePolicy whose forms can be left, switched away from or interrupted by a question."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **RulePolicy.get_default_config(),
            "leave_intents": [],
            "switch_intents": [],
            "question_intents": [],
            "optional_loops": {},
            "keep_loop_slots": [],
            "asked_by": {},
            "second_request": {},
            "repair_min_confidence": 0.5,
        }

    _skip_loop = False

    def _repair_kind(self, tracker: DialogueStateTracker) -> str | None:
        return repair_kind(
            tracker,
            leave_intents=list(self.config.get("leave_intents") or []),
            switch_intents=list(self.config.get("switch_intents") or []),
            question_intents=list(self.config.get("question_intents") or []),
            optional_loops=dict(self.config.get("optional_loops") or {}),
            keep_loop_slots=list(self.config.get("keep_loop_slots") or []),
            min_confidence=float(self.config.get("repair_min_confidence", 0.5)),
        )

    def _find_action_from_loop_happy_path(  # type: ignore[override]
        self, tracker: DialogueStateTracker
    ) -> tuple[str | None, str | None]:
        if self._skip_loop:
            return None, None
        return RulePolicy._find_action_from_loop_happy_path(tracker)

    def _asked_action(self, tracker: DialogueStateTracker) -> str | None:
        keep = [
            *(self.config.get("leave_intents") or []),
            *(self.config.get("switch_intents") or []),
            *(self.config.get("question_intents") or []),
            "goodbye",
        ]
        return asked_action(
            tracker,
            asked_by=dict(self.config.get("asked_by") or {}),
            keep_intents=keep,
            min_confidence=float(self.config.get("repair_min_confidence", 0.5)),
        )

    def _predict(self, tracker: DialogueStateTracker, domain: Domain) -> tuple[PolicyPrediction, str | None]:
        second = dict(self.config.get("second_request") or {})
        if second.get("action") and tracker.latest_action_name == second["action"]:
            # the second request was noted beside the bot's question: wait for the answer
            probabilities = self._default_predictions(domain)
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            return self._rule_prediction(probabilities, "second_request listen"), None
        prediction, source = self._predict_turn(tracker, domain)
        if max(prediction.probabilities, default=0.0) < 1.0:
            return prediction, source
        if domain.action_names_or_texts[prediction.max_confidence_index] != ACTION_LISTEN_NAME:
            return prediction, source
        action = second.get("action")
        due = second_request_due(tracker, slot=second.get("slot"), action=action,
                                 asked_by=dict(self.config.get("asked_by") or {}))
        if due is None or action not in domain.action_names_or_texts:
            return prediction, source
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._rule_prediction(probabilities, f"second_request {action}"), None

    def _predict_turn(self, tracker: DialogueStateTracker, domain: Domain) -> tuple[PolicyPrediction, str | None]:
        asked = self._asked_action(tracker)
        if asked is not None and asked in domain.action_names_or_texts:
            probabilities = self._default_predictions(domain)
            probabilities[domain.index_for_action(asked)] = 1.0
            return self._rule_prediction(probabilities, f"asked_by {asked}"), None
        if tracker.latest_action_name in (self.config.get("asked_by") or {}).values():
            prediction, source = super()._predict(tracker, domain)
            if max(prediction.probabilities, default=0.0) < 1.0:
                # the action served an answer outside its rules: wait for the customer, as a rule would
                probabilities = self._default_predictions(domain)
                probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
                return self._rule_prediction(probabilities, "asked_by listen"), None
            return prediction, source
        kind = self._repair_kind(tracker)
        if kind is None:
            return super()._predict(tracker, domain)
        self._skip_loop = True
        try:
            prediction, source = super()._predict(tracker, domain)
        finally:
            self._skip_loop = False
        if max(prediction.probabilities, default=0.0) < 1.0:
            # no rule serves this line: the form decides, as before
            return super()._predict(tracker, domain)
        action = domain.action_names_or_texts[prediction.max_confidence_index]
        loop = tracker.active_loop_name
        if kind == SWITCH and action not in (loop, ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME):
            prediction.events = [*prediction.events, ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        return prediction, source
