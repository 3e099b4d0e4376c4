"""Feedback: CSAT 1–5 with an optional comment; a low score opens a follow-up for a supervisor."""

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


class ValidateFeedbackForm(FormValidationAction):
    """Accept a 1–5 score however the customer writes it; the comment is optional."""

    def name(self) -> str:
        return names.VALIDATE_FEEDBACK_FORM

    async def validate_feedback_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if latest_intent(tracker) in (names.DENY, names.GOODBYE):
            # "不用了" / "bye" instead of a score: the customer declines to rate; end politely
            return {names.FEEDBACK_RATING: SKIPPED, names.FEEDBACK_COMMENT: SKIPPED}
        rating = parse_rating(None if value is None else str(value))
        if rating is None:
            dispatcher.utter_message(response=names.UTTER_RATING_INVALID)
            return {names.FEEDBACK_RATING: None}
        return {names.FEEDBACK_RATING: str(rating)}

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
        key = f"{tracker.sender_id}:{session_started_at(tracker):.3f}:{int(handoff_id) if handoff_id else 'bot'}"
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
