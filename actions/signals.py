"""Every user turn: language, sentiment, emotion, trend and the tone to answer in.

Rasa runs ``action_validate_slot_mappings`` after each user message (``ActionExtractSlots``), so
the slots below are fresh before any policy predicts. Domain requirements: the slots ``language``,
``sentiment``, ``sentiment_score``, ``emotion``, ``sentiment_trend``, ``sentiment_history``,
``tone``, ``fallback_count`` and ``human_offered`` have ``mappings: [{type: custom}]``.
"""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import latest_intent, latest_text, priority_care
from actions.repair import second_request_of
from desk.conversations import ConversationLog
from desk.experiment import assign_arm, experiment_from
from desk.feedback import parse_rating
from sentiment import SentimentAnalyzer, SentimentResult
from sentiment.language import detect_language
from sentiment.tone import choose_tone, push_history, trend

logger = logging.getLogger(__name__)
_pending: set[asyncio.Task] = set()  # dashboard notes in flight (a reference keeps each task alive)

# intents that answer the bot's offer of a human; any other turn withdraws the offer
_OFFER_ANSWERS = {names.AFFIRM, names.DENY, names.REQUEST_HUMAN}


class ActionValidateSlotMappings(Action):
    """Read how the customer feels this turn so the reply takes the right tone."""

    def __init__(
        self, analyzer: SentimentAnalyzer | None = None, conversations: ConversationLog | None = None
    ) -> None:
        self._analyzer = analyzer
        self._conversations = conversations

    def name(self) -> str:
        return names.ACTION_VALIDATE_SLOT_MAPPINGS

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = latest_intent(tracker)
        text = latest_text(tracker)
        if (intent or "").startswith("EXTERNAL_") or text.startswith("/"):
            # a button payload or an event from the desk carries no feelings to read
            return self._bookkeeping(tracker, intent)

        result = await self._sentiment(tracker, text)

        # the conversation's arm in the tone-strategy A/B test (pure: conversation id + settings)
        arm = assign_arm(tracker.sender_id, experiment_from(providers.settings().tone_experiment))
        history = push_history(tracker.get_slot(names.SENTIMENT_HISTORY), result.score)
        current_trend = trend(history)
        # the language the customer chose ("reply in English please") wins; else what they write now
        language = tracker.get_slot(names.LANGUAGE_CHOICE) or detect_language(
            text, fallback=tracker.get_slot(names.LANGUAGE) or "zh"
        )
        tone = choose_tone(
            sentiment=result.label,
            emotion=result.emotion,
            trend=current_trend,
            segment=tracker.get_slot(names.SEGMENT),
            elderly=priority_care(tracker),  # a declared accessibility need also gets the plain, short tone
            personalized=tracker.get_slot(names.PERSONALIZED) is not False,
            intensity=tracker.get_slot(names.PERSONALIZATION_INTENSITY) or "medium",
            strategy=arm,
        )
        self._note_later(tracker.sender_id, result.score, tone.value, arm, language)
        values = {
            names.LANGUAGE: language,
            names.SENTIMENT: result.label,
            names.SENTIMENT_SCORE: result.score,
            names.EMOTION: result.emotion,
            names.SENTIMENT_HISTORY: history,
            names.TREND: current_trend.value,
            names.TONE: tone.value,
        }
        # only what changed: every event is stored and replayed, so unchanged slots cost every turn
        changed = [SlotSet(k, v) for k, v in values.items() if tracker.get_slot(k) != v]
        # a two-part message: the second request waits until the first is served (actions/repair.py)
        second = second_request_of(tracker.latest_message)
        later = [SlotSet(names.SECOND_REQUEST, second)] if second else []
        return [*changed, *later, *self._unprompted_rating(tracker, intent, text), *self._bookkeeping(tracker, intent)]

    def _note_later(self, conversation_id: str, score: float, tone: str, arm: str, language: str) -> None:
        """Written after the reply, off the turn's critical path (the dashboards can wait a moment;
        the transcript itself is Rasa's and is never delayed)."""
        task = asyncio.get_running_loop().create_task(self._note(conversation_id, score, tone, arm, language))
        _pending.add(task)
        task.add_done_callback(_pending.discard)

    async def _note(self, conversation_id: str, score: float, tone: str, arm: str, language: str) -> None:
        """Sentiment, tone and the language in use for review and the dashboards (ConversationLog); never
        costs the customer a reply."""
        conversations = self._conversations
        if conversations is None and self._analyzer is None:  # the action server: the shared store
            conversations = providers.conversation_log()
        if conversations is None:
            return
        try:
            await asyncio.to_thread(
                conversations.note_signals,
                conversation_id=conversation_id, score=score, tone=tone, arm=arm, language=language,
            )
        except Exception:
            logger.exception("conversation signals not stored (conversation=%s)", conversation_id)

    async def _sentiment(self, tracker: Tracker, text: str) -> SentimentResult:
        """The NLU pipeline's reading (``bot/components/sentiment.py``), else the fallback analyzer."""
        reading = SentimentResult.from_dict((tracker.latest_message or {}).get("sentiment"))
        if reading is not None:
            return reading
        analyzer = self._analyzer or providers.fallback_analyzer()
        try:
            return await asyncio.to_thread(analyzer.analyze, text)
        except Exception:  # the analyzer must never cost the customer a reply
            logger.exception("sentiment analyzer failed (conversation=%s)", tracker.sender_id)
            return SentimentResult.neutral()

    @staticmethod
    def _unprompted_rating(tracker: Tracker, intent: str | None, text: str) -> list[EventType]:
        """"我给5分" before the bot asked: the score is taken so the rating form starts with it."""
        if intent != names.RATE_SERVICE or (tracker.active_loop or {}).get("name"):
            return []
        rating = parse_rating(text)
        return [SlotSet(names.FEEDBACK_RATING, str(rating))] if rating is not None else []

    @staticmethod
    def _bookkeeping(tracker: Tracker, intent: str | None) -> list[EventType]:
        events: list[EventType] = []
        if intent not in (names.NLU_FALLBACK, names.OUT_OF_SCOPE) and tracker.get_slot(names.FALLBACK_COUNT):
            events.append(SlotSet(names.FALLBACK_COUNT, 0.0))
        if intent not in _OFFER_ANSWERS and tracker.get_slot(names.HUMAN_OFFERED):
            events.append(SlotSet(names.HUMAN_OFFERED, False))
        # "save your accessibility need?" is answered by the next yes or no only
        if intent not in (names.AFFIRM, names.DENY) and tracker.get_slot(names.ACCESSIBILITY_ASKED):
            events += [SlotSet(names.ACCESSIBILITY_ASKED, False), SlotSet(names.ACCESSIBILITY_PENDING, None)]
        return events
