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

from actions import names, order_access, providers
from actions.context import channel_of, language_of, latest_intent, latest_text
from actions.orders import ask_for_order_id
from actions.shop import (
    SLOT_BLOCKED,
    SLOT_LAST4,
    UTTER_CHOOSE_AGAIN,
    _first_words,
    _OrderFormValidation,
    _reset,
    item_name,
    match_choice,
    pick_item,
    source_of,
)
from common.db import StoreUnavailable
from common.masking import fold, mask_text
from desk.models import Priority, TicketTopic
from desk.tickets import OPEN_STATUSES, TicketStore
from profiles.schemas import OrderSnapshot
from profiles.shop import (
    CANCELLABLE_STATUSES,
    Catalogue,
    NotCancellable,
    NotChangeable,
    OutOfStock,
    ShopStore,
    refund_timing,
)
from profiles.store import CustomerNotFound, NotOrderOwner, OrderNotFound, ProfileStore

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
UTTER_PAYMENT_ORDER_CONFIRM = names.UTTER_ASK_PAYMENT_ORDER_CONFIRM
UTTER_PAYMENT_ORDER_CHOICES = names.UTTER_ASK_PAYMENT_ORDER_CHOICES


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


SLOT_CHANGE_PLAN = "change_plan"  # the change the shop's data allows: {"sku", "variant", "qty", "before", "name_*"}
SLOT_CHANGE_CONFIRMED = "change_confirmed"
_QTY_ZH = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_QTY_EN = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_QTY_PATTERNS = (
    re.compile(r"(\d+|[一两二三四五六七八九十])\s*(?:件|个|双|条|份|盒|只|台|套)"),
    re.compile(r"(?:数量|件数)\D{0,4}?(\d+|[一两二三四五六七八九十])"),
    re.compile(r"\b(?:quantity|qty|amount)\b\D{0,10}?(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\b", re.I),
    re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:pieces|pcs|items|units|boxes|pairs|of them)\b", re.I),
    re.compile(r"\b(?:only|just)\s+(one|two|three|1|2|3)\b", re.I),
)


def _mentions(text: str, words: list[str], *, case: bool = False) -> list[int]:
    flags = 0 if case else re.IGNORECASE
    found = []
    for word in words:
        pattern = re.escape(word)
        if re.search(r"[A-Za-z0-9]", word):
            pattern = rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])"
        found += [m.start() for m in re.finditer(pattern, text, flags)]
    return found


def _size_words(value: str) -> tuple[list[str], list[str]]:
    """(case-sensitive words, any-case words) that name a size: "L", "L码", "size l", "42码", "size 42"."""
    marked = [f"{value}码", f"{value}号", f"size {value}", f"尺码{value}", f"{value} size"]
    return ([] if value.isdigit() else [value]), marked


def _colour_words(colour: str, catalogue: Catalogue) -> list[str]:
    names_ = catalogue.colours.get(colour) or {}
    words = [w for w in (names_.get("zh"), names_.get("en"), colour) if w]
    if colour == "grey":
        words.append("gray")
    return words


_TO_MARKER = re.compile(r"(换成|改成|改为|换为|变成|换|要|\bto\b|\binto\b|\bin\b)\s*$", re.IGNORECASE)


def _target(mentions: dict[str, list[int]], current: str | None, text: str = "") -> str | None:
    """The value asked for: the one named right after "换成 / 改成 / to" (no change when the item has it
    already), else the one mentioned that the item does not have yet (the last such)."""
    marked = sorted((p, value) for value, pos in mentions.items() for p in pos if _TO_MARKER.search(text[max(0, p - 8):p]))
    if marked:
        value = marked[-1][1]
        return None if value == current else value
    wanted = sorted(((max(pos), value) for value, pos in mentions.items() if pos and value != current))
    return wanted[-1][1] if wanted else None


def _named_item(text: str, items: tuple[dict[str, Any], ...]) -> dict[str, Any] | None:
    """The one item whose name's head noun appears in the text ("充电宝" of "20000毫安充电宝", "bank", "shirt")."""
    lowered = text.lower()
    hits = []
    for item in items:
        zh = str(item.get("name_zh") or "")
        words = list(re.findall(r"[a-z]{4,}", str(item.get("name_en") or "").lower()))
        if (len(zh) >= 2 and (zh[-3:] in text or zh[-2:] in text)) or any(w in lowered for w in words):
            hits.append(item)
    return hits[0] if len(hits) == 1 else None


