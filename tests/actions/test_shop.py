"""Everyday shop requests (issue 16): the forms' checks and the actions, on the seeded database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from actions import names, order_access
from actions.shop import (
    ActionCancelOrder,
    ActionWrongItemTicket,
    ValidateCancelOrderForm,
    ValidateWrongItemForm,
    pick_item,
    problem_of,
    resolution_of,
)
from actions.shop_requests import (
    ActionAccountDelete,
    ActionChangeOrder,
    ActionInvoiceRequest,
    ActionPaymentIssue,
    ActionStopMessages,
    ValidateChangeOrderForm,
    ValidateInvoiceForm,
    ValidatePaymentForm,
)
from common.ratelimit import InProcessRateLimiter
from desk.models import Ticket
from profiles.models import Consent, ConsentChange, Customer, Order, OrderChange
from profiles.shop import PAYMENT_METHODS_FILE, NotCancellable, ShopStore, load_payment_methods, refund_timing
from profiles.store import NotOrderOwner
from tests.utils.builders import ROOT, Unavailable, message, responses, slot_events

VIP = {names.CUSTOMER_ID: "C000001", names.IS_GUEST: False, names.LANGUAGE: "zh"}
REGULAR = {names.CUSTOMER_ID: "C000005", names.IS_GUEST: False, names.LANGUAGE: "zh"}
GUEST = {names.IS_GUEST: True, names.LANGUAGE: "en"}


@pytest.fixture
def shop(seeded, clock) -> ShopStore:
    return ShopStore(seeded, clock=clock)


def _order(seeded, customer_id: str, status: str) -> Order:
    with seeded() as s:
        return s.scalars(select(Order).where(Order.customer_id == customer_id, Order.status == status)
                         .order_by(Order.created_at.desc())).first()


def _set(seeded, order_id: str, **values) -> None:
    with seeded.begin() as s:
        order = s.get(Order, order_id)
        for key, value in values.items():
            setattr(order, key, value)


def _access(store):
    return order_access.ValidateOrderAccessForm(store=store, limiter=InProcessRateLimiter(per_minute=1, burst=5))


# -- the knowledge behind the refund timing ------------------------------------------------------------


def test_refund_timing_agrees_with_the_faq_answer():
    faq = {e["id"]: e for e in yaml.safe_load((ROOT / "knowledge_base" / "faq.yml").read_text(encoding="utf-8"))}
    answer = faq["refund_timeline"]["answer"]
    for code, entry in load_payment_methods(PAYMENT_METHODS_FILE).items():
        zh, en = refund_timing(code, "zh"), refund_timing(code, "en")
        assert zh.method == entry["name"]["zh"] and en.method == entry["name"]["en"]
        if entry["days"] != "0":
            assert entry["name"]["zh"] in answer["zh"] or code == "unionpay_debit"
            assert re.search(rf"{entry['days']}", answer["en"]), (code, entry["days"])
    assert refund_timing(None, "zh") is None and refund_timing("barter", "en") is None


# -- ShopStore -------------------------------------------------------------------------------------------


def test_cancel_records_the_audit_trail(seeded, shop):
    order = _order(seeded, "C000005", "paid")
    done = shop.cancel_order(order_id=order.id, customer_id="C000005", source="chat:web", conversation_id="c1")
    assert done.paid and done.status_before == "paid" and done.payment_method == order.payment_method
    with seeded() as s:
        assert s.get(Order, order.id).status == "cancelled"
        [change] = s.scalars(select(OrderChange).where(OrderChange.order_id == order.id)).all()
    assert (change.kind, change.status_before, change.status_after, change.source, change.conversation_id) == (
        "cancel", "paid", "cancelled", "chat:web", "c1")
    with pytest.raises(NotCancellable):  # twice is not possible
        shop.cancel_order(order_id=order.id, customer_id="C000005", source="chat:web", conversation_id="c1")


def test_cancel_refuses_someone_elses_and_shipped_orders(seeded, shop):
    paid = _order(seeded, "C000005", "paid")
    with pytest.raises(NotOrderOwner):
        shop.cancel_order(order_id=paid.id, customer_id="C000001", source="chat:web", conversation_id="c")
    shipped = _order(seeded, "C000001", "shipped")
    with pytest.raises(NotCancellable) as raised:
        shop.cancel_order(order_id=shipped.id, customer_id="C000001", source="chat:web", conversation_id="c")
    assert raised.value.status == "shipped"
    with seeded() as s:
        assert s.get(Order, paid.id).status == "paid" and s.get(Order, shipped.id).status == "shipped"
        assert s.scalars(select(OrderChange)).all() == []


def test_marketing_opt_out_is_a_consent_change(seeded, shop):
    assert shop.set_marketing(customer_id="C000005", enabled=False, source="chat:wechat", conversation_id="c9") is True
    with seeded() as s:
        assert s.get(Consent, "C000005").marketing is False
        change = s.scalars(select(ConsentChange).where(ConsentChange.customer_id == "C000005")
                           .order_by(ConsentChange.id.desc())).first()
    assert (change.marketing, change.source, change.conversation_id) == (False, "chat:wechat", "c9")


# -- cancel an order ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["alipay", "credit_card"])
async def test_a_paid_order_is_cancelled_with_its_refund_timing(seeded, shop, tracker_factory, dispatcher, domain, method):
    order = _order(seeded, "C000005", "paid")
    _set(seeded, order.id, payment_method=method)
    tracker = tracker_factory(text="确认", intent="affirm",
                              slots={**REGULAR, names.ORDER_ID: order.id, "cancel_confirmed": True})
    events = await ActionCancelOrder(shop=shop).run(dispatcher, tracker, domain)
    sent = message(dispatcher, names.UTTER_ORDER_CANCELLED_REFUND)
    expected = refund_timing(method, "zh")
    assert (sent["refund_method"], sent["refund_days"], sent["amount"]) == (expected.method, expected.days, f"{order.amount:.2f}")
    assert slot_events(events)["cancel_confirmed"] is None
    assert shop.changes_of(order.id)[0]["kind"] == "cancel"


async def test_an_unpaid_order_is_cancelled_without_refund_words(seeded, shop, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "paid")
    _set(seeded, order.id, status="pending_payment")
    tracker = tracker_factory(text="yes", intent="affirm", slots={**REGULAR, names.ORDER_ID: order.id, "cancel_confirmed": True})
    await ActionCancelOrder(shop=shop).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_ORDER_CANCELLED_UNPAID]


async def test_a_no_keeps_the_order(seeded, shop, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "paid")
    tracker = tracker_factory(text="不用了", intent="deny", slots={**REGULAR, names.ORDER_ID: order.id, "cancel_confirmed": False})
    await ActionCancelOrder(shop=shop).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_CANCEL_KEPT]
    assert shop.changes_of(order.id) == []


async def test_a_shipped_order_gets_the_return_path(seeded, store, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000001", "shipped")
    tracker = tracker_factory(text=f"取消订单{order.id}", intent="cancel_order", slots=VIP)
    result = await ValidateCancelOrderForm(store=store).validate_order_id(order.id, dispatcher, tracker, domain)
    assert result["shop_blocked"] == "shipped"
    assert responses(dispatcher) == [names.UTTER_CANCEL_SHIPPED]


async def test_someone_elses_order_is_not_named(seeded, store, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "paid")
    tracker = tracker_factory(text=f"cancel {order.id}", intent="cancel_order", slots=VIP)
    result = await ValidateCancelOrderForm(store=store).validate_order_id(order.id, dispatcher, tracker, domain)
    assert result == {names.ORDER_ID: None, "shop_blocked": "other_account"}
    assert responses(dispatcher) == [names.UTTER_ORDER_OTHER_ACCOUNT]


async def test_a_guest_proves_the_order_before_its_status_is_named(seeded, store, shop, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "paid")
    form = ValidateCancelOrderForm(store=store, access=_access(store))
    tracker = tracker_factory(text=f"cancel {order.id}", intent="cancel_order", slots=GUEST)
    assert await form.validate_order_id(order.id, dispatcher, tracker, domain) == {names.ORDER_ID: order.id, "shop_phone_last4": None}
    assert dispatcher.messages == []  # nothing about the order before the digits
    tracker = tracker_factory(text="0000", slots={**GUEST, names.ORDER_ID: order.id})
    assert await form.required_slots([], dispatcher, tracker, domain) == [names.ORDER_ID, "shop_phone_last4", "cancel_confirmed"]
    wrong = await form.validate_shop_phone_last4("0000", dispatcher, tracker, domain)
    assert wrong["shop_phone_last4"] is None and responses(dispatcher) == [order_access.UTTER_WRONG]
    with seeded() as s:
        last4 = s.get(Customer, "C000005").phone_masked[-4:]
    right = await form.validate_shop_phone_last4(last4, dispatcher, tracker, domain)
    assert right[order_access.SLOT_GRANTED] == [order.id] and "shop_blocked" not in right
    tracker = tracker_factory(text="yes", intent="affirm", slots={**GUEST, names.ORDER_ID: order.id, "cancel_confirmed": True,
                                                                   order_access.SLOT_GRANTED: [order.id]})
    await ActionCancelOrder(shop=shop).run(dispatcher, tracker, domain)
    assert names.UTTER_ORDER_CANCELLED_REFUND in responses(dispatcher) or names.UTTER_ORDER_CANCELLED_BALANCE in responses(dispatcher)
    assert shop.changes_of(order.id)[0]["detail"] == {"by": "guest_verified"}


async def test_an_unproved_guest_changes_nothing(seeded, shop, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "paid")
    tracker = tracker_factory(text="yes", intent="affirm", slots={**GUEST, names.ORDER_ID: order.id, "cancel_confirmed": True})
    await ActionCancelOrder(shop=shop).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [order_access.UTTER_SIGN_IN]
    assert shop.changes_of(order.id) == []


async def test_cancel_during_an_outage_says_so(seeded, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "paid")
    tracker = tracker_factory(text="yes", intent="affirm", slots={**REGULAR, names.ORDER_ID: order.id, "cancel_confirmed": True})
    await ActionCancelOrder(shop=Unavailable()).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]


# -- wrong, damaged or missing item --------------------------------------------------------------------


@pytest.mark.parametrize("text, problem", [
    ("发错货了，我买的是黑色收到白色的", "wrong"), ("杯子碎了", "damaged"), ("包裹里少了充电器", "missing"),
    ("you sent me the wrong item", "wrong"), ("it arrived damaged", "damaged"), ("an item is missing", "missing"),
    ("随便聊聊", None)])
def test_problem_of(text, problem):
    assert problem_of(text) == problem


@pytest.mark.parametrize("text, resolution", [("1", "return"), ("２", "exchange"), ("3", "refund"), ("换货吧", "exchange"),
                                              ("I'd like a refund", "refund"), ("return it", "return"), ("嗯", None)])
def test_resolution_of(text, resolution):
    assert resolution_of(text) == resolution


def test_pick_item():
    items = ({"sku": "SKU-1", "name_zh": "保温杯", "name_en": "Thermos"}, {"sku": "SKU-2", "name_zh": "T恤", "name_en": "T-shirt"})
    assert pick_item("2", items, "zh") == items[1]
    assert pick_item("保温杯", items, "zh") == items[0]
    assert pick_item("the thermos", items, "en") == items[0]
    assert pick_item("7", items, "zh") is None


async def test_an_order_with_several_items_asks_which(seeded, store, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000001", "shipped")
    _set(seeded, order.id, items=[{"sku": "SKU-1", "name_zh": "保温杯", "name_en": "Thermos", "qty": 1, "price": 99.0},
                                  {"sku": "SKU-2", "name_zh": "T恤", "name_en": "T-shirt", "qty": 1, "price": 59.0}])
    form = ValidateWrongItemForm(store=store)
    tracker = tracker_factory(text=f"{order.id}少发了", intent="wrong_item", slots=VIP)
    result = await form.validate_order_id(order.id, dispatcher, tracker, domain)
    assert result["shop_item_choices"] == ["保温杯", "T恤"] and "shop_item" not in result
    tracker = tracker_factory(text="2", slots={**VIP, **result, names.REQUESTED_SLOT: "shop_item"})
    assert await form.required_slots([], dispatcher, tracker, domain) == [names.ORDER_ID, "shop_item", "shop_problem", "shop_resolution"]
    assert await form.extract_shop_item(dispatcher, tracker, domain) == {"shop_item": "T恤"}


async def test_an_order_still_in_the_warehouse_is_not_after_sales(seeded, store, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000001", "processing")
    tracker = tracker_factory(text="发错了", intent="wrong_item", slots=VIP)
    result = await ValidateWrongItemForm(store=store).validate_order_id(order.id, dispatcher, tracker, domain)
    assert result["shop_blocked"] == "processing" and responses(dispatcher) == [names.UTTER_AFTER_SALES_NOT_DELIVERED]


async def test_the_after_sales_ticket_carries_the_details_masked(seeded, tickets, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "delivered")
    first = {"event": "user", "text": "发错货了，我买的是黑色收到白色的，电话13812345678",
             "parse_data": {"intent": {"name": "wrong_item", "confidence": 1.0}, "entities": []}}
    slots = {**REGULAR, names.ORDER_ID: order.id, "shop_item": "T恤", "shop_problem": "wrong", "shop_resolution": "exchange"}
    tracker = tracker_factory(text="2", slots=slots, events=[first])
    events = await ActionWrongItemTicket(tickets=tickets).run(dispatcher, tracker, domain)
    sent = message(dispatcher, names.UTTER_AFTER_SALES_TICKET_PREFIX + "exchange")
    with seeded() as s:
        ticket = s.get(Ticket, int(sent["ticket_id"]))
    assert (ticket.topic, ticket.order_id, ticket.customer_id) == ("after_sales", order.id, "C000005")
    assert "wrong / exchange / T恤" in ticket.subject and "黑色" in ticket.subject
    assert "13812345678" not in ticket.subject
    assert ticket.due_at == ticket.created_at + timedelta(hours=24)
    assert slot_events(events)[names.TICKET_ID] == float(ticket.id)
    assert names.UTTER_OFFER_HUMAN not in responses(dispatcher)


async def test_an_upset_customer_also_gets_the_human_offer(seeded, tickets, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000001", "delivered")
    slots = {**VIP, names.ORDER_ID: order.id, "shop_item": "-", "shop_problem": "damaged", "shop_resolution": "refund",
             names.SENTIMENT: "negative", names.EMOTION: "anger", names.SENTIMENT_SCORE: -0.9,
             names.SENTIMENT_HISTORY: [-0.8, -0.9]}
    tracker = tracker_factory(text="气死了", slots=slots)
    events = await ActionWrongItemTicket(tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher)[-1] == names.UTTER_OFFER_HUMAN
    assert slot_events(events)[names.HUMAN_OFFERED] is True


# -- payment questions ---------------------------------------------------------------------------------


async def test_payment_kind_is_read_from_the_first_message(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="我被扣了两次钱", intent="payment_issue", slots=VIP)
    assert await ValidatePaymentForm().extract_payment_kind(dispatcher, tracker, domain) == {"payment_kind": "charged_twice"}
    tracker = tracker_factory(text="3", slots={**VIP, names.REQUESTED_SLOT: "payment_kind"})
    assert await ValidatePaymentForm().extract_payment_kind(dispatcher, tracker, domain) == {"payment_kind": "refund_missing"}


async def test_a_payment_not_through_on_an_unpaid_order(seeded, store, tickets, shop, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "paid")
    _set(seeded, order.id, status="pending_payment")
    tracker = tracker_factory(text="付款失败", slots={**REGULAR, names.ORDER_ID: order.id, "payment_kind": "not_through"})
    await ActionPaymentIssue(store=store, tickets=tickets, shop=shop).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_PAYMENT_PENDING]


async def test_a_double_charge_opens_a_payment_ticket(seeded, store, tickets, shop, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000005", "paid")
    tracker = tracker_factory(text="charged twice", slots={**REGULAR, names.ORDER_ID: order.id, "payment_kind": "charged_twice"})
    await ActionPaymentIssue(store=store, tickets=tickets, shop=shop).run(dispatcher, tracker, domain)
    sent = message(dispatcher, names.UTTER_PAYMENT_TICKET)
    with seeded() as s:
        ticket = s.get(Ticket, int(sent["ticket_id"]))
    assert (ticket.topic, ticket.priority, ticket.order_id) == ("payment", "high", order.id)


async def test_a_missing_refund_is_answered_from_its_open_ticket(seeded, store, tickets, shop, tracker_factory, dispatcher, domain):
    with seeded() as s:
        refund = s.scalars(select(Ticket).where(Ticket.customer_id == "C000001", Ticket.topic == "refund",
                                                Ticket.status == "open")).first()
    tracker = tracker_factory(text="退款还没到", slots={**VIP, names.ORDER_ID: refund.order_id, "payment_kind": "refund_missing"})
    await ActionPaymentIssue(store=store, tickets=tickets, shop=shop).run(dispatcher, tracker, domain)
    assert message(dispatcher, names.UTTER_PAYMENT_REFUND_TICKET)["ticket_id"] == str(refund.id)


# -- account requests ----------------------------------------------------------------------------------


async def test_stop_messages_records_the_opt_out(seeded, shop, tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="以后不要再给我发消息了", intent="stop_messages", slots=REGULAR)
    events = await ActionStopMessages(shop=shop).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_STOP_MESSAGES_DONE]
    assert slot_events(events)[names.FEEDBACK_GIVEN] is True
    with seeded() as s:
        assert s.get(Consent, "C000005").marketing is False


async def test_a_guest_is_told_how_to_stop_messages(shop, tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="unsubscribe", intent="stop_messages", slots=GUEST)
    assert await ActionStopMessages(shop=shop).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_STOP_MESSAGES_GUEST]


async def test_account_deletion_is_a_privacy_ticket_due_in_15_days(seeded, tickets, tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="注销账号", intent="account_delete", slots=REGULAR)
    await ActionAccountDelete(tickets=tickets).run(dispatcher, tracker, domain)
    sent = message(dispatcher, names.UTTER_ACCOUNT_DELETE_ACK)
    assert sent["days"] == "15"
    with seeded() as s:
        ticket = s.get(Ticket, int(sent["ticket_id"]))
    assert (ticket.topic, ticket.customer_id) == ("privacy", "C000005")
    assert ticket.due_at == ticket.created_at + timedelta(days=15)


async def test_a_guest_signs_in_before_deleting(tickets, tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="delete my account", intent="account_delete", slots=GUEST)
    assert await ActionAccountDelete(tickets=tickets).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_ACCOUNT_SIGN_IN]


# -- invoices and order changes ------------------------------------------------------------------------


async def test_a_company_invoice_collects_the_faq_fields(seeded, store, tickets, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000001", "delivered")
    form = ValidateInvoiceForm(store=store)
    tracker = tracker_factory(text="2", slots={**VIP, names.ORDER_ID: order.id, "invoice_kind": "company"})
    assert await form.required_slots([], dispatcher, tracker, domain) == [
        names.ORDER_ID, "invoice_kind", "invoice_company", "invoice_tax_id", "invoice_bank", "invoice_contact"]
    assert await form.validate_invoice_tax_id("12345", dispatcher, tracker, domain) == {"invoice_tax_id": None}
    assert await form.validate_invoice_tax_id("91310000 MA1K4ABC2X", dispatcher, tracker, domain) == {"invoice_tax_id": "91310000MA1K4ABC2X"}
    slots = {**VIP, names.ORDER_ID: order.id, "invoice_kind": "company", "invoice_company": "上海某某科技有限公司",
             "invoice_tax_id": "91310000MA1K4ABC2X", "invoice_bank": "招商银行 6225880212345678",
             "invoice_contact": "上海市浦东新区 021-55556666"}
    await ActionInvoiceRequest(tickets=tickets).run(dispatcher, tracker_factory(text="ok", slots=slots), domain)
    sent = message(dispatcher, names.UTTER_INVOICE_REQUESTED)
    with seeded() as s:
        ticket = s.get(Ticket, int(sent["ticket_id"]))
    assert ticket.topic == "invoice" and "91310000MA1K4ABC2X" in ticket.subject
    assert "6225880212345678" not in ticket.subject


async def test_an_undelivered_order_has_no_invoice_yet(seeded, store, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000001", "shipped")
    tracker = tracker_factory(text="发票", intent="invoice_request", slots=VIP)
    result = await ValidateInvoiceForm(store=store).validate_order_id(order.id, dispatcher, tracker, domain)
    assert result["shop_blocked"] == "shipped" and responses(dispatcher) == [names.UTTER_INVOICE_NOT_DELIVERED]


async def test_a_change_before_shipping_goes_to_the_warehouse(seeded, store, tickets, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000001", "processing")
    form = ValidateChangeOrderForm(store=store)
    tracker = tracker_factory(text="黑色改成白色", intent="change_order", slots=VIP)
    assert await form.validate_order_id(order.id, dispatcher, tracker, domain) == {names.ORDER_ID: order.id}
    slots = {**VIP, names.ORDER_ID: order.id, "change_detail": "黑色改成白色"}
    await ActionChangeOrder(tickets=tickets).run(dispatcher, tracker_factory(text="黑色改成白色", slots=slots), domain)
    sent = message(dispatcher, names.UTTER_CHANGE_ORDER_TICKET)
    with seeded() as s:
        ticket = s.get(Ticket, int(sent["ticket_id"]))
    assert ticket.topic == "order_change" and "黑色改成白色" in ticket.subject


async def test_a_shipped_order_is_changed_by_exchange(seeded, store, tracker_factory, dispatcher, domain):
    order = _order(seeded, "C000001", "shipped")
    tracker = tracker_factory(text="change size", intent="change_order", slots=VIP)
    result = await ValidateChangeOrderForm(store=store).validate_order_id(order.id, dispatcher, tracker, domain)
    assert result["shop_blocked"] == "shipped" and responses(dispatcher) == [names.UTTER_CHANGE_ORDER_SHIPPED]


def test_the_action_server_registers_every_shop_action():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    for name in ("validate_cancel_order_form", "validate_wrong_item_form", "validate_payment_form", "validate_invoice_form",
                 "validate_change_order_form", "action_cancel_order", "action_wrong_item_ticket", "action_ask_shop_item",
                 "action_payment_issue", "action_invoice_request", "action_change_order", "action_account_delete",
                 "action_stop_messages"):
        assert name in executor.actions, name


def test_repeating_the_cancel_request_at_the_confirmation_is_a_yes(domain):
    """"yes, cancel it" (read as cancel_order) confirms; only a no keeps the order."""
    values = {}
    for mapping in domain["slots"]["cancel_confirmed"]["mappings"]:
        intents = mapping["intent"] if isinstance(mapping["intent"], list) else [mapping["intent"]]
        for intent in intents:
            values[intent] = mapping["value"]
    assert values == {"affirm": True, "cancel_order": True, "deny": False}


# -- which order: each task asks in its own words ------------------------------------------------------

ORDER_TASK_FORMS = {"cancel_order_form": ("取消", "cancel"), "wrong_item_form": ("售后", "after-sales"),
                    "payment_form": ("付款", "payment"), "invoice_form": ("发票", "invoice"),
                    "change_order_form": ("修改", "change")}


@pytest.mark.parametrize("form", sorted(ORDER_TASK_FORMS))
@pytest.mark.parametrize("recent", [[], ["E20261101001", "E20261102002"]])
async def test_which_order_is_asked_in_the_words_of_the_task(tracker_factory, dispatcher, domain, form, recent):
    from actions.orders import ActionAskOrderId

    tracker = tracker_factory(text="…", slots={**VIP, names.RECENT_ORDER_IDS: recent}, active_loop={"name": form})
    await ActionAskOrderId().run(dispatcher, tracker, domain)
    expected = f"utter_ask_{form}_order_id" + ("_with_recent" if recent else "")
    assert responses(dispatcher) == [expected]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == recent
    zh_word, en_word = ORDER_TASK_FORMS[form]
    texts = {v["condition"][0]["value"]: v["text"] for v in domain["responses"][expected] if v.get("condition")}
    assert zh_word in texts["zh"] and en_word in texts["en"].lower(), texts


async def test_order_lookup_keeps_its_own_question(tracker_factory, dispatcher, domain):
    from actions.orders import ActionAskOrderId

    await ActionAskOrderId().run(dispatcher, tracker_factory(text="where is my order", slots=VIP), domain)
    assert responses(dispatcher) == [names.UTTER_ASK_ORDER_ID]


def test_the_opt_out_confirmation_names_the_unsubscribe_in_both_languages(domain):
    texts = {v["condition"][0]["value"]: v["text"] for v in domain["responses"]["utter_stop_messages_done"] if v.get("condition")}
    assert "退订" in texts["zh"] and "不再" in texts["zh"]
    assert "unsubscribed" in texts["en"]


# -- which order a payment question is about -------------------------------------------------------


def _orders_of(store, customer_id):
    return store.recent_orders(customer_id, 10)


async def test_one_paid_order_in_the_window_is_proposed_and_a_yes_takes_it(seeded, store, clock, tracker_factory, dispatcher, domain):
    from actions.shop_requests import ActionAskPaymentOrder, payment_candidates
    orders = _orders_of(store, "C000005")
    keep = next(o for o in orders if o.status in ("paid", "processing", "shipped", "delivered"))
    for other in orders:  # the customer's other orders are older than the window
        if other.order_id != keep.order_id:
            _set(seeded, other.order_id, created_at=clock() - timedelta(days=90))
    _set(seeded, keep.order_id, created_at=clock() - timedelta(days=3))
    assert [o.order_id for o in payment_candidates(_orders_of(store, "C000005"), "charged_twice", clock())] == [keep.order_id]
    tracker = tracker_factory(text="I was charged twice", intent="payment_issue",
                              slots={**REGULAR, names.REQUESTED_SLOT: names.ORDER_ID}, active_loop={"name": "payment_form"})
    events = await ActionAskPaymentOrder(store=store, clock=clock).run(dispatcher, tracker, domain)
    sent = message(dispatcher, "utter_ask_payment_order_confirm")
    assert sent["order_id"] == keep.order_id and sent["paid_on"] == (clock() - timedelta(days=3)).strftime("%Y-%m-%d")
    assert [b["payload"] for b in sent["buttons"]] == [f'/inform{{"order_id":"{keep.order_id}"}}', "/deny"]
    assert slot_events(events) == {"payment_candidate": keep.order_id}
    # a typed "yes" answers the question with that order
    yes = tracker_factory(text="yes", intent="affirm", active_loop={"name": "payment_form"},
                          slots={**REGULAR, names.REQUESTED_SLOT: names.ORDER_ID, "payment_candidate": keep.order_id})
    assert await ValidatePaymentForm(store=store).extract_order_id(dispatcher, yes, domain) == {names.ORDER_ID: keep.order_id}
    no = tracker_factory(text="no", intent="deny", active_loop={"name": "payment_form"},
                         slots={**REGULAR, names.REQUESTED_SLOT: names.ORDER_ID, "payment_candidate": keep.order_id})
    assert await ValidatePaymentForm(store=store).extract_order_id(dispatcher, no, domain) == {"payment_candidate": "declined"}


async def test_a_no_to_the_proposed_order_reaches_rasa_and_keeps_the_form_going(seeded, store, clock, tracker_factory, dispatcher, domain):
    """The whole validation run (as Rasa calls it) returns the "declined": without a slot event Rasa rejects
    the form's turn and the "no" is handled outside it (the rating survey started)."""
    keep = next(o for o in _orders_of(store, "C000005") if o.status in ("paid", "processing", "shipped", "delivered"))
    no = tracker_factory(text="不是这笔", intent="deny", active_loop={"name": "payment_form"},
                         slots={**REGULAR, names.REQUESTED_SLOT: names.ORDER_ID, "payment_candidate": keep.order_id},
                         events=[{"event": "action", "name": "payment_form"}, {"event": "active_loop", "name": "payment_form"}])
    events = await ValidatePaymentForm(store=store).run(dispatcher, no, domain)
    assert slot_events(events).get("payment_candidate") == "declined"
    assert names.ORDER_ID not in slot_events(events)
    # a later turn with nothing to say about the order sends no "declined" again (Rasa may then reject the turn)
    later = tracker_factory(text="嗯", intent="inform", active_loop={"name": "payment_form"},
                            slots={**REGULAR, names.REQUESTED_SLOT: names.ORDER_ID, "payment_candidate": "declined"},
                            events=[{"event": "action", "name": "payment_form"}, {"event": "active_loop", "name": "payment_form"}])
    assert "payment_candidate" not in slot_events(await ValidatePaymentForm(store=store).run(dispatcher, later, domain))


