"""Everyday shop requests (issue 16), part two: payment questions, invoices, changing an order, and
account requests (change phone / e-mail, delete my account, stop promotional messages).

Forms reuse the order checks of ``actions.shop`` (own order, a guest proves it); the business is in
``profiles.shop`` and ``desk.tickets``; wording in bot/domain/shop.yml.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import channel_of, language_of, latest_intent, latest_text
from actions.orders import ask_for_order_id
from actions.shop import (
    SLOT_BLOCKED,
    SLOT_LAST4,
    UTTER_CHOOSE_AGAIN,
    _first_words,
    _OrderFormValidation,
    _reset,
    match_choice,
    source_of,
)
from common.db import StoreUnavailable
from common.masking import fold, mask_text
from desk.models import Priority, TicketTopic
from desk.tickets import OPEN_STATUSES, TicketStore
from profiles.schemas import OrderSnapshot
from profiles.shop import CANCELLABLE_STATUSES, ShopStore, refund_timing
from profiles.store import CustomerNotFound, ProfileStore

logger = logging.getLogger(__name__)

PAYMENT_ISSUE, INVOICE_REQUEST, CHANGE_ORDER = "payment_issue", "invoice_request", "change_order"
ACCOUNT_CHANGE, ACCOUNT_DELETE, STOP_MESSAGES = "account_change", "account_delete", "stop_messages"
PAYMENT_FORM, INVOICE_FORM, CHANGE_FORM = "payment_form", "invoice_form", "change_order_form"
SLOT_PAYMENT_KIND = "payment_kind"  # charged_twice | not_through | refund_missing
SLOT_INVOICE_KIND = "invoice_kind"  # personal | company
INVOICE_FIELDS = ("invoice_company", "invoice_tax_id", "invoice_bank", "invoice_contact")
SLOT_CHANGE_DETAIL = "change_detail"
PRIVACY_DAYS = 15  # PIPL: a deletion request is answered within 15 working days
PAYMENT_DUE = timedelta(days=1)
INVOICE_DUE = timedelta(days=3)
CHANGE_DUE = timedelta(hours=4)

PAYMENT_WORDS = {
    "charged_twice": ("扣了两次", "扣两次", "重复扣", "扣了2次", "多扣", "付了两次", "两笔", "charged twice", "double charge",
                      "double-charged", "charged two times", "paid twice", "two charges", "duplicate"),
    "refund_missing": ("退款", "没到账", "没收到退款", "钱还没退", "refund", "money back", "not received the money"),
    "not_through": ("没成功", "不成功", "付不了", "付款失", "支付失", "付不上", "没付上", "declined", "didn't go through",
                    "did not go through", "not go through", "won't go through", "payment failed", "failed", "can't pay", "cannot pay"),
}
PAYMENT_NUMBERS = {"1": "charged_twice", "2": "not_through", "3": "refund_missing"}
INVOICE_NUMBERS = {"1": "personal", "2": "company"}
INVOICE_WORDS = {"company": ("公司", "专票", "专用", "企业", "单位", "company", "business", "vat special", "tax id"),
                 "personal": ("个人", "普票", "电子", "personal", "e-invoice", "myself")}
_TAX_ID = re.compile(r"^[0-9A-Z]{15,20}$")
# "which order is the payment question about?": the customer's orders of this window are offered first
PAYMENT_WINDOW = timedelta(days=30)
SLOT_PAYMENT_CANDIDATE = "payment_candidate"  # the one order proposed ("is it E… paid on …?"), or DECLINED
DECLINED = "declined"
PAID_STATUSES = frozenset({"paid", "processing", "shipped", "delivered", "cancelled", "refunded"})
UTTER_PAYMENT_ORDER_CONFIRM = "utter_ask_payment_order_confirm"
UTTER_PAYMENT_ORDER_CHOICES = "utter_ask_payment_order_choices"


def payment_candidates(orders: list[OrderSnapshot], kind: str | None, now: datetime,
                       window: timedelta = PAYMENT_WINDOW) -> list[OrderSnapshot]:
    """The orders a payment question is likely about: placed in the window, paid (a failed payment: unpaid
    ones first). Newest first, as ``orders`` comes."""
    recent = [o for o in orders if o.created_at >= now - window]
    if kind == "not_through":
        unpaid = [o for o in recent if o.status == "pending_payment"]
        if unpaid:
            return unpaid
    return [o for o in recent if o.status in PAID_STATUSES]


def _order_button(order: OrderSnapshot, language: str) -> dict[str, str]:
    day = order.created_at.strftime("%m-%d")
    title = f"{order.order_id} · {day} · ¥{order.amount:.2f}" if language == "zh" else \
        f"{order.order_id} · {day} · CNY {order.amount:.2f}"
    return {"title": title, "payload": f'/inform{{"order_id":"{order.order_id}"}}'}


class ActionAskPaymentOrder(Action):
    """Which order a payment question is about: one obvious paid order of the window is proposed
    ("is it order E… paid on …?", yes / no), several are listed as buttons, else the plain question."""

    def __init__(self, store: ProfileStore | None = None, clock: Any = datetime.utcnow) -> None:
        self._store, self._clock = store, clock

    def name(self) -> str:
        return "action_ask_payment_form_order_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id:
            ask_for_order_id(dispatcher, tracker, domain)
            return []
        try:
            orders = await asyncio.to_thread((self._store or providers.profile_store()).recent_orders, customer_id, 10)
        except StoreUnavailable:
            logger.exception("order lookup unavailable (conversation=%s)", tracker.sender_id)
            ask_for_order_id(dispatcher, tracker, domain)
            return []
        kind = match_choice(_first_words(tracker, PAYMENT_ISSUE), PAYMENT_WORDS)
        candidates = payment_candidates(orders, kind, self._clock())
        declined = tracker.get_slot(SLOT_PAYMENT_CANDIDATE) == DECLINED
        language = language_of(tracker)
        if len(candidates) == 1 and not declined:
            order = candidates[0]
            dispatcher.utter_message(
                response=UTTER_PAYMENT_ORDER_CONFIRM, order_id=order.order_id,
                paid_on=order.created_at.strftime("%Y-%m-%d"), amount=f"{order.amount:.2f}",
                buttons=[_order_button(order, language) | {"title": "是的" if language == "zh" else "Yes"},
                         {"title": "不是这笔" if language == "zh" else "No, another one", "payload": "/deny"}])
            return [SlotSet(SLOT_PAYMENT_CANDIDATE, order.order_id)]
        if declined:  # not the proposed one: the customer's other orders, else the plain question
            proposed = candidates[0].order_id if len(candidates) == 1 else None
            others = [o for o in orders if o.order_id != proposed]
        else:
            others = candidates if len(candidates) > 1 else []
        if others:
            dispatcher.utter_message(response=UTTER_PAYMENT_ORDER_CHOICES,
                                     buttons=[_order_button(o, language) for o in others[:5]])
            return []
        ask_for_order_id(dispatcher, tracker, domain)
        return []


def _tickets(own: TicketStore | None) -> TicketStore:
    return own or providers.ticket_store()


class ValidatePaymentForm(_OrderFormValidation):
    """A payment question: which order (proved by a guest) and which kind of question."""

    def name(self) -> str:
        return "validate_payment_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        slots = self.order_slots(tracker)
        return slots + [SLOT_PAYMENT_KIND] if slots else []

    async def extract_order_id(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        """A yes / no to the proposed order ("is it order E… paid on …?")."""
        candidate = tracker.get_slot(SLOT_PAYMENT_CANDIDATE)
        if tracker.get_slot(names.REQUESTED_SLOT) != names.ORDER_ID or not candidate or candidate == DECLINED:
            return {}
        if tracker.get_slot(names.ORDER_ID):
            return {}
        intent = latest_intent(tracker)
        if intent == names.AFFIRM:
            return {names.ORDER_ID: candidate}
        if intent == names.DENY:
            return {SLOT_PAYMENT_CANDIDATE: DECLINED}
        return {}

    async def extract_payment_kind(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot(SLOT_PAYMENT_KIND):
            return {}
        asked = tracker.get_slot(names.REQUESTED_SLOT) == SLOT_PAYMENT_KIND
        found = match_choice(latest_text(tracker), PAYMENT_WORDS, PAYMENT_NUMBERS if asked else None)
        if found:
            return {SLOT_PAYMENT_KIND: found}
        if asked:
            dispatcher.utter_message(response=UTTER_CHOOSE_AGAIN)
            return {SLOT_PAYMENT_KIND: None}
        return {}


class ActionPaymentIssue(Action):
    """Answer from what the shop knows (payment state, refund ticket); open a ticket when a person must check."""

    def __init__(self, store: ProfileStore | None = None, tickets: TicketStore | None = None,
                 shop: ShopStore | None = None) -> None:
        self._store, self._tickets, self._shop = store, tickets, shop

    def name(self) -> str:
        return "action_payment_issue"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = _reset(SLOT_PAYMENT_KIND, SLOT_PAYMENT_CANDIDATE)
        order_id, kind = tracker.get_slot(names.ORDER_ID), tracker.get_slot(SLOT_PAYMENT_KIND)
        if tracker.get_slot(SLOT_BLOCKED) or not (order_id and kind):
            return reset
        try:
            order = await asyncio.to_thread((self._store or providers.profile_store()).get_order, order_id)
            if order is None:
                return reset
            events = await self._answer(dispatcher, tracker, order, kind)
        except StoreUnavailable:
            logger.exception("payment lookup unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return reset
        return reset + events

    async def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot, kind: str) -> list[EventType]:
        if kind == "not_through":
            if order.status == "pending_payment":
                dispatcher.utter_message(response="utter_payment_pending", order_id=order.order_id)
                return []
            if order.status in CANCELLABLE_STATUSES | {"shipped", "delivered"}:
                dispatcher.utter_message(response="utter_payment_received", order_id=order.order_id)
                return []
        tickets = _tickets(self._tickets)
        if kind == "refund_missing":
            refund = await asyncio.to_thread(self._open_refund_ticket, tickets, tracker, order.order_id)
            if refund is not None:
                dispatcher.utter_message(
                    response="utter_payment_refund_ticket", order_id=order.order_id, ticket_id=str(refund.id),
                    ticket_status=refund.status, due_date=refund.due_at.strftime("%Y-%m-%d") if refund.due_at else "-")
                return [SlotSet(names.TICKET_ID, float(refund.id))]
        record = await asyncio.to_thread(
            tickets.open_request, customer_id=tracker.get_slot(names.CUSTOMER_ID), conversation_id=tracker.sender_id,
            channel=channel_of(tracker), topic=TicketTopic.PAYMENT, order_id=order.order_id,
            subject=mask_text(f"{kind}: {_first_words(tracker, PAYMENT_ISSUE)}")[:300],
            priority=Priority.HIGH if kind == "charged_twice" else Priority.MEDIUM, due_in=PAYMENT_DUE)
        shop = self._shop or ShopStore(providers.session_factory())
        timing = refund_timing(await asyncio.to_thread(shop.payment_method_of, order.order_id), language_of(tracker))
        if kind == "refund_missing" and order.status in ("cancelled", "refunded") and timing is not None:
            dispatcher.utter_message(response="utter_payment_refund_window", order_id=order.order_id,
                                     refund_method=timing.method, refund_days=timing.days, ticket_id=str(record.ticket.id))
        else:
            dispatcher.utter_message(response="utter_payment_ticket", order_id=order.order_id, ticket_id=str(record.ticket.id))
        return [SlotSet(names.TICKET_ID, float(record.ticket.id))]

    @staticmethod
    def _open_refund_ticket(tickets: TicketStore, tracker: Tracker, order_id: str):  # type: ignore[no-untyped-def]
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id:
            return None
        for ticket in tickets.recent_for(customer_id, limit=20):
            if ticket.topic == TicketTopic.REFUND.value and ticket.order_id == order_id and ticket.status in OPEN_STATUSES:
                return ticket
        return None


class ValidateInvoiceForm(_OrderFormValidation):
    """An invoice for a delivered order: personal (where it is) or company (the fields the FAQ lists)."""

    def name(self) -> str:
        return "validate_invoice_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        slots = self.order_slots(tracker)
        if not slots:
            return []
        slots.append(SLOT_INVOICE_KIND)
        if tracker.get_slot(SLOT_INVOICE_KIND) == "company":
            slots += list(INVOICE_FIELDS)
        return slots

    def order_ready(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot) -> dict[str, Any]:
        if order.status != "delivered":
            dispatcher.utter_message(response="utter_invoice_not_delivered", order_id=order.order_id)
            return {SLOT_BLOCKED: order.status}
        return {}

    async def extract_invoice_kind(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot(SLOT_INVOICE_KIND):
            return {}
        asked = tracker.get_slot(names.REQUESTED_SLOT) == SLOT_INVOICE_KIND
        found = match_choice(latest_text(tracker), INVOICE_WORDS, INVOICE_NUMBERS if asked else None)
        if found:
            return {SLOT_INVOICE_KIND: found}
        if asked:
            dispatcher.utter_message(response=UTTER_CHOOSE_AGAIN)
            return {SLOT_INVOICE_KIND: None}
        return {}

    async def validate_invoice_tax_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        tax_id = re.sub(r"[\s-]", "", fold(str(value or ""))).upper()
        if not _TAX_ID.match(tax_id):
            dispatcher.utter_message(response="utter_invoice_tax_id_again")
            return {"invoice_tax_id": None}
        return {"invoice_tax_id": tax_id}


class ActionInvoiceRequest(Action):
    """Say where a personal invoice is, or open the company-invoice request with the collected fields."""

    def __init__(self, tickets: TicketStore | None = None) -> None:
        self._tickets = tickets

    def name(self) -> str:
        return "action_invoice_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = _reset(SLOT_INVOICE_KIND, *INVOICE_FIELDS)
        order_id, kind = tracker.get_slot(names.ORDER_ID), tracker.get_slot(SLOT_INVOICE_KIND)
        if tracker.get_slot(SLOT_BLOCKED) or not (order_id and kind):
            return reset
        if kind == "personal":
            dispatcher.utter_message(response="utter_invoice_personal", order_id=order_id)
            return reset
        # the bank account and phone are personal data: masked before they are stored
        fields = "; ".join(f"{f.removeprefix('invoice_')}={mask_text(str(tracker.get_slot(f) or ''))}" for f in INVOICE_FIELDS)
        try:
            record = await asyncio.to_thread(
                _tickets(self._tickets).open_request, customer_id=tracker.get_slot(names.CUSTOMER_ID),
                conversation_id=tracker.sender_id, channel=channel_of(tracker), topic=TicketTopic.INVOICE,
                order_id=order_id, subject=f"company invoice: {fields}"[:300], due_in=INVOICE_DUE)
        except StoreUnavailable:
            logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return reset
        dispatcher.utter_message(response="utter_invoice_requested", order_id=order_id, ticket_id=str(record.ticket.id))
        return reset + [SlotSet(names.TICKET_ID, float(record.ticket.id))]


class ValidateChangeOrderForm(_OrderFormValidation):
    """Change size, colour or quantity: only before the order ships (afterwards it is an exchange)."""

    def name(self) -> str:
        return "validate_change_order_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        slots = self.order_slots(tracker)
        return slots + [SLOT_CHANGE_DETAIL] if slots else []

    def order_ready(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot) -> dict[str, Any]:
        if order.status in CANCELLABLE_STATUSES:
            return {}
        response = "utter_change_order_shipped" if order.status in ("shipped", "delivered") else "utter_cancel_closed"
        dispatcher.utter_message(response=response, order_id=order.order_id)
        return {SLOT_BLOCKED: order.status}

    async def validate_change_detail(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < 2 or text.startswith("/"):
            dispatcher.utter_message(response="utter_ask_change_detail")
            return {SLOT_CHANGE_DETAIL: None}
        return {SLOT_CHANGE_DETAIL: mask_text(text)[:200]}


class ActionChangeOrder(Action):
    """The shop's data has no variants to switch to: the change goes to the warehouse as a ticket, with the details."""

    def __init__(self, tickets: TicketStore | None = None) -> None:
        self._tickets = tickets

    def name(self) -> str:
        return "action_change_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = _reset(SLOT_CHANGE_DETAIL)
        order_id, detail = tracker.get_slot(names.ORDER_ID), tracker.get_slot(SLOT_CHANGE_DETAIL)
        if tracker.get_slot(SLOT_BLOCKED) or not (order_id and detail):
            return reset
        try:
            record = await asyncio.to_thread(
                _tickets(self._tickets).open_request, customer_id=tracker.get_slot(names.CUSTOMER_ID),
                conversation_id=tracker.sender_id, channel=channel_of(tracker), topic=TicketTopic.ORDER_CHANGE,
                order_id=order_id, subject=f"change before shipping: {detail}"[:300], priority=Priority.HIGH,
                due_in=CHANGE_DUE)
        except StoreUnavailable:
            logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return reset
        dispatcher.utter_message(response="utter_change_order_ticket", order_id=order_id, change_detail=detail,
                                 ticket_id=str(record.ticket.id))
        return reset + [SlotSet(names.TICKET_ID, float(record.ticket.id))]


