"""Offers, privileges and the declared accessibility need, said to the customer.

The rules live in ``profiles.offers`` (amounts in profiles/offers.yml) and the wording in
bot/domain/offers.yml. Every offer said here is a record the offer store made first: its code and
expiry come from that record, never from free text.

* ``contact_offers`` (called by ``action_greet``): the welcome-back coupon or the points boost when the
  rules allow one, else the onboarding hint on a new customer's first contact.
* ``action_retention``: the customer talks about leaving: a retention coupon when the rules allow
  one, and in every case a person is offered next.
* ``action_ask_accessibility`` / ``action_record_accessibility``: the customer says they have a
  visual, hearing, motor or cognitive need; it applies to this chat at once and is saved to the
  profile only when the customer says yes (a guest's stays with this chat).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import channel_of, latest_intent, latest_text
from common.db import StoreUnavailable
from desk.conversations import ConversationLog
from desk.experiment import Experiment, assign_arm
from profiles.accessibility import NEEDS, need_from_text
from profiles.offers import IssuedOffer, OfferContext, OfferStore, onboarding_hint
from profiles.store import ProfileStore

logger = logging.getLogger(__name__)


def offer_arm(customer_id: str, store: OfferStore) -> str | None:
    """The customer's arm in the offer-amount experiment (stable per customer), ``None`` when none runs."""
    rules = store.rules
    if not rules.experiment or not rules.arms:
        return None
    return assign_arm(customer_id, Experiment(name=rules.experiment, arms=tuple(rules.arms)))


def offer_variables(offer: IssuedOffer) -> dict[str, Any]:
    """The record's values for the response: code, expiry date, amount, minimum spend or multiplier."""
    def number(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    return {
        "code": offer.code,
        "expires": offer.expires_at.strftime("%Y-%m-%d"),
        "amount": number(offer.amount),
        "min_spend": number(offer.min_spend),
        "multiplier": number(offer.multiplier),
    }


async def _issue(tracker: Tracker, store: OfferStore, trigger: str) -> IssuedOffer | None:
    customer_id = tracker.get_slot(names.CUSTOMER_ID)
    if not customer_id or tracker.get_slot(names.IS_GUEST):
        return None
    _, issued = await asyncio.to_thread(
        store.offer,
        customer_id=customer_id,
        segment=tracker.get_slot(names.SEGMENT) or "regular",
        lifecycle=tracker.get_slot(names.LIFECYCLE) or "growing",
        trigger=trigger,
        channel=channel_of(tracker),
        conversation_id=tracker.sender_id,
        arm=offer_arm(customer_id, store),
    )
    if issued is not None:
        logger.info("offer %s issued (conversation=%s kind=%s arm=%s)", issued.code, tracker.sender_id,
                    issued.kind, issued.arm)
    return issued


async def contact_offers(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    store: OfferStore | None = None,
    conversations: ConversationLog | None = None,
) -> None:
    """After the greeting: the offer the rules allow, else a new customer's onboarding hint. Nothing is said
    when the stores are unreachable (the greeting stands on its own)."""
    if not tracker.get_slot(names.CUSTOMER_ID) or tracker.get_slot(names.IS_GUEST):
        return
    try:
        store = store or providers.offer_store()
        issued = await _issue(tracker, store, "contact")
        if issued is not None:
            dispatcher.utter_message(response=f"{names.UTTER_OFFER_PREFIX}{issued.kind}", **offer_variables(issued))
            return
        conversations = conversations or providers.conversation_log()
        sessions = await asyncio.to_thread(conversations.session_count, tracker.get_slot(names.CUSTOMER_ID))
    except StoreUnavailable:
        logger.exception("offer store unavailable (conversation=%s)", tracker.sender_id)
        return
    ctx = OfferContext(
        is_guest=False,
        segment=tracker.get_slot(names.SEGMENT) or "regular",
        lifecycle=tracker.get_slot(names.LIFECYCLE) or "growing",
        personalization=tracker.get_slot(names.PERSONALIZED) is not False,
        intensity=tracker.get_slot(names.PERSONALIZATION_INTENSITY) or "medium",
        now=datetime.utcnow(),  # the hint reads no dates
    )
    if onboarding_hint(ctx, store.rules, first_contact=sessions <= 1):
        dispatcher.utter_message(response=names.UTTER_ONBOARDING_HINT)


class ActionRetention(Action):
    """The customer talks about leaving: a retention offer first when the rules allow, a person next."""

    def __init__(self, store: OfferStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return names.ACTION_RETENTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            issued = await _issue(tracker, self._store or providers.offer_store(), "leaving")
        except StoreUnavailable:
            logger.exception("offer store unavailable (conversation=%s)", tracker.sender_id)
            issued = None
        if issued is not None:
            dispatcher.utter_message(response=names.UTTER_RETENTION_OFFER, **offer_variables(issued))
        dispatcher.utter_message(response=names.UTTER_RETENTION_HUMAN)
        # accepting goes through action_request_handoff as the customer's own request
        return [SlotSet(names.HUMAN_OFFERED, True), SlotSet(names.OFFER_REASON, None)]


def _declared_need(tracker: Tracker) -> str | None:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == names.ENTITY_ACCESSIBILITY_NEED and entity.get("value") in NEEDS:
            return str(entity["value"])
    return need_from_text(latest_text(tracker))


class ActionAskAccessibility(Action):
    """The customer told us of a need: apply it to this chat now and ask before saving it to the profile."""

    def name(self) -> str:
        return names.ACTION_ASK_ACCESSIBILITY

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        need = _declared_need(tracker)
        if need is None:
            dispatcher.utter_message(response=names.UTTER_ASK_ACCESSIBILITY_KIND)
            return []
        events: list[EventType] = [SlotSet(names.ACCESSIBILITY, need), SlotSet(names.HUMAN_OFFERED, False)]
        if not tracker.get_slot(names.CUSTOMER_ID) or tracker.get_slot(names.IS_GUEST):
            dispatcher.utter_message(response=names.UTTER_ACCESSIBILITY_GUEST)
            return events
        dispatcher.utter_message(response=f"{names.UTTER_ASK_ACCESSIBILITY_PREFIX}{need}")
        return events + [SlotSet(names.ACCESSIBILITY_PENDING, need), SlotSet(names.ACCESSIBILITY_ASKED, True)]


class ActionRecordAccessibility(Action):
    """Yes: save the need to the profile (with an audited consent row). No: keep it for this chat only."""

    def __init__(self, store: ProfileStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return names.ACTION_RECORD_ACCESSIBILITY

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        need = tracker.get_slot(names.ACCESSIBILITY_PENDING)
        done: list[EventType] = [SlotSet(names.ACCESSIBILITY_PENDING, None), SlotSet(names.ACCESSIBILITY_ASKED, False)]
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if latest_intent(tracker) != names.AFFIRM or not need or not customer_id:
            dispatcher.utter_message(response=names.UTTER_ACCESSIBILITY_NOT_SAVED)
            return done
        store = self._store or providers.profile_store()
        try:
            await asyncio.to_thread(store.set_accessibility, customer_id=customer_id, need=need,
                                    source=f"chat:{channel_of(tracker)}", conversation_id=tracker.sender_id)
        except StoreUnavailable:
            logger.exception("profile store unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return done
        dispatcher.utter_message(response=names.UTTER_ACCESSIBILITY_SAVED)
        return done + [SlotSet(names.ACCESSIBILITY, need)]