async def test_several_paid_orders_are_listed_as_buttons(seeded, store, clock, tracker_factory, dispatcher, domain):
    from actions.shop_requests import ActionAskPaymentOrder
    orders = [o for o in _orders_of(store, "C000001") if o.status != "pending_payment"][:3]
    for n, order in enumerate(orders):
        _set(seeded, order.order_id, created_at=clock() - timedelta(days=2 + n))
    tracker = tracker_factory(text="我被扣了两次钱", intent="payment_issue",
                              slots={**VIP, names.REQUESTED_SLOT: names.ORDER_ID}, active_loop={"name": "payment_form"})
    events = await ActionAskPaymentOrder(store=store, clock=clock).run(dispatcher, tracker, domain)
    sent = message(dispatcher, "utter_ask_payment_order_choices")
    payloads = [b["payload"] for b in sent["buttons"]]
    assert all(f'"{o.order_id}"' in " ".join(payloads) for o in orders) and events == []


async def test_a_guest_is_asked_for_the_order_number(store, clock, tracker_factory, dispatcher, domain):
    from actions.shop_requests import ActionAskPaymentOrder
    tracker = tracker_factory(text="payment failed", intent="payment_issue",
                              slots={**GUEST, names.REQUESTED_SLOT: names.ORDER_ID}, active_loop={"name": "payment_form"})
    await ActionAskPaymentOrder(store=store, clock=clock).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_payment_form_order_id"]


