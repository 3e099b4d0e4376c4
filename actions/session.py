"""Who is this? Resolve the customer at the start of every session and greet them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import identity_of
from actions.offers import contact_offers
from common.db import StoreUnavailable
from desk.conversations import ConversationLog
from desk.experiment import assign_arm, experiment_from
from profiles.offers import OfferStore
from profiles.schemas import CustomerProfile
from profiles.store import ProfileStore

logger = logging.getLogger(__name__)


def profile_slots(profile: CustomerProfile) -> list[EventType]:
    return [
        SlotSet(names.CUSTOMER_ID, profile.customer_id),
        SlotSet(names.CUSTOMER_NAME, profile.name),
        SlotSet(names.IS_GUEST, profile.is_guest),
        SlotSet(names.TIER, profile.tier),
        SlotSet(names.SEGMENT, profile.segment),
        SlotSet(names.LIFECYCLE, profile.lifecycle),
        SlotSet(names.ELDERLY, profile.elderly),
        SlotSet(names.LANGUAGE, profile.language),
        SlotSet(names.PERSONALIZED, profile.personalization),
        SlotSet(names.PERSONALIZATION_INTENSITY, profile.intensity),
        SlotSet("recent_order_ids", list(profile.recent_order_ids)),
        SlotSet(names.ACCESSIBILITY, profile.accessibility),
    ]


class ActionSessionStart(Action):
    """Start a session knowing the customer: profile slots from the profile store (a guest if unknown)."""

    def __init__(self, store: ProfileStore | None = None, conversations: ConversationLog | None = None) -> None:
        self._store = store
        self._conversations = conversations

    def name(self) -> str:
        return names.ACTION_SESSION_START

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        store = self._store or providers.profile_store()
        channel, external_id = identity_of(tracker).as_tuple()
        try:
            profile = await asyncio.to_thread(store.resolve, channel, external_id)
        except StoreUnavailable:
            logger.exception("profile store unavailable (conversation=%s)", tracker.sender_id)
            profile = CustomerProfile.guest()
        try:
            conversations = self._conversations or providers.conversation_log()
            await asyncio.to_thread(
                conversations.touch,
                conversation_id=tracker.sender_id,
                channel=channel,
                customer_id=profile.customer_id,
                language=profile.language,
                segment=profile.segment,
                arm=assign_arm(tracker.sender_id, experiment_from(providers.settings().tone_experiment)),
            )
        except StoreUnavailable:
            logger.exception("conversation log unavailable (conversation=%s)", tracker.sender_id)
        metadata: Any = tracker.get_slot("session_started_metadata")
        events: list[EventType] = [SessionStarted()]
        if metadata is not None:
            events.append(SlotSet("session_started_metadata", metadata))
        events.extend(profile_slots(profile))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionGreet(Action):
    """Greet the customer, by name when they allow personalised service (at medium or high intensity), then
    say what their stage allows (``actions.offers.contact_offers``)."""

    def __init__(self, offers: OfferStore | None = None, conversations: ConversationLog | None = None) -> None:
        self._offers = offers
        self._conversations = conversations

    def name(self) -> str:
        return names.ACTION_GREET

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        name = tracker.get_slot(names.CUSTOMER_NAME)
        personal = tracker.get_slot(names.PERSONALIZED) and tracker.get_slot(names.PERSONALIZATION_INTENSITY) != "low"
        if name and personal and not tracker.get_slot(names.IS_GUEST):
            dispatcher.utter_message(response=names.UTTER_GREET_NAMED, name=name)
        else:
            dispatcher.utter_message(response=names.UTTER_GREET)
        # then what the customer's stage allows: a welcome-back coupon, a points boost or the onboarding hint
        await contact_offers(dispatcher, tracker, store=self._offers, conversations=self._conversations)
        return []
