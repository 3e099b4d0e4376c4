"""Everyday shop requests (issue 16): cancel an order, and a wrong, damaged or missing item.

Both are ordinary forms with a ``FormValidationAction``, so the shared repair rules (cancel, switch,
re-ask) cover them. The business lives in ``profiles.shop`` (orders, audit trail) and
``desk.tickets`` (after-sales tickets); wording in bot/domain/shop.yml.

Privacy: a signed-in customer acts on their own orders only; a guest proves the order first with the
last four digits of its phone (the same check and limits as ``actions.order_access``) before its
status is named or anything changes.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from datetime import timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, order_access, providers
from actions.context import channel_of, escalation_of, language_of, latest_text
from actions.handoff import offer_human, segment_privileges
from actions.orders import ask_for_order_id
from common.db import StoreUnavailable
from common.masking import fold, mask_text
from desk.models import HandoffReason, Priority, TicketTopic
from desk.tickets import TicketStore
from profiles.offers import FREE_RETURNS
from profiles.schemas import OrderSnapshot
from profiles.shop import CANCELLABLE_STATUSES, NotCancellable, ShopStore, refund_timing
from profiles.store import NotOrderOwner, OrderNotFound, ProfileStore, normalize_order_id
from sentiment.tone import Escalation

logger = logging.getLogger(__name__)

# --- names shared with bot/domain/shop.yml and bot/data/rules/shop.yml --------------------------------
CANCEL_ORDER, WRONG_ITEM = "cancel_order", "wrong_item"
CANCEL_FORM, WRONG_ITEM_FORM = "cancel_order_form", "wrong_item_form"
VALIDATE_CANCEL_FORM, VALIDATE_WRONG_ITEM_FORM = "validate_cancel_order_form", "validate_wrong_item_form"
ACTION_CANCEL_ORDER, ACTION_WRONG_ITEM = "action_cancel_order", "action_wrong_item_ticket"
SLOT_LAST4 = "shop_phone_last4"
SLOT_BLOCKED = "shop_blocked"  # why the form ended early (already explained to the customer)
SLOT_CONFIRMED = "cancel_confirmed"
SLOT_ITEM = "shop_item"
SLOT_PROBLEM = "shop_problem"  # wrong | damaged | missing
SLOT_RESOLUTION = "shop_resolution"  # return | exchange | refund
UTTER_CANCEL_SHIPPED = "utter_cancel_shipped"
UTTER_CANCEL_CLOSED = "utter_cancel_closed"
UTTER_CANCEL_KEPT = "utter_cancel_kept"
UTTER_CANCELLED_UNPAID = "utter_order_cancelled_unpaid"
UTTER_CANCELLED_REFUND = "utter_order_cancelled_refund"
UTTER_CANCELLED_BALANCE = "utter_order_cancelled_balance"
UTTER_CANCELLED_ORIGINAL = "utter_order_cancelled_original"
UTTER_ASK_ITEM = "utter_ask_shop_item"
UTTER_ASK_PROBLEM = "utter_ask_shop_problem"
UTTER_ASK_RESOLUTION = "utter_ask_shop_resolution"
UTTER_CHOOSE_AGAIN = "utter_shop_choose_again"
UTTER_AFTER_SALES_TICKET = "utter_after_sales_ticket"
UTTER_AFTER_SALES_NOT_DELIVERED = "utter_after_sales_not_delivered"
AFTER_SALES_DUE = timedelta(hours=24)

BLOCKED_OTHER = "other_account"
BLOCKED_SIGN_IN = "sign_in"
BLOCKED_UNAVAILABLE = "unavailable"
GUEST_PROOF = "guest_proof"  # ``SLOT_LAST4``'s value once a guest's order is proved earlier in the conversation

PROBLEM_WORDS = {
    "damaged": ("破损", "坏了", "摔坏", "压坏", "碎了", "裂", "损坏", "瑕疵", "damaged", "broken", "cracked", "smashed", "dented", "torn"),
    "missing": ("少了", "漏发", "少发", "缺了", "没收到", "少一", "不全", "missing", "not in the box", "only got", "left out", "short"),
    "wrong": ("发错", "错发", "不是我买", "不对", "颜色不", "尺码不", "型号不", "wrong", "different", "not what i ordered", "instead of", "mixed up", "mix-up", "incorrect"),
}
RESOLUTION_WORDS = {
    "return": ("退货", "退回", "退掉", "return", "send it back"),
    "exchange": ("换货", "换一", "换个", "换成", "调换", "补发", "重发", "exchange", "replace", "replacement", "swap", "resend", "send the right"),
    "refund": ("退款", "退钱", "仅退款", "refund", "money back"),
}
# the numbers on the quick replies (bot/domain/shop.yml)
PROBLEM_NUMBERS = {"1": "wrong", "2": "damaged", "3": "missing"}
RESOLUTION_NUMBERS = {"1": "return", "2": "exchange", "3": "refund"}


def match_choice(text: str, table: dict[str, tuple[str, ...]], numbers: dict[str, str] | None = None) -> str | None:
    """The option the customer means: the number of a quick reply, or the first key whose words appear."""
    folded = fold(text or "").lower().strip().rstrip(".。!！")
    if numbers and folded in numbers:
        return numbers[folded]
    for key, words in table.items():
        if any(w in folded for w in words):
            return key
    return None


def problem_of(text: str, *, numbers: bool = False) -> str | None:
    """wrong / damaged / missing from the customer's words (damage and missing win over a generic mix-up)."""
    return match_choice(text, PROBLEM_WORDS, PROBLEM_NUMBERS if numbers else None)