# -- change an order: the variant catalogue ---------------------------------------------------------


def _with_items(seeded, customer_id, status, items, amount, payment_method="alipay"):
    order = _order(seeded, customer_id, status)
    _set(seeded, order.id, items=items, amount=amount, payment_method=payment_method)
    return order.id


TEE = {"sku": "SKU-1003", "name_zh": "纯棉T恤", "name_en": "Cotton T-shirt", "qty": 2, "price": 79.0}
BANK = {"sku": "SKU-1019", "name_zh": "20000毫安充电宝", "name_en": "20000mAh Power Bank", "qty": 1, "price": 149.0}


@pytest.mark.parametrize(("text", "sku", "variant", "qty"), [
    ("M 码换成 L 码", "SKU-1003", {"size": "L"}, None),
    ("T恤改成黑色 XL 码", "SKU-1003", {"size": "XL", "colour": "black"}, None),
    ("I'd like the shirt in navy instead of white", "SKU-1003", {"colour": "navy"}, None),
    ("充电宝换成黑色", "SKU-1019", {"colour": "black"}, None),
    ("the power bank in black please", "SKU-1019", {"colour": "black"}, None),
    ("T恤只要一件", "SKU-1003", {}, 1),
])
def test_plan_change_reads_the_item_and_the_option(text, sku, variant, qty):
    from actions.shop_requests import plan_change
    from profiles.shop import Catalogue
    plan = plan_change(text, (TEE, BANK), Catalogue.load())
    assert (plan["sku"], plan["variant"], plan["qty"]) == (sku, variant, qty)