class ActionAccountDelete(Action):
    """Delete my account / my data: a privacy request ticket, acknowledged with what happens next and when."""

    def __init__(self, tickets: TicketStore | None = None) -> None:
        self._tickets = tickets

    def name(self) -> str:
        return "action_account_delete"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id:
            dispatcher.utter_message(response="utter_account_sign_in")
            return []
        try:
            record = await asyncio.to_thread(
                _tickets(self._tickets).open_request, customer_id=customer_id, conversation_id=tracker.sender_id,
                channel=channel_of(tracker), topic=TicketTopic.PRIVACY, subject="account and data deletion request",
                priority=Priority.HIGH, due_in=timedelta(days=PRIVACY_DAYS))
        except StoreUnavailable:
            logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return []
        dispatcher.utter_message(response="utter_account_delete_ack", ticket_id=str(record.ticket.id), days=str(PRIVACY_DAYS))
        return [SlotSet(names.TICKET_ID, float(record.ticket.id))]


class ActionStopMessages(Action):
    """Stop promotional messages: the opt-out is recorded with the consent changes (never a survey)."""

    def __init__(self, shop: ShopStore | None = None) -> None:
        self._shop = shop

    def name(self) -> str:
        return "action_stop_messages"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id:
            dispatcher.utter_message(response="utter_stop_messages_guest")
            return []
        shop = self._shop or ShopStore(providers.session_factory())
        try:
            await asyncio.to_thread(shop.set_marketing, customer_id=customer_id, enabled=False,
                                    source=source_of(tracker), conversation_id=tracker.sender_id)
        except CustomerNotFound:
            dispatcher.utter_message(response="utter_stop_messages_guest")
            return []
        except StoreUnavailable:
            logger.exception("consent store unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return []
        dispatcher.utter_message(response="utter_stop_messages_done")
        return [SlotSet(names.FEEDBACK_GIVEN, True)]  # a customer who asked for silence is not sent the survey


__all__ = ["SLOT_LAST4"]
