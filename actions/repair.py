"""Leaving a task: ``action_cancel_task`` ends whatever form is active, for every form (generic over the domain).

The policy (bot/components/repair_policy.py) lets the rule ``intent: cancel → action_cancel_task`` run
inside any form; this action ends the form, clears the slots the form was filling (read from the
domain's ``forms``, so a form added later is covered) and says what else the bot can do. It never starts
the rating survey. Inside the survey a cancel is a polite "no rating needed"; a rating already given is
still stored (the comment is skipped).

``RetryLimitedFormValidation``: a form's validation action built on it counts the answers it refused in a
row (its validators clear the slot and say why, then the form asks again); the third ends the form with
the offer of a human (``human_offered``: "yes" hands over).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, SlotSet, UserUttered
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names
from actions.feedback import ActionLogFeedback
from actions.handoff import offer_human
from common.masking import mask_text
from desk.feedback import FeedbackLog, parse_rating
from desk.models import HandoffReason
from desk.transcripts import SECOND_HALF

# the questions asked outside a form (config.yml asked_by): a second request waits for their answer
ASKING_RESPONSES = frozenset({names.UTTER_ASK_ORDER_ID, names.UTTER_ASK_ORDER_ID_WITH_RECENT})
MAX_FAILED_TRIES = 3
SLOT_FAILED_TRIES = "form_failed_tries"


def form_slots(domain: DomainDict, form: str) -> list[str]:
    """The slots ``form`` fills, from the domain (``required_slots`` as a list or, older style, a mapping)."""
    spec: Any = (domain.get("forms") or {}).get(form) or {}
    required = spec.get("required_slots", []) if isinstance(spec, dict) else []
    return list(required)


class ActionCancelTask(Action):
    """End the running task (any form) with a short acknowledgement; outside a task, just acknowledge."""

    def __init__(self, log: FeedbackLog | None = None) -> None:
        self._log = log

    def name(self) -> str:
        return names.ACTION_CANCEL_TASK

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        loop = (tracker.active_loop or {}).get("name")
        if not loop:
            dispatcher.utter_message(response=names.UTTER_CANCEL_NOTED)
            events: list[EventType] = []
            if tracker.get_slot(names.HUMAN_OFFERED):
                events.append(SlotSet(names.HUMAN_OFFERED, False))
            if tracker.get_slot(names.SECOND_REQUEST):
                events.append(SlotSet(names.SECOND_REQUEST, None))
            return events
        ended: list[EventType] = [ActiveLoop(None), SlotSet(names.REQUESTED_SLOT, None)]
        if loop == names.FEEDBACK_FORM:
            if parse_rating(tracker.get_slot(names.FEEDBACK_RATING)) is not None:
                # the score was given, only the comment is left out: store the score
                logged = await ActionLogFeedback(log=self._log).run(dispatcher, tracker, domain)
                return [*ended, SlotSet(names.FEEDBACK_COMMENT, ""), *logged]
            dispatcher.utter_message(response=names.UTTER_SURVEY_SKIPPED)
            return [*ended, SlotSet(names.FEEDBACK_RATING, None), SlotSet(names.FEEDBACK_COMMENT, None)]
        dispatcher.utter_message(response=names.UTTER_TASK_CANCELLED)
        tries = [SlotSet(SLOT_FAILED_TRIES, 0.0)] if tracker.get_slot(SLOT_FAILED_TRIES) else []
        second = [SlotSet(names.SECOND_REQUEST, None)] if tracker.get_slot(names.SECOND_REQUEST) else []
        return [*ended, *(SlotSet(slot, None) for slot in form_slots(domain, loop)), *tries, *second]


class RetryLimitedFormValidation(FormValidationAction):
    """Validation that offers a human after ``MAX_FAILED_TRIES`` refused answers in a row to the same form."""

    @abstractmethod
    def name(self) -> str:  # abstract: the action server registers only the concrete validators
        ...

    def give_up_slots(self) -> dict[str, Any]:
        """Slots to set when the form ends after the last refused answer (its submit action reads them)."""
        return {}

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot(names.REQUESTED_SLOT)
        active = (tracker.active_loop or {}).get("name") == self.form_name()
        events = await super().run(dispatcher, tracker, domain)
        answered = [e for e in events if e.get("event") == "slot" and e.get("name") == requested]
        if not active or not requested or not answered:
            return events
        tries = float(tracker.get_slot(SLOT_FAILED_TRIES) or 0)
        if answered[-1].get("value") is not None:
            return events + ([SlotSet(SLOT_FAILED_TRIES, 0.0)] if tries else [])
        tries += 1
        if tries < MAX_FAILED_TRIES:
            return events + [SlotSet(SLOT_FAILED_TRIES, tries)]
        events += offer_human(dispatcher, HandoffReason.BOT_FAILURE)
        events += [SlotSet(slot, value) for slot, value in self.give_up_slots().items()]
        return events + [SlotSet(SLOT_FAILED_TRIES, 0.0), SlotSet(names.REQUESTED_SLOT, None)]


def second_request_of(parse_data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The second request a two-part message carries (bot/components/two_part.py), as the slot keeps it."""
    second = (parse_data or {}).get(names.SECOND_REQUEST)
    if not isinstance(second, dict) or not second.get("text") or not (second.get("intent") or {}).get("name"):
        return None
    return {key: second.get(key) for key in ("text", "intent", "entities", "response_selector", "intent_ranking")}