@pytest.mark.parametrize("text", ["换个款式", "I'm not sure", "换成黑色"])  # nothing the data knows, or which item
def test_plan_change_leaves_the_rest_to_a_person(text):
    from actions.shop_requests import plan_change
    from profiles.shop import Catalogue
    assert plan_change(text, (TEE, BANK), Catalogue.load()) is None


def test_change_item_applies_and_audits(seeded, shop):
    from profiles.shop import Catalogue, NotChangeable, OutOfStock
    order_id = _with_items(seeded, "C000005", "paid", [dict(TEE)], 158.0)
    done = shop.change_item(order_id=order_id, customer_id="C000005", sku="SKU-1003", variant={"size": "L", "colour": "black"},
                            qty=1, source="chat:rest", conversation_id="c1", catalogue=Catalogue.load())
    assert done.before == {"size": "M", "colour": "white", "qty": 2} and done.after == {"size": "L", "colour": "black", "qty": 1}
    assert (done.amount_before, done.amount_after, done.paid) == (158.0, 79.0, True)
    with seeded() as s:
        order = s.get(Order, order_id)
        change = s.scalars(select(OrderChange).where(OrderChange.order_id == order_id)).one()
    assert order.items[0]["variant"] == {"size": "L", "colour": "black"} and order.items[0]["qty"] == 1
    assert float(order.amount) == 79.0
    assert change.kind == "item_change" and change.detail["after"] == done.after and change.conversation_id == "c1"
    with pytest.raises(OutOfStock) as out:  # L / white has no stock
        shop.change_item(order_id=order_id, customer_id="C000005", sku="SKU-1003", variant={"colour": "white"},
                         source="chat:rest", conversation_id="c1")
    assert {"size": "M", "colour": "white"} in out.value.available
    with pytest.raises(NotChangeable):  # more of a paid order needs a payment
        shop.change_item(order_id=order_id, customer_id="C000005", sku="SKU-1003", qty=3, source="chat:rest",
                         conversation_id="c1")
    with pytest.raises(NotOrderOwner):
        shop.change_item(order_id=order_id, customer_id="C000001", sku="SKU-1003", qty=1, source="chat:rest",
                         conversation_id="c1")