def quantity_of(text: str) -> int | None:
    best: tuple[int, int] | None = None
    for pattern in _QTY_PATTERNS:
        for match in pattern.finditer(text):
            raw = match.group(1).lower()
            value = int(raw) if raw.isdigit() else _QTY_ZH.get(raw) or _QTY_EN.get(raw)
            if value and (best is None or match.start() > best[0]):
                best = (match.start(), value)
    return best[1] if best else None


def plan_change(text: str, items: tuple[dict[str, Any], ...], catalogue: Catalogue) -> dict[str, Any] | None:
    """The change the customer asks for, read against the order's items and the catalogue, or None.

    One item: its options. Several: the item the text names, else the one item that has every option
    mentioned. A size / colour the item does not offer, or nothing recognisable: None (a person takes it)."""
    text = fold(text or "")
    qty = quantity_of(text)

    def read(item: dict[str, Any]) -> dict[str, str]:
        options = catalogue.options(str(item.get("sku")))
        current = catalogue.variant_of(item)
        mentions: dict[str, dict[str, list[int]]] = {"size": {}, "colour": {}}
        for value in options.get("size", []):
            case_words, any_words = _size_words(value)
            mentions["size"][value] = _mentions(text, case_words, case=True) + _mentions(text, any_words)
        for value in options.get("colour", []):
            mentions["colour"][value] = _mentions(text, _colour_words(value, catalogue))
        out: dict[str, str] = {}
        for name, found in mentions.items():
            target = _target(found, current.get(name), text)
            if target:
                out[name] = target
        return out

    if not items:
        return None
    chosen: dict[str, Any] | None = items[0] if len(items) == 1 else (pick_item(text, items, "zh") or _named_item(text, items))
    if chosen is None:
        readings = [(item, read(item)) for item in items]
        fitting = [(item, r) for item, r in readings if r]
        if len(fitting) != 1:
            return None
        chosen = fitting[0][0]
    variant = read(chosen) or {}
    if not variant and qty is None:
        return None
    before = {**catalogue.variant_of(chosen), "qty": int(chosen.get("qty") or 1)}
    if not variant and qty == before["qty"]:
        return None
    return {"sku": str(chosen.get("sku")), "name_zh": item_name(chosen, "zh"), "name_en": item_name(chosen, "en"),
            "variant": variant, "qty": qty, "before": before}


def describe(values: dict[str, Any], language: str, catalogue: Catalogue) -> str:
    """ "L码 / 黑色 × 1件" or "size L / black × 1" """
    parts = []
    if values.get("size"):
        parts.append(f"{values['size']}码" if language == "zh" else f"size {values['size']}")
    if values.get("colour"):
        parts.append(catalogue.colour_name(str(values["colour"]), language))
    qty = values.get("qty")
    text = " / ".join(parts)
    if qty:
        text = f"{text} × {qty}{'件' if language == 'zh' else ''}" if text else (f"{qty} 件" if language == "zh" else f"quantity {qty}")
    return text


def plan_after(plan: dict[str, Any]) -> dict[str, Any]:
    before = dict(plan.get("before") or {})
    return {**before, **(plan.get("variant") or {}), "qty": plan.get("qty") or before.get("qty")}


