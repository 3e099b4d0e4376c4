"""Transparency and personalisation intensity: "what do you know about me?" answered for this customer,
and the customer's choice of how much personalisation they get (low / medium / high; off is
``actions.privacy``). The rules live in ``profiles.transparency``; the wording in bot/domain/personalisation.yml."""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import latest_intent
from actions.privacy import store_consent_choice
from common.db import StoreUnavailable
from desk.conversations import ConversationLog
from desk.my_data import report_responses  # the same lines as the widget's data panel
from profiles.offers import OfferStore
from profiles.schemas import CustomerProfile
from profiles.segmentation import Thresholds
from profiles.store import ProfileStore
from profiles.transparency import build_report
from sentiment.tone import Tone

logger = logging.getLogger(__name__)

INTENSITY_OF_INTENT = {
    names.PERSONALIZATION_LESS: "low",
    names.PERSONALIZATION_STANDARD: "medium",
    names.PERSONALIZATION_MORE: "high",
}
PROFILE_TONES = (Tone.WARM.value, Tone.CONCISE.value)


def _profile_from_slots(tracker: Tracker) -> CustomerProfile:
    return CustomerProfile(
        customer_id=tracker.get_slot(names.CUSTOMER_ID),
        name=tracker.get_slot(names.CUSTOMER_NAME),
        tier=tracker.get_slot(names.TIER) or "regular",
        segment=tracker.get_slot(names.SEGMENT) or "regular",
        lifecycle=tracker.get_slot(names.LIFECYCLE) or "growing",
        elderly=bool(tracker.get_slot(names.ELDERLY)),
        language=tracker.get_slot(names.LANGUAGE) or "zh",
        personalization=tracker.get_slot(names.PERSONALIZED) is not False,
        intensity=tracker.get_slot(names.PERSONALIZATION_INTENSITY) or "medium",
        is_guest=False,
        phone_masked=None,
    )


class ActionMyDataReport(Action):
    """Tell the customer what data personalisation uses for them, what it changes and how to lower it."""

    def __init__(self, store: ProfileStore | None = None, conversations: ConversationLog | None = None,
                 offers: OfferStore | None = None) -> None:
        self._store = store
        self._conversations = conversations
        self._offers = offers

    def name(self) -> str:
        return names.ACTION_MY_DATA_REPORT

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id:
            report = build_report(CustomerProfile.guest(tracker.get_slot(names.LANGUAGE) or "zh"), None, Thresholds())
        else:
            store = self._store or providers.profile_store()
            conversations = self._conversations or providers.conversation_log()
            try:
                profile = await asyncio.to_thread(store.get_profile, customer_id)
                facts = await asyncio.to_thread(store.get_facts, customer_id)
                contacts = await asyncio.to_thread(conversations.session_count, customer_id)
                offers = await asyncio.to_thread((self._offers or providers.offer_store()).made_this_month,
                                                 customer_id)
            except StoreUnavailable:
                logger.exception("profile store unavailable (conversation=%s)", tracker.sender_id)
                dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
                return []
            if profile is None:
                profile = _profile_from_slots(tracker)
            report = build_report(profile, facts, store.thresholds, contact_count=contacts,
                                  offers=tuple((o.kind, o.issued_at.strftime("%Y-%m-%d")) for o in offers))
        for response, variables in report_responses(report):
            dispatcher.utter_message(response=response, **variables)
        return []


class ActionSetIntensity(Action):
    """Record the customer's personalisation intensity (an audited consent change) and apply it at once."""

    def __init__(self, store: ProfileStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return names.ACTION_SET_INTENSITY

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intensity = INTENSITY_OF_INTENT.get(latest_intent(tracker) or "", "medium")
        record = lambda: (self._store or providers.profile_store()).set_intensity  # noqa: E731
        if not await store_consent_choice(dispatcher, tracker, record, intensity=intensity):
            return []
        events: list[EventType] = [
            SlotSet(names.PERSONALIZED, True),
            SlotSet(names.PERSONALIZATION_INTENSITY, intensity),
        ]
        if intensity == "low" and tracker.get_slot(names.TONE) in PROFILE_TONES:
            events.append(SlotSet(names.TONE, Tone.NEUTRAL.value))  # profile-based tones stop with this reply
        dispatcher.utter_message(response=f"{names.UTTER_INTENSITY_PREFIX}{intensity}")
        return events
