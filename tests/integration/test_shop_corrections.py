"""Against the real Rasa and action servers, checked in the database: a new change said at the order-change
confirmation is the change that is made (not the first one), and a "no" to the proposed payment order lists
the customer's other orders and goes on with the one chosen (the survey is not started)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from desk.models import Ticket
from profiles.models import Order
from tests.integration.conftest import Assistant
from tests.integration.test_shop import _signed_in
from tests.integration.test_two_part_change_payment import TEE, _crowd_order, _set


def test_a_correction_at_the_confirmation_is_the_change_made_en(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "processing", language="en")
    _set(assistant, order.id, items=[dict(TEE)], amount=158.0)
    sender = _signed_in(assistant, order.customer_id)
    first = " ".join(assistant.texts(sender, f"please change order {order.id} to size S"))
    assert "size S / white × 2" in first
    again = " ".join(assistant.texts(sender, "no, make it black instead"))
    assert "size M / black × 2" in again and "size S" not in again
    assistant.texts(sender, "yes")
    with assistant.session_factory() as s:
        assert s.get(Order, order.id).items[0]["variant"] == {"size": "M", "colour": "black"}


def test_a_correction_at_the_confirmation_is_the_change_made_zh(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "paid", language="zh")
    _set(assistant, order.id, items=[dict(TEE)], amount=158.0)
    sender = _signed_in(assistant, order.customer_id)
    assert "S码 / 白色 × 2件" in " ".join(assistant.texts(sender, f"我想把订单{order.id}的T恤换成S码"))
    assert "M码 / 黑色 × 2件" in " ".join(assistant.texts(sender, "不对，要黑色的"))
    assistant.texts(sender, "对，就这样")
    with assistant.session_factory() as s:
        assert s.get(Order, order.id).items[0]["variant"] == {"size": "M", "colour": "black"}


def test_a_no_to_the_proposed_payment_order_lists_the_others(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "paid", language="zh")
    now = datetime.utcnow()
    with assistant.session_factory.begin() as s:
        others = list(s.scalars(select(Order).where(Order.customer_id == order.customer_id, Order.id != order.id)))
        for other in others:
            other.created_at = now - timedelta(days=120)
        s.get(Order, order.id).created_at = now - timedelta(days=2)
    assert others, "the crowd customer has one order only"
    sender = _signed_in(assistant, order.customer_id)
    assert order.id in " ".join(assistant.texts(sender, "我付款遇到问题了"))
    listed = assistant.say(sender, "不是这笔")
    text = " ".join(m.get("text", "") for m in listed)
    assert "打个分" not in text and "哪一笔" in text
    offered = [re.search(r"E\d{11}", b.get("payload", "")).group(0) for m in listed for b in m.get("buttons") or []]
    assert offered and set(offered) <= {o.id for o in others}  # the customer's other orders, not the proposed one
    assert "付款情况" in " ".join(assistant.texts(sender, offered[0]))
    assistant.texts(sender, "1")
    with assistant.session_factory() as s:
        [ticket] = list(s.scalars(select(Ticket).where(Ticket.conversation_id == sender, Ticket.topic == "payment")))
    assert ticket.order_id == offered[0]
