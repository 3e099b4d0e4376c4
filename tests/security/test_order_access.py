"""Issue 11 item 3: a guest sees an order's details only after the second factor (the last four digits
of the phone on the order) or signing in; wrong answers are bounded per conversation and per order."""

from __future__ import annotations

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions import names, order_access
from actions.order_access import ValidateOrderAccessForm, digits_given, last_four_of
from actions.orders import ActionCheckOrder
from common.ratelimit import InProcessRateLimiter
from tests.utils.builders import responses

GUEST = {names.IS_GUEST: True, names.SEGMENT: "guest", names.LANGUAGE: "zh"}
DETAILS = {"tracking_no", "carrier", "eta", "shipped_date", "created_date"}


def _order(store, customer_id: str, status: str):
    return next(o for o in store.recent_orders(customer_id, limit=20) if o.status == status)


def _last4(store, customer_id: str) -> str:
    return last_four_of(store.get_profile(customer_id).phone_masked)


def _limiter() -> InProcessRateLimiter:
    return InProcessRateLimiter(per_minute=1, burst=order_access.ORDER_ANSWERS_PER_HOUR)


@pytest.mark.parametrize("status", ["shipped", "processing"])
async def test_a_guest_asking_by_number_is_asked_for_the_phone_not_told_the_order(
    tracker_factory, dispatcher, domain, store, tickets, status
) -> None:
    order = _order(store, "C000001", status)
    tracker = tracker_factory(text=f"订单{order.order_id}到哪了", intent="order_status",
                              slots={**GUEST, names.ORDER_ID: order.order_id})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert FollowupAction(order_access.FORM) in events
    assert not any(r.startswith(names.UTTER_ORDER_STATUS_PREFIX) for r in responses(dispatcher))
    assert all(set(m) & DETAILS == set() for m in dispatcher.messages)


async def test_the_right_last_four_digits_open_the_order(tracker_factory, dispatcher, domain, store, tickets) -> None:
    order = _order(store, "C000001", "shipped")
    digits = _last4(store, "C000001")
    slots = {**GUEST, names.ORDER_ID: order.order_id, names.REQUESTED_SLOT: order_access.SLOT_LAST4}
    tracker = tracker_factory(text=f"尾号{digits}", slots=slots)
    result = await ValidateOrderAccessForm(store=store, limiter=_limiter()).validate_order_phone_last4(
        f"尾号{digits}", dispatcher, tracker, domain)
    assert result[order_access.SLOT_GRANTED] == [order.order_id]
    granted = {**GUEST, names.ORDER_ID: order.order_id, order_access.SLOT_GRANTED: [order.order_id],
               order_access.SLOT_LAST4: digits}
    await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker_factory(slots=granted), domain)
    assert "utter_order_status_shipped" in responses(dispatcher)
    shown = next(m for m in dispatcher.messages if m.get("response") == "utter_order_status_shipped")
    assert "*" in shown["tracking_no"]  # a guest still sees the tracking number masked


async def test_full_width_digits_are_accepted(tracker_factory, dispatcher, domain, store) -> None:
    order = _order(store, "C000001", "shipped")
    digits = _last4(store, "C000001")
    wide = "".join(chr(ord(d) + 0xFEE0) for d in digits)
    tracker = tracker_factory(slots={**GUEST, names.ORDER_ID: order.order_id})
    result = await ValidateOrderAccessForm(store=store, limiter=_limiter()).validate_order_phone_last4(
        wide, dispatcher, tracker, domain)
    assert result[order_access.SLOT_GRANTED] == [order.order_id]


async def test_wrong_digits_are_asked_again_then_sign_in(tracker_factory, dispatcher, domain, store, tickets) -> None:
    order = _order(store, "C000001", "shipped")
    wrong = "0000" if _last4(store, "C000001") != "0000" else "1111"
    form = ValidateOrderAccessForm(store=store, limiter=_limiter())
    tries = 0.0
    for _attempt in range(order_access.MAX_TRIES):
        tracker = tracker_factory(slots={**GUEST, names.ORDER_ID: order.order_id, order_access.SLOT_TRIES: tries})
        result = await form.validate_order_phone_last4(wrong, dispatcher, tracker, domain)
        tries = result[order_access.SLOT_TRIES]
        assert order_access.SLOT_GRANTED not in result
    assert result[order_access.SLOT_LAST4] == order_access.LOCKED
    assert responses(dispatcher) == [names.UTTER_ORDER_ACCESS_WRONG] * (order_access.MAX_TRIES - 1)
    dispatcher.messages.clear()
    locked = {**GUEST, names.ORDER_ID: order.order_id, order_access.SLOT_LAST4: order_access.LOCKED,
              order_access.SLOT_TRIES: tries}
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker_factory(slots=locked), domain)
    assert responses(dispatcher) == [names.UTTER_ORDER_ACCESS_SIGN_IN]
    assert SlotSet(names.ORDER_ID, None) in events and all(set(m) & DETAILS == set() for m in dispatcher.messages)


async def test_new_conversations_do_not_buy_more_guesses(tracker_factory, dispatcher, domain, store) -> None:
    order = _order(store, "C000001", "shipped")
    right = _last4(store, "C000001")
    wrong = "0000" if right != "0000" else "1111"
    form = ValidateOrderAccessForm(store=store, limiter=_limiter())
    for n in range(order_access.ORDER_ANSWERS_PER_HOUR):
        tracker = tracker_factory(sender_id=f"guess-{n}", slots={**GUEST, names.ORDER_ID: order.order_id})
        await form.validate_order_phone_last4(wrong, dispatcher, tracker, domain)
    tracker = tracker_factory(sender_id="guess-last", slots={**GUEST, names.ORDER_ID: order.order_id})
    result = await form.validate_order_phone_last4(right, dispatcher, tracker, domain)
    assert result[order_access.SLOT_LAST4] == order_access.LOCKED and order_access.SLOT_GRANTED not in result


async def test_answers_without_four_digits_are_asked_again(tracker_factory, dispatcher, domain, store) -> None:
    order = _order(store, "C000001", "shipped")
    tracker = tracker_factory(slots={**GUEST, names.ORDER_ID: order.order_id})
    result = await ValidateOrderAccessForm(store=store, limiter=_limiter()).validate_order_phone_last4(
        "不记得了", dispatcher, tracker, domain)
    assert result == {order_access.SLOT_LAST4: None}
    assert responses(dispatcher) == [names.UTTER_ORDER_ACCESS_NOT_DIGITS]


async def test_the_signed_in_buyer_sees_the_order_at_once(tracker_factory, dispatcher, domain, store, tickets) -> None:
    order = _order(store, "C000001", "shipped")
    slots = {names.CUSTOMER_ID: "C000001", names.IS_GUEST: False, names.LANGUAGE: "zh", names.ORDER_ID: order.order_id}
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker_factory(slots=slots), domain)
    assert FollowupAction(order_access.FORM) not in events
    assert responses(dispatcher) == ["utter_order_status_shipped"]


def test_helpers() -> None:
    assert last_four_of("138****1234") == "1234" and last_four_of(None) is None
    assert digits_given("尾号 5678") == "5678" and digits_given("12345") is None and digits_given("") is None