def test_a_shipped_order_item_cannot_change(seeded, shop):
    order_id = _with_items(seeded, "C000005", "shipped", [dict(TEE)], 158.0)
    with pytest.raises(NotCancellable):
        shop.change_item(order_id=order_id, customer_id="C000005", sku="SKU-1003", variant={"size": "L"},
                         source="chat:rest", conversation_id="c1")


async def test_a_change_the_data_allows_is_confirmed_then_made(seeded, store, shop, tickets, tracker_factory, dispatcher, domain):
    order_id = _with_items(seeded, "C000005", "paid", [dict(TEE)], 158.0)
    form = ValidateChangeOrderForm(store=store)
    slots = {**REGULAR, names.ORDER_ID: order_id, names.REQUESTED_SLOT: "change_detail"}
    result = await form.validate_change_detail("M码换成L码，要黑色", dispatcher,
                                               tracker_factory(text="M码换成L码，要黑色", slots=slots), domain)
    plan = result["change_plan"]
    assert plan["variant"] == {"size": "L", "colour": "black"}
    from actions.shop_requests import ActionAskChangeConfirmed
    await ActionAskChangeConfirmed().run(dispatcher, tracker_factory(text="", slots={**slots, "change_plan": plan}), domain)
    asked = message(dispatcher, "utter_ask_change_confirmed")
    assert (asked["before"], asked["after"]) == ("M码 / 白色 × 2件", "L码 / 黑色 × 2件")
    done_slots = {**slots, "change_detail": result["change_detail"], "change_plan": plan, "change_confirmed": True}
    await ActionChangeOrder(tickets=tickets, shop=shop).run(dispatcher, tracker_factory(text="是的", slots=done_slots), domain)
    assert message(dispatcher, "utter_change_order_done")["after"] == "L码 / 黑色 × 2件"
    with seeded() as s:
        assert s.get(Order, order_id).items[0]["variant"] == {"size": "L", "colour": "black"}
        assert s.scalars(select(Ticket).where(Ticket.order_id == order_id, Ticket.topic == "order_change")).first() is None


