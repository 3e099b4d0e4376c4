"""Orders: where is my order, and changing the delivery address of one that has not shipped."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, order_access, providers
from actions.context import channel_of, escalation_of, language_of, latest_intent
from actions.handoff import offer_human
from actions.repair import MAX_FAILED_TRIES, SLOT_FAILED_TRIES, RetryLimitedFormValidation
from common.db import StoreUnavailable
from common.masking import mask_text, mask_tracking_number
from desk.models import HandoffReason, TicketTopic
from desk.tickets import TicketStore
from profiles.schemas import OrderSnapshot
from profiles.store import AddressLocked, NotOrderOwner, OrderNotFound, ProfileStore, normalize_order_id
from sentiment.tone import Escalation

logger = logging.getLogger(__name__)

ADDRESS_MIN, ADDRESS_MAX = 6, 200
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")


def looks_like_address(text: str | None) -> bool:
    """A delivery address: long enough, and either Chinese place words or letters with a number."""
    if not text:
        return False
    text = text.strip()
    if not ADDRESS_MIN <= len(text) <= ADDRESS_MAX or text.startswith("/"):
        return False
    if len(_CJK.findall(text)) >= 4:
        return True
    return len(_LATIN.findall(text)) >= 4 and bool(_DIGIT.search(text))


def _date(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def order_variables(order: OrderSnapshot, language: str, *, owner: bool = True) -> dict[str, Any]:
    """Response variables for an order; someone not signed in as its buyer sees a masked tracking number."""
    carrier = (order.carrier_name_zh if language == "zh" else order.carrier_name_en) or order.carrier or "-"
    tracking = order.tracking_no if owner else mask_tracking_number(order.tracking_no)
    return {
        "order_id": order.order_id,
        "created_date": _date(order.created_at),
        "shipped_date": _date(order.shipped_at),
        "delivered_date": _date(order.delivered_at),
        "eta": _date(order.eta),
        "carrier": carrier,
        "tracking_no": tracking or "-",
    }


def ask_for_order_id(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict | None = None) -> None:
    """Ask for the order number, offering the customer's recent orders as buttons when known.

    Inside a form that has its own question (``utter_ask_<form>_order_id`` in the domain) the question
    names the task ("Which order would you like the invoice for?") instead of the order-lookup wording."""
    recent = [o for o in (tracker.get_slot(names.RECENT_ORDER_IDS) or []) if o][:3]
    plain, with_recent = names.UTTER_ASK_ORDER_ID, names.UTTER_ASK_ORDER_ID_WITH_RECENT
    form = (tracker.active_loop or {}).get("name")
    own = f"utter_ask_{form}_order_id"
    if form == names.ADDRESS_FORM:
        plain, with_recent = names.UTTER_ASK_ORDER_ID_FOR_ADDRESS, names.UTTER_ASK_ORDER_ID_WITH_RECENT_FOR_ADDRESS
    elif form and own in ((domain or {}).get("responses") or {}):
        plain, with_recent = own, f"{own}_with_recent"
    if recent:
        buttons = [{"title": o, "payload": f'/inform{{"order_id":"{o}"}}'} for o in recent]
        dispatcher.utter_message(response=with_recent, buttons=buttons)
    else:
        dispatcher.utter_message(response=plain)


# "where is my parcel" said in any mood: a parcel/order word with an arrival/whereabouts word
_PARCEL_ZH = re.compile(r"快递|包裹|物流|订单|单子|货|东西|件|E\d{11}", re.IGNORECASE)
_WHEREABOUTS_ZH = re.compile(
    r"没到|还没来|到哪|在哪|没收到|没送到|什么时候到|啥时候到|没发货|还没发|没动静|不动|状态|进度|进展"
)
_NOT_AN_ORDER_ZH = re.compile(r"工单|退款|售后单")
_WHEREABOUTS_EN = re.compile(
    r"\b(where('?s| is| are)\b.*\b(order|parcel|package|delivery|stuff)|"
    r"(order|parcel|package|delivery)\b.*\b(not|never|hasn'?t|still)\b.*\b(arrived?|come|here|delivered|shipped)|"
    r"(haven'?t|not|never) (received|got(ten)?)\b.*\b(order|parcel|package)|"
    r"\bstatus\b.*\b(order|parcel|package|delivery|E\d{11})\b|\b(order|parcel|package|delivery)\s+status\b)",
    re.IGNORECASE,
)
# the order worth showing first when the customer names none: the one on its way
_SHOW_FIRST = ("shipped", "processing", "paid", "pending_payment", "delivered")


def asks_where_order_is(text: str | None) -> bool:
    """True for a where-is-my-order question, however it is said ("我的快递怎么还没到啊", "where's my parcel??")."""
    text = text or ""
    if _PARCEL_ZH.search(text) and _WHEREABOUTS_ZH.search(text) and not _NOT_AN_ORDER_ZH.search(text):
        return True
    return bool(_WHEREABOUTS_EN.search(text))


async def serve_order_status(
    dispatcher: CollectingDispatcher, tracker: Tracker, store: ProfileStore
) -> list[EventType] | None:
    """Show the order the customer means (the one named, else their latest on its way) before anything
    else happens; None when there is no order of theirs to show (a guest, no orders, the store down)."""
    customer_id = tracker.get_slot(names.CUSTOMER_ID)
    if not customer_id or tracker.get_slot(names.IS_GUEST):
        return None
    named = normalize_order_id(tracker.get_slot(names.ORDER_ID) or "")
    try:
        if named:
            order = await asyncio.to_thread(store.get_order, named)
            candidates = [order] if order is not None and order.customer_id == customer_id else []
        else:
            candidates = await asyncio.to_thread(store.recent_orders, customer_id, 3)
    except StoreUnavailable:
        logger.exception("order lookup unavailable (conversation=%s)", tracker.sender_id)
        return None
    candidates = [o for o in candidates if o.status in _SHOW_FIRST]
    if not candidates:
        return None
    order = min(candidates, key=lambda o: _SHOW_FIRST.index(o.status))
    if tracker.get_slot(names.TONE) in ("empathetic", "elder_friendly"):
        dispatcher.utter_message(response=names.UTTER_TONE_OPENER)
    dispatcher.utter_message(
        response=names.UTTER_ORDER_STATUS_PREFIX + order.status,
        **order_variables(order, language_of(tracker)),
    )
    return [SlotSet(names.ORDER_ID, order.order_id)]


class ActionAskOrderId(Action):
    """Ask which order the customer means (with their recent orders as quick replies)."""

    def name(self) -> str:
        return names.ACTION_ASK_ORDER_ID

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ask_for_order_id(dispatcher, tracker, domain)
        return []


class ActionCheckOrder(Action):
    """Tell the customer where their order is: status, carrier and dates from the order database."""

    def __init__(self, store: ProfileStore | None = None, tickets: TicketStore | None = None) -> None:
        self._store, self._tickets = store, tickets

    def name(self) -> str:
        return names.ACTION_CHECK_ORDER

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order_id = normalize_order_id(tracker.get_slot(names.ORDER_ID) or "")
        store = self._store or providers.profile_store()
        if order_id is None:
            if bool(tracker.get_slot(names.ELDERLY)) or escalation_of(tracker) is not Escalation.NONE:
                # serve, then route: an elderly or upset customer is shown their latest order, not quizzed
                served = await serve_order_status(dispatcher, tracker, store)
                if served is not None:
                    return served + route_after_serving(dispatcher, tracker)
            if latest_intent(tracker) == names.ORDER_STATUS:
                # a new request: the number is asked for, nothing was refused yet
                ask_for_order_id(dispatcher, tracker)
                reset = [SlotSet(SLOT_FAILED_TRIES, 0.0)] if tracker.get_slot(SLOT_FAILED_TRIES) else []
                return [SlotSet(names.ORDER_ID, None), *reset]
            return [SlotSet(names.ORDER_ID, None), *self._refused(dispatcher, tracker, order_id=None)]
        try:
            order = await asyncio.to_thread(store.get_order, order_id)
        except StoreUnavailable:
            logger.exception("order lookup unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_ORDER_STATUS_UNAVAILABLE)
            return []
        if order is None:
            return [SlotSet(names.ORDER_ID, None), *self._refused(dispatcher, tracker, order_id=order_id)]

        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if customer_id and order.customer_id != customer_id:
            # a signed-in customer asking about someone else's order learns nothing about it
            dispatcher.utter_message(response=names.UTTER_ORDER_OTHER_ACCOUNT, order_id=order.order_id)
            return [SlotSet(names.ORDER_ID, None)]
        if not order_access.may_see(tracker, order):
            # a guest proves the order first (actions/order_access.py); the form comes back here
            if tracker.get_slot(order_access.SLOT_LAST4) == order_access.LOCKED:
                dispatcher.utter_message(response=order_access.UTTER_SIGN_IN, order_id=order.order_id)
                return [SlotSet(names.ORDER_ID, None), SlotSet(order_access.SLOT_LAST4, None)]
            return order_access.ask_second_factor(dispatcher, tracker, order)
        events: list[EventType] = [SlotSet(names.ORDER_ID, order.order_id)]
        if tracker.get_slot(SLOT_FAILED_TRIES):
            events.append(SlotSet(SLOT_FAILED_TRIES, 0.0))
        if tracker.get_slot(order_access.SLOT_LAST4) is not None:
            events.append(SlotSet(order_access.SLOT_LAST4, None))  # the answer is not kept
        if tracker.get_slot(names.TONE) in ("empathetic", "elder_friendly"):
            dispatcher.utter_message(response=names.UTTER_TONE_OPENER)
        dispatcher.utter_message(
            response=names.UTTER_ORDER_STATUS_PREFIX + order.status,
            **order_variables(order, language_of(tracker), owner=customer_id is not None),
        )
        level = escalation_of(tracker)
        if level is not Escalation.NONE:
            # an order problem: keep a ticket so the next contact is recognised
            events += await self._record_problem(dispatcher, tracker, order)
            events += offer_human(dispatcher, HandoffReason.NEGATIVE_SENTIMENT)
        return events

    @staticmethod
    def _refused(dispatcher: CollectingDispatcher, tracker: Tracker, *, order_id: str | None) -> list[EventType]:
        """An answer that names no order of the shop: ask again; the third in a row offers a human instead
        (the same limit as inside a form). Never a goodbye or the rating survey."""
        tries = float(tracker.get_slot(SLOT_FAILED_TRIES) or 0) + 1
        if order_id is not None:
            dispatcher.utter_message(response=names.UTTER_ORDER_NOT_FOUND, order_id=order_id)
        if tries >= MAX_FAILED_TRIES:
            return [*offer_human(dispatcher, HandoffReason.BOT_FAILURE), SlotSet(SLOT_FAILED_TRIES, 0.0)]
        if order_id is None:
            ask_for_order_id(dispatcher, tracker)
        return [SlotSet(SLOT_FAILED_TRIES, tries)]

    async def _record_problem(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot
    ) -> list[EventType]:
        tickets = self._tickets or providers.ticket_store()
        try:
            record = await asyncio.to_thread(
                tickets.record_contact,
                customer_id=tracker.get_slot(names.CUSTOMER_ID),
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                topic=TicketTopic.ORDER,
                order_id=order.order_id,
                subject=mask_text((tracker.latest_message or {}).get("text") or "")[:200],
            )
        except StoreUnavailable:
            logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
            return []
        if record.contacts_in_window >= 2:
            dispatcher.utter_message(
                response=names.UTTER_REPEAT_CONTACT_PREFIX + TicketTopic.ORDER.value,
                count=record.contacts_in_window,
            )
        return [SlotSet(names.TICKET_ID, float(record.ticket.id))]


def route_after_serving(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """After the order was shown: a human offered to an upset or elderly customer, else what else to do."""
    level = escalation_of(tracker)
    if level is not Escalation.NONE:
        return offer_human(dispatcher, HandoffReason.NEGATIVE_SENTIMENT)
    if tracker.get_slot(names.ELDERLY):
        return offer_human(dispatcher, HandoffReason.PRIORITY_CUSTOMER)
    dispatcher.utter_message(response=names.UTTER_ANYTHING_ELSE)
    return []


class ValidateAddressForm(RetryLimitedFormValidation):
    """Check each answer of the address form: an order of this customer that has not shipped, a real address.
    The third refused answer in a row offers a human (actions/repair.py)."""

    def __init__(self, store: ProfileStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return names.VALIDATE_ADDRESS_FORM

    def give_up_slots(self) -> dict[str, Any]:
        return {names.ADDRESS_BLOCKED: "tries"}  # action_change_address: the offer already explained

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # a guest, or an order whose address can no longer change, ends the form at once
        if tracker.get_slot(names.IS_GUEST) or tracker.get_slot(names.ADDRESS_BLOCKED):
            return []
        return domain_slots

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order_id = normalize_order_id(str(value or ""))
        if order_id is None:
            return {names.ORDER_ID: None}  # the form asks again (action_ask_order_id), once
        store = self._store or providers.profile_store()
        try:
            order = await asyncio.to_thread(store.get_order, order_id)
        except StoreUnavailable:
            logger.exception("order lookup unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_ORDER_STATUS_UNAVAILABLE)
            return {names.ORDER_ID: order_id, names.ADDRESS_BLOCKED: "unavailable"}
        if order is None:
            dispatcher.utter_message(response=names.UTTER_ORDER_NOT_FOUND, order_id=order_id)
            return {names.ORDER_ID: None}
        if order.customer_id != tracker.get_slot(names.CUSTOMER_ID):
            dispatcher.utter_message(response=names.UTTER_ADDRESS_OTHER_ACCOUNT, order_id=order_id)
            if await self._another_changeable(store, tracker, order_id):
                return {names.ORDER_ID: None}  # the form asks which order ("不对，是 E2026…" corrects it)
            return {names.ORDER_ID: order_id, names.ADDRESS_BLOCKED: "other_account"}
        if not order.address_changeable:
            dispatcher.utter_message(
                response=names.UTTER_ADDRESS_LOCKED_PREFIX + order.status,
                **order_variables(order, language_of(tracker)),
            )
            if await self._another_changeable(store, tracker, order_id):
                return {names.ORDER_ID: None}
            return {names.ORDER_ID: order_id, names.ADDRESS_BLOCKED: order.status}
        return {names.ORDER_ID: order_id}

    @staticmethod
    async def _another_changeable(store: ProfileStore, tracker: Tracker, order_id: str) -> bool:
        """Whether the customer has another recent order whose address can still change (then the form
        asks for the number again instead of ending: the customer may have named the wrong order)."""
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id:
            return False
        try:
            recent = await asyncio.to_thread(store.recent_orders, customer_id, 10)
        except StoreUnavailable:
            return False
        return any(o.address_changeable and o.order_id != order_id for o in recent)

    async def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not looks_like_address(value):
            dispatcher.utter_message(response=names.UTTER_ADDRESS_INVALID)
            return {names.NEW_ADDRESS: None}
        return {names.NEW_ADDRESS: " ".join(str(value).split())}

    async def validate_address_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {names.ADDRESS_CONFIRMED: bool(value) if value is not None else None}


class ActionChangeAddress(Action):
    """Save the new delivery address the customer confirmed (or keep the old one)."""

    def __init__(self, store: ProfileStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return names.ACTION_CHANGE_ADDRESS

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [
            SlotSet(names.NEW_ADDRESS, None),
            SlotSet(names.ADDRESS_CONFIRMED, None),
            SlotSet(names.ADDRESS_BLOCKED, None),
        ]
        if tracker.get_slot(names.IS_GUEST):
            dispatcher.utter_message(response=names.UTTER_ADDRESS_SIGN_IN)
            return reset
        if tracker.get_slot(names.ADDRESS_BLOCKED):
            return reset  # the validator has already explained why
        if not tracker.get_slot(names.ADDRESS_CONFIRMED):
            dispatcher.utter_message(response=names.UTTER_ADDRESS_KEPT)
            if float(tracker.get_slot(SLOT_FAILED_TRIES) or 0) >= MAX_FAILED_TRIES - 1:
                # the form was left after refused answers ("不知道"): the third try ends with a person offered
                return [*reset, *offer_human(dispatcher, HandoffReason.BOT_FAILURE), SlotSet(SLOT_FAILED_TRIES, 0.0)]
            return reset
        store = self._store or providers.profile_store()
        order_id = tracker.get_slot(names.ORDER_ID)
        try:
            order = await asyncio.to_thread(
                store.change_address,
                order_id=order_id,
                customer_id=tracker.get_slot(names.CUSTOMER_ID),
                new_address=tracker.get_slot(names.NEW_ADDRESS),
            )
        except AddressLocked as locked:  # it shipped while we were talking
            dispatcher.utter_message(
                response=names.UTTER_ADDRESS_LOCKED_PREFIX + locked.status, order_id=order_id, carrier="-"
            )
            return reset
        except (OrderNotFound, NotOrderOwner):
            dispatcher.utter_message(response=names.UTTER_ADDRESS_OTHER_ACCOUNT, order_id=order_id)
            return reset
        except StoreUnavailable:
            logger.exception("address change unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return reset
        dispatcher.utter_message(
            response=names.UTTER_ADDRESS_CHANGED, order_id=order.order_id, new_address=order.address
        )
        return reset
