"""PIPL: the customer switches personalised service off or on; the choice is recorded and obeyed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import channel_of, latest_intent
from common.db import StoreUnavailable
from profiles.store import ProfileStore
from sentiment.tone import Tone

logger = logging.getLogger(__name__)



async def store_consent_choice(dispatcher: CollectingDispatcher, tracker: Tracker,
                               record: Callable[[], Callable[..., Any]], **choice: Any) -> bool:
    """Store a signed-in customer's consent choice through ``record()`` (a store method, looked up only when
    there is a customer; a guest's choice lasts the conversation). False, after the polite "busy" reply,
    when the store is down."""
    customer_id = tracker.get_slot(names.CUSTOMER_ID)
    if not customer_id:
        return True
    try:
        await asyncio.to_thread(record(), customer_id=customer_id, source=f"chat:{channel_of(tracker)}",
                                conversation_id=tracker.sender_id, **choice)
    except StoreUnavailable:
        logger.exception("consent store unavailable (conversation=%s)", tracker.sender_id)
        dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
        return False
    return True

class ActionSetPersonalization(Action):
    """Record the customer's consent to personalised wording and switch it immediately."""

    def __init__(self, store: ProfileStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return names.ACTION_SET_PERSONALIZATION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        enabled = latest_intent(tracker) == names.PERSONALIZATION_ON
        record = lambda: (self._store or providers.profile_store()).set_personalization  # noqa: E731
        if not await store_consent_choice(dispatcher, tracker, record, enabled=enabled):
            return []
        events: list[EventType] = [SlotSet(names.PERSONALIZED, enabled)]
        if not enabled and tracker.get_slot(names.TONE) not in (Tone.EMPATHETIC.value, Tone.NEUTRAL.value):
            # profile-based tones stop with this very reply
            events.append(SlotSet(names.TONE, Tone.NEUTRAL.value))
        response = names.UTTER_PERSONALIZATION_ON if enabled else names.UTTER_PERSONALIZATION_OFF
        dispatcher.utter_message(response=response)
        return events