async def test_out_of_stock_is_refused_with_what_is_in_stock(seeded, store, tracker_factory, dispatcher, domain):
    order_id = _with_items(seeded, "C000005", "paid", [dict(TEE)], 158.0)
    slots = {**REGULAR, names.ORDER_ID: order_id, names.REQUESTED_SLOT: "change_detail"}
    result = await ValidateChangeOrderForm(store=store).validate_change_detail(
        "换成L码", dispatcher, tracker_factory(text="换成L码", slots=slots), domain)
    assert result == {"change_detail": None, "change_plan": None}
    sent = message(dispatcher, "utter_change_order_out_of_stock")
    assert "L码" in sent["wanted"] and "M码 / 白色" in sent["available"]


async def test_a_correction_at_the_confirmation_replaces_the_change(seeded, store, tracker_factory, dispatcher, domain):
    order_id = _with_items(seeded, "C000005", "paid", [dict(TEE)], 158.0)
    old = {"sku": "SKU-1003", "variant": {"size": "S"}, "qty": None, "before": {"size": "M", "colour": "white", "qty": 2}}
    slots = {**REGULAR, names.ORDER_ID: order_id, names.REQUESTED_SLOT: "change_confirmed", "change_plan": old}
    result = await ValidateChangeOrderForm(store=store).extract_change_confirmed(
        dispatcher, tracker_factory(text="不对，要XL码", intent="deny", slots=slots), domain)
    assert result["change_plan"]["variant"] == {"size": "XL"} and result["change_confirmed"] is None


