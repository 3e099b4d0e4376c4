"""Issue 11 item 3 against the real Rasa server and action server: a guest who names someone's order
is asked for the last four digits of the phone on it; the right digits show the order, wrong ones
do not, and the public REST channel's aliases never make a guest a customer (item 1)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from demo.seed import DEMO_CAST
from profiles.models import Customer, Order
from tests.integration.conftest import Assistant


def _sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _shipped_order_and_last4(bot: Assistant, demo_id: str) -> tuple[Order, str]:
    customer_id = DEMO_CAST[demo_id]
    with bot.session_factory() as session:
        order = session.scalars(select(Order).where(Order.customer_id == customer_id, Order.status == "shipped")
                                .order_by(Order.created_at.desc())).first()
        masked = session.scalars(select(Customer.phone_masked).where(Customer.id == customer_id)).one()
    return order, masked[-4:]


def test_a_guest_proves_the_order_with_the_phones_last_four_digits(assistant: Assistant) -> None:
    order, last4 = _shipped_order_and_last4(assistant, "demo-vip-zh")
    guest = _sender("guest")
    first = " ".join(assistant.texts(guest, f"订单{order.id}到哪了"))
    assert "后四位" in first and order.tracking_no not in first and "顺丰" not in first
    shown = " ".join(assistant.texts(guest, last4))
    assert order.id in shown and "顺丰" in shown
    assert order.tracking_no not in shown  # a guest sees the tracking number masked


def test_wrong_digits_show_nothing_and_end_with_sign_in(assistant: Assistant) -> None:
    order, last4 = _shipped_order_and_last4(assistant, "demo-regular-zh")
    wrong = "0000" if last4 != "0000" else "1111"
    guest = _sender("guesser")
    replies = assistant.texts(guest, f"where is my order {order.id}?")
    for _ in range(3):
        replies += assistant.texts(guest, wrong)
    text = " ".join(replies)
    assert "SF Express" not in text and "sign in" in text


def test_an_alias_of_a_customers_id_is_refused(assistant: Assistant) -> None:
    import json
    import urllib.error
    import urllib.request

    for sender in ("rest:web-C000001", "web:web-C000003"):
        request = urllib.request.Request(
            f"{assistant.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": "hello"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=30)
            status = 200
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == 403, sender
