"""Feedback: CSAT 1–5 with an optional comment; a low score opens a follow-up for a supervisor.

The survey is optional (docs/conversation-design.md): it is asked once per resolved conversation (the bot's
own ask, and once for each resolved handoff), never twice for the same one in a session; a reply that is
not a rating ends it (the policy serves that reply as a normal message); "不想评 / skip / no thanks"
ends it politely.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import channel_of, language_of, latest_intent, session_started_at
from common.db import StoreUnavailable
from desk.feedback import FeedbackLog, parse_rating

logger = logging.getLogger(__name__)

SKIPPED = ""  # the customer chose not to add a comment
DECLINING_INTENTS = (names.DENY, names.GOODBYE, names.CANCEL)


def ask_key(tracker: Tracker) -> str:
    """Which conversation a rating ask belongs to: the bot's own ("bot") or a resolved handoff's id."""
    handoff_id = tracker.get_slot(names.HANDOFF_ID)
    return str(int(handoff_id)) if handoff_id else "bot"


def feedback_key(tracker: Tracker) -> str:
    """One feedback row per session and conversation asked about (a retried request updates it)."""
    return f"{tracker.sender_id}:{session_started_at(tracker):.3f}:{ask_key(tracker)}"


def _activating(tracker: Tracker) -> bool:
    # while the form activates, no slot of the survey has been asked for yet (Rasa already shows the loop active)
    return tracker.get_slot(names.REQUESTED_SLOT) not in (names.FEEDBACK_RATING, names.FEEDBACK_COMMENT)


class ValidateFeedbackForm(FormValidationAction):
    """Accept a 1–5 score however the customer writes it; the comment is optional."""

    def __init__(self, log: FeedbackLog | None = None) -> None:
        self._log = log

    def name(self) -> str:
        return names.VALIDATE_FEEDBACK_FORM

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        asked = tracker.get_slot(names.FEEDBACK_ASKED) or []
        if _activating(tracker) and ask_key(tracker) in asked:
            return []  # asked once already for this conversation: the form ends at once, no second ask
        return list(domain_slots)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        asked = list(tracker.get_slot(names.FEEDBACK_ASKED) or [])
        key = ask_key(tracker)
        events = await super().run(dispatcher, tracker, domain)
        if _activating(tracker) and key not in asked:
            events.append(SlotSet(names.FEEDBACK_ASKED, [*asked, key]))
            await self._record_ask(tracker)
        return events

    async def _record_ask(self, tracker: Tracker) -> None:
        """The ask is a row without a rating ("not answered") until the customer rates."""
        handoff_id = tracker.get_slot(names.HANDOFF_ID)
        log = self._log or providers.feedback_log()
        try:
            await asyncio.to_thread(
                log.record_ask,
                conversation_id=tracker.sender_id,
                customer_id=tracker.get_slot(names.CUSTOMER_ID),
                channel=channel_of(tracker),
                language=language_of(tracker),
                tone=tracker.get_slot(names.TONE),
                idempotency_key=feedback_key(tracker),
                handoff_id=int(handoff_id) if handoff_id else None,
            )
        except StoreUnavailable:  # the survey is still asked; only the "not answered" count misses it
            logger.exception("feedback log unavailable for the ask (conversation=%s)", tracker.sender_id)

    async def validate_feedback_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        intent = latest_intent(tracker)
        if intent in DECLINING_INTENTS:
            # "不用了" / "bye" / "skip" instead of a score: the customer declines to rate; end politely
            return {names.FEEDBACK_RATING: SKIPPED, names.FEEDBACK_COMMENT: SKIPPED}
        rating = parse_rating(None if value is None else str(value))
        if rating is not None:
            return {names.FEEDBACK_RATING: str(rating)}
        if intent == names.RATE_SERVICE:
            # a rating in words without a score ("还凑合"): ask for the number once more
            dispatcher.utter_message(response=names.UTTER_RATING_INVALID)
            return {names.FEEDBACK_RATING: None}
        # anything else is not a rating: the survey ends unanswered (never a loop of "reply 1 to 5")
        return {names.FEEDBACK_RATING: SKIPPED, names.FEEDBACK_COMMENT: SKIPPED}

    async def validate_feedback_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if latest_intent(tracker) == names.DENY or not text or text.startswith("/"):
            return {names.FEEDBACK_COMMENT: SKIPPED}
        return {names.FEEDBACK_COMMENT: text[:2000]}


class ActionLogFeedback(Action):
    """Store the rating (once per session and handoff) and thank the customer."""

    def __init__(self, log: FeedbackLog | None = None) -> None:
        self._log = log

    def name(self) -> str:
        return names.ACTION_LOG_FEEDBACK

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(names.FEEDBACK_GIVEN):
            dispatcher.utter_message(response=names.UTTER_GOODBYE)
            return []
        rating = parse_rating(tracker.get_slot(names.FEEDBACK_RATING))
        if rating is None:  # the customer declined to rate: not asked again this session
            dispatcher.utter_message(response=names.UTTER_GOODBYE)
            return [SlotSet(names.FEEDBACK_GIVEN, True)]
        handoff_id = tracker.get_slot(names.HANDOFF_ID)
        key = feedback_key(tracker)
        log = self._log or providers.feedback_log()
        try:
            record = await asyncio.to_thread(
                log.record,
                conversation_id=tracker.sender_id,
                customer_id=tracker.get_slot(names.CUSTOMER_ID),
                channel=channel_of(tracker),
                language=language_of(tracker),
                tone=tracker.get_slot(names.TONE),
                rating=rating,
                comment=tracker.get_slot(names.FEEDBACK_COMMENT) or None,
                idempotency_key=key,
                handoff_id=int(handoff_id) if handoff_id else None,
            )
        except StoreUnavailable:
            logger.exception("feedback log unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return []
        dispatcher.utter_message(
            response=names.UTTER_FEEDBACK_FOLLOWUP if record.followup_ticket_id else names.UTTER_FEEDBACK_THANKS
        )
        dispatcher.utter_message(response=names.UTTER_GOODBYE)
        return [SlotSet(names.FEEDBACK_GIVEN, True)]