async def test_the_corrected_change_reaches_rasa_from_the_whole_validation_run(seeded, store, tracker_factory, dispatcher, domain):
    """As Rasa calls the form's validation: the new plan comes back with the new detail (the SDK drops a slot
    that is not one of the form's own; the old change was then confirmed again and made)."""
    order_id = _with_items(seeded, "C000005", "paid", [dict(TEE)], 158.0)
    old = {"order_id": order_id, "sku": "SKU-1003", "variant": {"size": "S"}, "qty": None,
           "before": {"size": "M", "colour": "white", "qty": 2}}
    slots = {**REGULAR, names.ORDER_ID: order_id, names.REQUESTED_SLOT: "change_confirmed", "change_detail": "换成S码",
             "change_plan": old, "change_confirmed": False}
    tracker = tracker_factory(text="不对，要XL码", intent="deny", slots=slots, active_loop={"name": "change_order_form"},
                              events=[{"event": "action", "name": "change_order_form"},
                                      {"event": "active_loop", "name": "change_order_form"}])
    tracker.events.append({"event": "slot", "name": "change_confirmed", "value": False})  # the from_intent mapping
    events = slot_events(await ValidateChangeOrderForm(store=store).run(dispatcher, tracker, domain))
    assert events.get("change_plan", {}).get("variant") == {"size": "XL"}
    assert events["change_detail"] == "不对，要XL码" and events["change_confirmed"] is None