def resolution_of(text: str) -> str | None:
    """return / exchange / refund from the customer's answer (1, 2, 3 as on the quick replies)."""
    return match_choice(text, RESOLUTION_WORDS, RESOLUTION_NUMBERS)


def item_name(item: dict[str, Any], language: str) -> str:
    return str(item.get("name_zh") if language == "zh" else item.get("name_en") or item.get("name_zh") or item.get("sku"))


def pick_item(text: str, items: tuple[dict[str, Any], ...], language: str) -> dict[str, Any] | None:
    """The item the customer means: its number in the list, its SKU or (part of) its name."""
    folded = fold(text or "").lower().strip()
    if folded.isdigit() and 1 <= int(folded) <= len(items):
        return items[int(folded) - 1]
    for item in items:
        names_ = {str(item.get("sku", "")).lower(), str(item.get("name_zh", "")).lower(), str(item.get("name_en", "")).lower()}
        if any(n and (n in folded or (len(folded) >= 2 and folded in n)) for n in names_):
            return item
    return None


def source_of(tracker: Tracker) -> str:
    return f"chat:{channel_of(tracker)}"


class _OrderFormValidation(FormValidationAction):
    """The order part of a shop form: the order exists, it is the customer's, and a guest proves it."""

    def __init__(self, store: ProfileStore | None = None, access: order_access.ValidateOrderAccessForm | None = None) -> None:
        self._store = store
        self._access = access

    @abc.abstractmethod
    def name(self) -> str: ...  # keeps the executor from registering the base

    def _profiles(self) -> ProfileStore:
        return self._store or providers.profile_store()

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> list[EventType]:
        """The SDK returns only the form's own slots, so a slot that an ``extract_`` method sets beside them
        (the corrected ``change_plan``, a ``declined`` proposed order) never reached Rasa: the old change was
        confirmed and made, and a "no" was handled outside the form. Those slots are returned too."""
        extracted = tracker.slots_to_validate()
        events = await super().get_validation_events(dispatcher, tracker, domain)
        returned = {event.get("name") for event in events}
        kept = [SlotSet(name, tracker.slots.get(name)) for name in extracted if name not in returned]
        return [*kept, *events]

    def order_slots(self, tracker: Tracker) -> list[str]:
        if tracker.get_slot(SLOT_BLOCKED):
            return []
        slots = [names.ORDER_ID]
        order_id = tracker.get_slot(names.ORDER_ID)
        proved = order_id in (tracker.get_slot(order_access.SLOT_GRANTED) or [])
        if not tracker.get_slot(names.CUSTOMER_ID) and not proved:
            slots.append(SLOT_LAST4)
        return slots

    async def _order(self, dispatcher: CollectingDispatcher, tracker: Tracker, order_id: str) -> OrderSnapshot | str | None:
        try:
            return await asyncio.to_thread(self._profiles().get_order, order_id)
        except StoreUnavailable:
            logger.exception("order lookup unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_ORDER_STATUS_UNAVAILABLE)
            return BLOCKED_UNAVAILABLE

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order_id = normalize_order_id(str(value or ""))
        if order_id is None:
            ask_for_order_id(dispatcher, tracker, domain)
            return {names.ORDER_ID: None}
        order = await self._order(dispatcher, tracker, order_id)
        if order == BLOCKED_UNAVAILABLE:
            return {names.ORDER_ID: order_id, SLOT_BLOCKED: BLOCKED_UNAVAILABLE}
        if order is None:
            dispatcher.utter_message(response=names.UTTER_ORDER_NOT_FOUND, order_id=order_id)
            return {names.ORDER_ID: None}
        assert isinstance(order, OrderSnapshot)
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if customer_id and order.customer_id != customer_id:
            dispatcher.utter_message(response=names.UTTER_ORDER_OTHER_ACCOUNT, order_id=order.order_id)
            return {names.ORDER_ID: None, SLOT_BLOCKED: BLOCKED_OTHER}
        if not customer_id and not order_access.may_see(tracker, order):
            if (tracker.get_slot(order_access.SLOT_TRIES) or 0) >= order_access.MAX_TRIES:
                dispatcher.utter_message(response=order_access.UTTER_SIGN_IN, order_id=order.order_id)
                return {names.ORDER_ID: None, SLOT_BLOCKED: BLOCKED_SIGN_IN}
            return {names.ORDER_ID: order.order_id, SLOT_LAST4: None}  # the form asks for the digits next
        return {names.ORDER_ID: order.order_id, **self.order_ready(dispatcher, tracker, order)}

    def order_ready(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot) -> dict[str, Any]:
        """The customer may act on this order: the form's own checks (status...)."""
        return {}

    async def validate_shop_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == GUEST_PROOF:
            return {SLOT_LAST4: GUEST_PROOF}
        access = self._access or order_access.ValidateOrderAccessForm(store=self._store)
        result = await access.validate_order_phone_last4(value, dispatcher, tracker, domain)
        events: dict[str, Any] = {k: v for k, v in result.items() if k != order_access.SLOT_LAST4}
        answer = result.get(order_access.SLOT_LAST4)
        if answer is None:
            return {**events, SLOT_LAST4: None}
        if answer == order_access.LOCKED:
            dispatcher.utter_message(response=order_access.UTTER_SIGN_IN, order_id=tracker.get_slot(names.ORDER_ID))
            return {**events, SLOT_LAST4: GUEST_PROOF, SLOT_BLOCKED: BLOCKED_SIGN_IN}
        order = await self._order(dispatcher, tracker, tracker.get_slot(names.ORDER_ID))
        if not isinstance(order, OrderSnapshot):
            return {**events, SLOT_LAST4: GUEST_PROOF, SLOT_BLOCKED: BLOCKED_UNAVAILABLE}
        return {**events, SLOT_LAST4: GUEST_PROOF, **self.order_ready(dispatcher, tracker, order)}


class ValidateCancelOrderForm(_OrderFormValidation):
    """Cancel an order: which order (proved by a guest), still in the warehouse, and a yes."""

    def name(self) -> str:
        return VALIDATE_CANCEL_FORM

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        slots = self.order_slots(tracker)
        return slots + [SLOT_CONFIRMED] if slots else []

    def order_ready(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot) -> dict[str, Any]:
        if order.status in CANCELLABLE_STATUSES:
            return {}
        if order.status in ("shipped", "delivered"):
            dispatcher.utter_message(response=UTTER_CANCEL_SHIPPED, order_id=order.order_id)
        else:
            dispatcher.utter_message(response=UTTER_CANCEL_CLOSED, order_id=order.order_id)
        return {SLOT_BLOCKED: order.status}

    async def validate_cancel_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {SLOT_CONFIRMED: bool(value) if value is not None else None}


def _reset(*slots: str) -> list[EventType]:
    return [SlotSet(s, None) for s in (SLOT_BLOCKED, SLOT_LAST4, *slots)]


class ActionCancelOrder(Action):
    """Cancel the confirmed order, record it in the order's audit trail and say when the money returns."""

    def __init__(self, shop: ShopStore | None = None) -> None:
        self._shop = shop

    def name(self) -> str:
        return ACTION_CANCEL_ORDER

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = _reset(SLOT_CONFIRMED)
        order_id = tracker.get_slot(names.ORDER_ID)
        if tracker.get_slot(SLOT_BLOCKED) or not order_id:
            return reset  # the validator has already explained why
        if not tracker.get_slot(SLOT_CONFIRMED):
            dispatcher.utter_message(response=UTTER_CANCEL_KEPT, order_id=order_id)
            return reset
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id and order_id not in (tracker.get_slot(order_access.SLOT_GRANTED) or []):
            dispatcher.utter_message(response=order_access.UTTER_SIGN_IN, order_id=order_id)
            return reset
        shop = self._shop or ShopStore(providers.session_factory())
        try:
            done = await asyncio.to_thread(shop.cancel_order, order_id=order_id, customer_id=customer_id,
                                           source=source_of(tracker), conversation_id=tracker.sender_id)
        except NotCancellable as closed:  # it left the warehouse while we were talking
            response = UTTER_CANCEL_SHIPPED if closed.status in ("shipped", "delivered") else UTTER_CANCEL_CLOSED
            dispatcher.utter_message(response=response, order_id=order_id)
            return reset
        except (OrderNotFound, NotOrderOwner):
            dispatcher.utter_message(response=names.UTTER_ORDER_OTHER_ACCOUNT, order_id=order_id)
            return reset
        except StoreUnavailable:
            logger.exception("order cancellation unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return reset
        if not done.paid:
            dispatcher.utter_message(response=UTTER_CANCELLED_UNPAID, order_id=done.order_id)
            return reset
        timing = refund_timing(done.payment_method, language_of(tracker))
        amount = f"{done.amount:.2f}"
        if timing is None:
            dispatcher.utter_message(response=UTTER_CANCELLED_ORIGINAL, order_id=done.order_id, amount=amount)
        elif timing.days == "0":
            dispatcher.utter_message(response=UTTER_CANCELLED_BALANCE, order_id=done.order_id, amount=amount,
                                     refund_method=timing.method)
        else:
            dispatcher.utter_message(response=UTTER_CANCELLED_REFUND, order_id=done.order_id, amount=amount,
                                     refund_method=timing.method, refund_days=timing.days)
        return reset


class ValidateWrongItemForm(_OrderFormValidation):
    """A wrong, damaged or missing item: which order and item, what happened, and what the customer wants."""

    def name(self) -> str:
        return VALIDATE_WRONG_ITEM_FORM

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        slots = self.order_slots(tracker)
        if not slots:
            return []
        if tracker.get_slot(names.ORDER_ID) and len(tracker.get_slot(SLOT_ITEM + "_choices") or []) > 1:
            slots.append(SLOT_ITEM)
        return slots + [SLOT_PROBLEM, SLOT_RESOLUTION]

    def order_ready(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot) -> dict[str, Any]:
        if order.status not in ("shipped", "delivered"):
            dispatcher.utter_message(response=UTTER_AFTER_SALES_NOT_DELIVERED, order_id=order.order_id)
            return {SLOT_BLOCKED: order.status}
        language = language_of(tracker)
        choices = [item_name(i, language) for i in order.items]
        events: dict[str, Any] = {SLOT_ITEM + "_choices": choices}
        if len(choices) <= 1:
            events[SLOT_ITEM] = choices[0] if choices else "-"
        return events

    async def extract_shop_problem(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot(SLOT_PROBLEM):
            return {}
        asked = tracker.get_slot(names.REQUESTED_SLOT) == SLOT_PROBLEM
        found = problem_of(latest_text(tracker), numbers=asked)
        if found:
            return {SLOT_PROBLEM: found}
        if asked:
            dispatcher.utter_message(response=UTTER_CHOOSE_AGAIN)
            return {SLOT_PROBLEM: None}
        return {}

    async def extract_shop_resolution(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot(names.REQUESTED_SLOT) != SLOT_RESOLUTION:
            return {}
        found = resolution_of(latest_text(tracker))
        if not found:
            dispatcher.utter_message(response=UTTER_CHOOSE_AGAIN)
        return {SLOT_RESOLUTION: found}

    async def extract_shop_item(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot(names.REQUESTED_SLOT) != SLOT_ITEM:
            return {}
        choices = tracker.get_slot(SLOT_ITEM + "_choices") or []
        picked = pick_item(latest_text(tracker), tuple({"name_zh": c, "name_en": c} for c in choices), "zh")
        if picked is None:
            dispatcher.utter_message(response=UTTER_CHOOSE_AGAIN)
            return {SLOT_ITEM: None}
        return {SLOT_ITEM: picked["name_zh"]}


class ActionAskShopItem(Action):
    """Which item of the order: its items as quick replies."""

    def name(self) -> str:
        return "action_ask_shop_item"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        choices = tracker.get_slot(SLOT_ITEM + "_choices") or []
        buttons = [{"title": c, "payload": str(n)} for n, c in enumerate(choices, start=1)]
        dispatcher.utter_message(response=UTTER_ASK_ITEM, buttons=buttons)
        return []


class ActionWrongItemTicket(Action):
    """Open the after-sales ticket with the details and tell the customer the next step and its number."""

    def __init__(self, tickets: TicketStore | None = None) -> None:
        self._tickets = tickets

    def name(self) -> str:
        return ACTION_WRONG_ITEM

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = _reset(SLOT_ITEM, SLOT_ITEM + "_choices", SLOT_PROBLEM, SLOT_RESOLUTION)
        order_id = tracker.get_slot(names.ORDER_ID)
        problem, resolution = tracker.get_slot(SLOT_PROBLEM), tracker.get_slot(SLOT_RESOLUTION)
        if tracker.get_slot(SLOT_BLOCKED) or not (order_id and problem and resolution):
            return reset
        words = _first_words(tracker, WRONG_ITEM)
        subject = f"{problem} / {resolution} / {tracker.get_slot(SLOT_ITEM) or '-'}: {words}"
        tickets = self._tickets or providers.ticket_store()
        level = escalation_of(tracker)
        try:
            record = await asyncio.to_thread(
                tickets.open_request, customer_id=tracker.get_slot(names.CUSTOMER_ID), conversation_id=tracker.sender_id,
                channel=channel_of(tracker), topic=TicketTopic.AFTER_SALES, order_id=order_id,
                subject=mask_text(subject)[:300], due_in=AFTER_SALES_DUE,
                priority=Priority.HIGH if level is not Escalation.NONE else Priority.MEDIUM,
            )
        except StoreUnavailable:
            logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return reset
        dispatcher.utter_message(response=f"{UTTER_AFTER_SALES_TICKET}_{resolution}", order_id=order_id,
                                 ticket_id=str(record.ticket.id))
        if resolution in ("return", "exchange") and FREE_RETURNS in segment_privileges(tracker):
            dispatcher.utter_message(response=names.UTTER_PRIVILEGE_FREE_RETURNS)
        events = reset + [SlotSet(names.TICKET_ID, float(record.ticket.id))]
        if level is not Escalation.NONE:
            events += offer_human(dispatcher, HandoffReason.NEGATIVE_SENTIMENT)
        return events


def _first_words(tracker: Tracker, intent: str) -> str:
    """What the customer said when starting the request (masked), for the person who takes it over."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and (event.get("parse_data") or {}).get("intent", {}).get("name") == intent:
            return mask_text(event.get("text") or "")[:200]
    return mask_text(latest_text(tracker))[:200]
