"""Who may see an order's details: its signed-in buyer, or a guest who proved the phone on the order.

Order numbers are guessable (``E`` + date + a sequence), so knowing one proves nothing. A guest who
asks about an order gets its status, carrier and dates only after answering the second factor: the
last four digits of the phone number on the order (``order_access_form``; the digits are compared
with the masked phone the profile keeps, ``138****1234``, never with a raw number). A signed-in
customer sees their own orders at once (``actions.orders`` refuses anyone else's).

Wrong answers are bounded twice: ``MAX_TRIES`` per conversation (then the guest is asked to sign in),
and ``ORDER_ANSWERS_PER_HOUR`` answers per order across every conversation, taken before the digits
are compared (a shared ``common.ratelimit`` budget: Redis when ``REDIS_URL`` is set), so opening new
conversations does not buy more guesses.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import names, providers
from common.db import StoreUnavailable
from common.masking import fold
from common.ratelimit import InProcessRateLimiter, RateLimiter, RedisRateLimiter
from profiles.schemas import OrderSnapshot
from profiles.store import ProfileStore

logger = logging.getLogger(__name__)

# names shared with bot/domain/order_access.yml and bot/data/rules/order_access.yml
FORM = "order_access_form"
VALIDATE_FORM = "validate_order_access_form"
SLOT_LAST4 = "order_phone_last4"  # the guest's answer (a form slot; cleared after every check)
SLOT_GRANTED = "order_access_granted"  # order ids this conversation proved, list
SLOT_TRIES = "order_access_tries"  # wrong answers in this conversation
LOCKED = "locked"  # SLOT_LAST4's value when no more answers are taken: the order is not shown
UTTER_ASK_LAST4 = names.UTTER_ASK_ORDER_PHONE_LAST4
UTTER_WRONG = names.UTTER_ORDER_ACCESS_WRONG
UTTER_SIGN_IN = names.UTTER_ORDER_ACCESS_SIGN_IN
UTTER_NOT_DIGITS = names.UTTER_ORDER_ACCESS_NOT_DIGITS

MAX_TRIES = 3
ORDER_ANSWERS_PER_HOUR = 5
_DIGITS4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")

_order_limiter: RateLimiter | None = None


def order_limiter() -> RateLimiter:
    """Answers per order, shared by every conversation (and every replica when Redis is set)."""
    global _order_limiter
    if _order_limiter is None:
        settings = providers.settings()
        per_minute = ORDER_ANSWERS_PER_HOUR / 60  # the bucket refills at this pace
        if settings.redis_url:
            _order_limiter = RedisRateLimiter(settings.redis_url, per_minute=per_minute,  # type: ignore[arg-type]
                                              burst=ORDER_ANSWERS_PER_HOUR, prefix="order-access:")
        else:
            _order_limiter = InProcessRateLimiter(per_minute=per_minute,  # type: ignore[arg-type]
                                                  burst=ORDER_ANSWERS_PER_HOUR, max_keys=50_000)
    return _order_limiter


def last_four_of(phone_masked: str | None) -> str | None:
    """``138****1234`` → ``1234``; None when the profile has no phone."""
    digits = re.sub(r"\D", "", phone_masked or "")
    return digits[-4:] if len(digits) >= 4 else None


def digits_given(text: Any) -> str | None:
    """The four digits in the guest's answer (full-width digits too), or None."""
    found = _DIGITS4.findall(fold(str(text or "")))
    return found[-1] if found else None


def is_signed_in(tracker: Tracker) -> bool:
    return bool(tracker.get_slot(names.CUSTOMER_ID))


def may_see(tracker: Tracker, order: OrderSnapshot) -> bool:
    """Details may be shown: the signed-in buyer, or a guest who proved this order in this conversation."""
    customer_id = tracker.get_slot(names.CUSTOMER_ID)
    if customer_id:
        return order.customer_id == customer_id
    return order.order_id in (tracker.get_slot(SLOT_GRANTED) or [])


def ask_second_factor(dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot) -> list[EventType]:
    """The guest must prove the order first: the form asks for the last four digits (or to sign in)."""
    if (tracker.get_slot(SLOT_TRIES) or 0) >= MAX_TRIES:
        dispatcher.utter_message(response=UTTER_SIGN_IN, order_id=order.order_id)
        return [SlotSet(names.ORDER_ID, None)]
    return [SlotSet(names.ORDER_ID, order.order_id), SlotSet(SLOT_LAST4, None), FollowupAction(FORM)]


class ValidateOrderAccessForm(FormValidationAction):
    """Check the guest's last four digits against the phone on the order (bounded tries)."""

    def __init__(self, store: ProfileStore | None = None, limiter: RateLimiter | None = None) -> None:
        self._store = store
        self._limiter = limiter

    def name(self) -> str:
        return VALIDATE_FORM

    async def validate_order_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order_id = tracker.get_slot(names.ORDER_ID)
        tries = int(tracker.get_slot(SLOT_TRIES) or 0)
        if not order_id or is_signed_in(tracker):
            return {SLOT_LAST4: LOCKED}
        given = digits_given(value)
        if given is None:
            dispatcher.utter_message(response=UTTER_NOT_DIGITS)
            return {SLOT_LAST4: None}
        store = self._store or providers.profile_store()
        try:
            order = await asyncio.to_thread(store.get_order, order_id)
            profile = await asyncio.to_thread(store.get_profile, order.customer_id) if order else None
        except StoreUnavailable:
            logger.exception("order lookup unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_ORDER_STATUS_UNAVAILABLE)
            return {SLOT_LAST4: LOCKED}
        limiter = self._limiter or order_limiter()
        if not await limiter.allow(order_id):
            logger.warning("order answers used up for the hour (order=%s, conversation=%s)", order_id, tracker.sender_id)
            return {SLOT_LAST4: LOCKED, SLOT_TRIES: float(MAX_TRIES)}
        expected = last_four_of(profile.phone_masked if profile else None)
        if expected is not None and hmac.compare_digest(given.encode(), expected.encode()):
            granted = list(tracker.get_slot(SLOT_GRANTED) or [])
            return {SLOT_LAST4: given, SLOT_GRANTED: granted if order_id in granted else granted + [order_id]}
        tries += 1
        if tries >= MAX_TRIES:
            logger.warning("order details refused after wrong answers (order=%s, conversation=%s)",
                           order_id, tracker.sender_id)
            return {SLOT_LAST4: LOCKED, SLOT_TRIES: float(tries)}
        dispatcher.utter_message(response=UTTER_WRONG)
        return {SLOT_LAST4: None, SLOT_TRIES: float(tries)}