async def test_a_no_keeps_the_order_as_it_was(seeded, shop, tickets, tracker_factory, dispatcher, domain):
    order_id = _with_items(seeded, "C000005", "paid", [dict(TEE)], 158.0)
    plan = {"sku": "SKU-1003", "variant": {"size": "S"}, "qty": None, "before": {"size": "M", "colour": "white", "qty": 2}}
    slots = {**REGULAR, names.ORDER_ID: order_id, "change_detail": "S码", "change_plan": plan, "change_confirmed": False}
    await ActionChangeOrder(tickets=tickets, shop=shop).run(dispatcher, tracker_factory(text="不用了", slots=slots), domain)
    assert responses(dispatcher) == ["utter_change_order_kept"]
    with seeded() as s:
        assert "variant" not in s.get(Order, order_id).items[0]


async def test_a_plan_left_from_another_order_is_not_confirmed(seeded, store, tracker_factory, dispatcher, domain):
    order_id = _with_items(seeded, "C000005", "paid", [dict(TEE)], 158.0)
    form = ValidateChangeOrderForm(store=store)
    stale = {"order_id": "E20200101001", "sku": "SKU-1003", "variant": {"size": "S"}, "qty": None,
             "before": {"size": "M", "colour": "white", "qty": 2}}
    slots = {**REGULAR, names.ORDER_ID: order_id, "change_detail": "S码", "change_plan": stale}
    assert "change_confirmed" not in await form.required_slots([], dispatcher, tracker_factory(text="", slots=slots), domain)
    current = {**stale, "order_id": order_id}
    slots["change_plan"] = current
    assert "change_confirmed" in await form.required_slots([], dispatcher, tracker_factory(text="", slots=slots), domain)


async def test_the_change_said_with_the_request_is_the_answer_once_the_order_is_known(seeded, store, tracker_factory, dispatcher, domain):
    order_id = _with_items(seeded, "C000005", "paid", [dict(BANK)], 149.0)
    first = {"event": "user", "text": "我想把订单里的充电宝换成黑色",
             "parse_data": {"intent": {"name": "change_order", "confidence": 0.9}, "entities": []}}
    slots = {**REGULAR, names.ORDER_ID: order_id, names.REQUESTED_SLOT: names.ORDER_ID}
    tracker = tracker_factory(text=order_id, intent="inform", slots=slots, events=[first])
    form = ValidateChangeOrderForm(store=store)
    assert await form.extract_change_detail(dispatcher, tracker, domain) == {"change_detail": "我想把订单里的充电宝换成黑色"}
    # a request without a change the data can read: the form asks for it
    vague = {**first, "text": "我想改一下订单"}
    tracker = tracker_factory(text=order_id, intent="inform", slots=slots, events=[vague])
    assert await form.extract_change_detail(dispatcher, tracker, domain) == {}


async def test_a_yes_is_no_change_detail(seeded, store, tracker_factory, dispatcher, domain):
    order_id = _with_items(seeded, "C000005", "paid", [dict(BANK)], 149.0)
    slots = {**REGULAR, names.ORDER_ID: order_id, names.REQUESTED_SLOT: "change_detail"}
    result = await ValidateChangeOrderForm(store=store).validate_change_detail(
        "确认", dispatcher, tracker_factory(text="确认", intent="affirm", slots=slots), domain)
    assert result == {"change_detail": None} and responses(dispatcher) == ["utter_ask_change_detail"]