class ValidateChangeOrderForm(_OrderFormValidation):
    """Change size, colour or quantity: only before the order ships (afterwards it is an exchange).

    The change is read against the order's items and the variant catalogue (``plan_change``): one the
    shop's data allows is confirmed (``change_confirmed``) and applied by ``action_change_order``; a
    variant out of stock is refused with what is in stock, and asked again; anything else goes to a
    person as a ticket with the customer's words. A new change said at the confirmation replaces the old."""

    def __init__(self, store: ProfileStore | None = None, access: Any = None, catalogue: Catalogue | None = None) -> None:
        super().__init__(store=store, access=access)
        self._catalogue = catalogue

    def name(self) -> str:
        return "validate_change_order_form"

    def catalogue(self) -> Catalogue:
        return self._catalogue or Catalogue.load()

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        slots = self.order_slots(tracker)
        if not slots:
            return []
        slots.append(SLOT_CHANGE_DETAIL)
        plan = tracker.get_slot(SLOT_CHANGE_PLAN)
        # a plan left from a task that was cancelled or switched away from is not this order's
        if tracker.get_slot(SLOT_CHANGE_DETAIL) and isinstance(plan, dict) \
                and plan.get("order_id") == tracker.get_slot(names.ORDER_ID):
            slots.append(SLOT_CHANGE_CONFIRMED)
        return slots

    def order_ready(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderSnapshot) -> dict[str, Any]:
        if order.status in CANCELLABLE_STATUSES:
            return {}
        response = "utter_change_order_shipped" if order.status in ("shipped", "delivered") else "utter_cancel_closed"
        dispatcher.utter_message(response=response, order_id=order.order_id)
        return {SLOT_BLOCKED: order.status}

    async def _plan(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> dict[str, Any] | str | None:
        """The change the shop's data allows, None (a person takes it), or REFUSED (out of stock, said why)."""
        order_id = tracker.get_slot(names.ORDER_ID)
        if not order_id:
            return None
        order = await self._order(dispatcher, tracker, order_id)
        if not isinstance(order, OrderSnapshot):
            return None
        catalogue = self.catalogue()
        plan = plan_change(text, order.items, catalogue)
        if plan is None:
            return None
        plan["order_id"] = order.order_id
        after, before = plan_after(plan), plan["before"]
        variant: dict[str, Any] = {k: after[k] for k in ("size", "colour") if k in after}
        if int(after["qty"]) > int(before["qty"]) and order.status != "pending_payment":
            return None  # more of a paid order needs a payment: a person arranges it
        reserved = int(before["qty"]) if variant == {k: before[k] for k in variant} else 0
        if variant and catalogue.stock(plan["sku"], variant) + reserved < int(after["qty"]):
            language = language_of(tracker)
            available = [describe(v, language, catalogue) for v in catalogue.available(plan["sku"], int(after["qty"]))]
            dispatcher.utter_message(
                response=names.UTTER_CHANGE_ORDER_OUT_OF_STOCK, item=plan["name_zh" if language == "zh" else "name_en"],
                wanted=describe({**variant}, language, catalogue),
                available=("、" if language == "zh" else ", ").join(available[:6]) or "-")
            return REFUSED
        return plan

    async def extract_change_detail(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        """The change said with the request ("把订单里的台灯换成黑色"): once the order is known, it is the
        answer, when the shop's data can read it (otherwise the form asks for it)."""
        if tracker.get_slot(SLOT_CHANGE_DETAIL) or tracker.get_slot(names.REQUESTED_SLOT) == SLOT_CHANGE_DETAIL:
            return {}
        order_id = tracker.get_slot(names.ORDER_ID)
        first = _first_words(tracker, CHANGE_ORDER)
        if not order_id or not first or (first == mask_text(latest_text(tracker))[:200] and latest_intent(tracker) != CHANGE_ORDER):
            return {}
        try:
            order = await asyncio.to_thread(self._profiles().get_order, order_id)
        except StoreUnavailable:
            return {}
        if order is None or plan_change(first, order.items, self.catalogue()) is None:
            return {}
        return {SLOT_CHANGE_DETAIL: first}

    async def validate_change_detail(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        asked = tracker.get_slot(names.REQUESTED_SLOT) == SLOT_CHANGE_DETAIL
        if len(text) < 2 or text.startswith("/") or (asked and latest_intent(tracker) in (names.AFFIRM, names.DENY)):
            dispatcher.utter_message(response="utter_ask_change_detail")
            return {SLOT_CHANGE_DETAIL: None}
        plan = await self._plan(dispatcher, tracker, text)
        if plan == REFUSED:
            return {SLOT_CHANGE_DETAIL: None, SLOT_CHANGE_PLAN: None}
        return {SLOT_CHANGE_DETAIL: mask_text(text)[:200], SLOT_CHANGE_PLAN: plan}

    async def extract_change_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        """A new change said at the confirmation ("不对，要 XL 码") replaces the old one and is confirmed again."""
        if tracker.get_slot(names.REQUESTED_SLOT) != SLOT_CHANGE_CONFIRMED:
            return {}
        text = latest_text(tracker)
        if text.startswith("/") or latest_intent(tracker) == names.AFFIRM:
            return {}
        plan = await self._plan(dispatcher, tracker, text)
        if plan == REFUSED:
            return {SLOT_CHANGE_CONFIRMED: None}
        if isinstance(plan, dict) and plan != tracker.get_slot(SLOT_CHANGE_PLAN):
            return {SLOT_CHANGE_DETAIL: mask_text(text)[:200], SLOT_CHANGE_PLAN: plan, SLOT_CHANGE_CONFIRMED: None}
        return {}


REFUSED = "refused"


class ActionAskChangeConfirmed(Action):
    """Confirm the change before it is made: the item, what it is now and what it becomes."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self._catalogue = catalogue

    def name(self) -> str:
        return "action_ask_change_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        plan = tracker.get_slot(SLOT_CHANGE_PLAN) or {}
        language = language_of(tracker)
        catalogue = self._catalogue or Catalogue.load()
        dispatcher.utter_message(
            response=names.UTTER_ASK_CHANGE_CONFIRMED, order_id=tracker.get_slot(names.ORDER_ID),
            item=plan.get("name_zh" if language == "zh" else "name_en") or "-",
            before=describe(plan.get("before") or {}, language, catalogue),
            after=describe(plan_after(plan), language, catalogue))
        return []


class ActionChangeOrder(Action):
    """Apply a change the shop's data allows (confirmed, audited); otherwise the warehouse gets a ticket with the details."""

    def __init__(self, tickets: TicketStore | None = None, shop: ShopStore | None = None,
                 catalogue: Catalogue | None = None) -> None:
        self._tickets, self._shop, self._catalogue = tickets, shop, catalogue

    def name(self) -> str:
        return "action_change_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = _reset(SLOT_CHANGE_DETAIL, SLOT_CHANGE_PLAN, SLOT_CHANGE_CONFIRMED)
        order_id, detail = tracker.get_slot(names.ORDER_ID), tracker.get_slot(SLOT_CHANGE_DETAIL)
        if tracker.get_slot(SLOT_BLOCKED) or not (order_id and detail):
            return reset
        plan = tracker.get_slot(SLOT_CHANGE_PLAN)
        try:
            if plan:
                if not tracker.get_slot(SLOT_CHANGE_CONFIRMED):
                    dispatcher.utter_message(response=names.UTTER_CHANGE_ORDER_KEPT, order_id=order_id)
                    return reset
                applied = await self._apply(dispatcher, tracker, order_id, plan)
                if applied is not None:
                    return reset + applied
            return reset + await self._ticket(dispatcher, tracker, order_id, detail)
        except StoreUnavailable:
            logger.exception("order change unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_SERVICE_UNAVAILABLE)
            return reset

    async def _apply(self, dispatcher: CollectingDispatcher, tracker: Tracker, order_id: str,
                     plan: dict[str, Any]) -> list[EventType] | None:
        """The change made and said; None when the shop's data no longer allows it (a ticket instead)."""
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id and order_id not in (tracker.get_slot(order_access.SLOT_GRANTED) or []):
            return None  # a guest who has not proved the order: a person checks it
        catalogue = self._catalogue or Catalogue.load()
        shop = self._shop or ShopStore(providers.session_factory())
        try:
            done = await asyncio.to_thread(
                shop.change_item, order_id=order_id, customer_id=customer_id, sku=plan["sku"],
                variant=plan.get("variant") or None, qty=plan.get("qty"), source=source_of(tracker),
                conversation_id=tracker.sender_id, catalogue=catalogue)
        except NotCancellable:
            dispatcher.utter_message(response="utter_change_order_shipped", order_id=order_id)
            return []
        except (OutOfStock, NotChangeable, OrderNotFound, NotOrderOwner):
            return None
        language = language_of(tracker)
        item = plan.get("name_zh" if language == "zh" else "name_en") or "-"
        dispatcher.utter_message(response=names.UTTER_CHANGE_ORDER_DONE, order_id=done.order_id, item=item,
                                 after=describe(done.after, language, catalogue))
        difference = round(done.amount_before - done.amount_after, 2)
        if done.paid and difference > 0:
            timing = refund_timing(done.payment_method, language)
            dispatcher.utter_message(
                response=names.UTTER_CHANGE_ORDER_DIFFERENCE_BACK, amount=f"{difference:.2f}",
                refund_method=timing.method if timing else ("原支付方式" if language == "zh" else "your original payment method"),
                refund_days=timing.days if timing else "3–7")
        elif not done.paid and difference != 0:
            dispatcher.utter_message(response=names.UTTER_CHANGE_ORDER_NEW_TOTAL, amount=f"{done.amount_after:.2f}")
        return []

    async def _ticket(self, dispatcher: CollectingDispatcher, tracker: Tracker, order_id: str, detail: str) -> list[EventType]:
        record = await asyncio.to_thread(
            _tickets(self._tickets).open_request, customer_id=tracker.get_slot(names.CUSTOMER_ID),
            conversation_id=tracker.sender_id, channel=channel_of(tracker), topic=TicketTopic.ORDER_CHANGE,
            order_id=order_id, subject=f"change before shipping: {detail}"[:300], priority=Priority.HIGH,
            due_in=CHANGE_DUE)
        dispatcher.utter_message(response="utter_change_order_ticket", order_id=order_id, change_detail=detail,
                                 ticket_id=str(record.ticket.id))
        return [SlotSet(names.TICKET_ID, float(record.ticket.id))]


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