class ActionSecondRequest(Action):
    """The first request of a two-part message is served: serve the second, as if the customer wrote it now.

    The repair policy runs this action when the bot would wait for the customer (no form, no open
    question). It says that it goes on with the other request and hands the second half back to the
    conversation as the customer's turn (``ActionExecuted(action_listen)`` + ``UserUttered`` with the
    half's own reading), so the rules of that request serve it (a person, the order lookup, a FAQ answer,
    a form that asks its first question), and the repair mechanism applies to it as to any request.
    """

    def name(self) -> str:
        return names.ACTION_SECOND_REQUEST

    @staticmethod
    def _question_open(tracker: Tracker) -> bool:
        """The bot's last line of this turn asks the customer something (the policy only sends the action
        here to note the request then; to serve it, the bot's turn has no open question)."""
        return bool(tracker.get_slot(names.REQUESTED_SLOT)) or ActionSecondRequest._asked_order(tracker)

    @staticmethod
    def _asked_order(tracker: Tracker) -> bool:
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                return False
            if event.get("event") == "bot":
                return (event.get("metadata") or {}).get("utter_action") in ASKING_RESPONSES
        return False

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        second = tracker.get_slot(names.SECOND_REQUEST)
        events: list[EventType] = [SlotSet(names.SECOND_REQUEST, None)]
        if not isinstance(second, dict) or not second.get("text") or not (second.get("intent") or {}).get("name"):
            return events
        if tracker.active_loop_name or (not second.get("noted") and self._question_open(tracker)):
            # the first request asks something first: say the second is not forgotten, serve it later
            dispatcher.utter_message(response=names.UTTER_SECOND_REQUEST_NOTED, request=mask_text(second["text"])[:80])
            return [SlotSet(names.SECOND_REQUEST, {**second, "noted": True})]
        dispatcher.utter_message(response=names.UTTER_SECOND_REQUEST_NEXT)
        parse_data = {
            "intent": second["intent"],
            "entities": list(second.get("entities") or []),
            "intent_ranking": list(second.get("intent_ranking") or []),
            "text": second["text"],
        }
        if second.get("response_selector"):
            parse_data["response_selector"] = second["response_selector"]
        turn = UserUttered(second["text"], parse_data=parse_data, input_channel=tracker.get_latest_input_channel())
        previous: dict[str, Any] = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
        turn["metadata"] = {**(previous.get("metadata") or {}), SECOND_HALF: True}  # shown once in transcripts
        return [*events, ActionExecuted("action_listen"), turn]
