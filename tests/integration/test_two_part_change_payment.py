"""Against the real Rasa and action servers, checked in the database: a two-part message serves the
first request and then the second (a person: the handoff row); an unsure English change of mind while
queued leaves the queue (not kept as a note); an order item changed from the variant catalogue
(orders.items, order_changes); a payment question that proposes the one paid order of the window."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from demo.seed import DEMO_CAST
from desk.handoffs import CUSTOMER_NOTES
from desk.models import Ticket
from profiles.models import Customer, Order
from tests.integration.conftest import Assistant
from tests.integration.test_conversations import handoffs_of
from tests.integration.test_shop import _changes, _signed_in

_used: set[str] = set()


def _crowd_order(bot: Assistant, status: str, *, language: str, paid_with: bool = True) -> Order:
    """An order of the synthetic crowd with this status, taken from the other end of the crowd than
    tests/integration/test_shop.py takes its orders (the two files share one seeded database)."""
    with bot.session_factory() as s:
        rows = s.execute(
            select(Order, Customer.preferred_language).join(Customer, Customer.id == Order.customer_id)
            .where(Order.status == status, Order.customer_id.not_in(list(DEMO_CAST.values())))
            .order_by(Order.id.desc())
        ).all()
    for order, customer_language in rows:
        if order.customer_id in _used or customer_language != language or (paid_with and not order.payment_method):
            continue
        _used.add(order.customer_id)
        return order
    raise AssertionError(f"no crowd order with status {status} ({language})")

TEE = {"sku": "SKU-1003", "name_zh": "纯棉T恤", "name_en": "Cotton T-shirt", "qty": 2, "price": 79.0}


def _set(bot: Assistant, order_id: str, **values: object) -> None:
    with bot.session_factory.begin() as s:
        order = s.get(Order, order_id)
        for key, value in values.items():
            setattr(order, key, value)


def test_check_my_order_and_then_a_human_does_both_en(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "shipped", language="en", paid_with=False)
    sender = _signed_in(assistant, order.customer_id)
    reply = " ".join(assistant.texts(sender, f"check my order {order.id} and then let me talk to a human"))
    assert order.id in reply  # the first request is served first
    assert re.search(r"agent|queue|person", reply, re.I)
    assert reply.index(order.id) < re.search(r"other thing you asked", reply).start()
    assert [h.status for h in handoffs_of(assistant, sender)] == ["queued"]


def test_check_my_order_and_then_a_human_does_both_zh(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "shipped", language="zh", paid_with=False)
    sender = _signed_in(assistant, order.customer_id)
    reply = " ".join(assistant.texts(sender, f"查一下我的订单{order.id}然后转人工"))
    assert order.id in reply and re.search(r"人工|排队|客服", reply)
    assert [h.status for h in handoffs_of(assistant, sender)] == ["queued"]


def test_two_questions_are_both_answered(assistant: Assistant) -> None:
    sender = f"guest-two-{datetime.utcnow().timestamp():.0f}"
    reply = " ".join(assistant.texts(sender, "退货政策是什么？还有运费怎么算？"))
    assert re.search(r"退货|退换", reply) and re.search(r"运费|包邮", reply)


def test_an_unsure_english_change_of_mind_leaves_the_queue(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "delivered", language="en", paid_with=False)
    sender = _signed_in(assistant, order.customer_id)
    assistant.texts(sender, "let me talk to a human please")
    [handoff] = [h for h in handoffs_of(assistant, sender) if h.status == "queued"]
    left = " ".join(assistant.texts(sender, "I changed my mind, no refund please"))
    assert "out of the queue" in left
    [after] = [h for h in handoffs_of(assistant, sender) if h.id == handoff.id]
    assert after.status == "cancelled" and not (after.package or {}).get(CUSTOMER_NOTES)


def test_an_order_item_is_changed_from_the_catalogue(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "paid", language="en")
    _set(assistant, order.id, items=[dict(TEE)], amount=158.0)
    sender = _signed_in(assistant, order.customer_id)
    ask = " ".join(assistant.texts(sender, f"I want to change the size on order {order.id}"))
    assert re.search(r"change", ask, re.I)
    confirm = " ".join(assistant.texts(sender, "size L in black please"))
    assert "size M / white × 2" in confirm and "size L / black × 2" in confirm
    done = " ".join(assistant.texts(sender, "yes"))
    assert "size L / black × 2" in done and order.id in done
    with assistant.session_factory() as s:
        row = s.get(Order, order.id)
        assert row.items[0]["variant"] == {"size": "L", "colour": "black"}
    [change] = _changes(assistant, order.id)
    assert change.kind == "item_change" and change.conversation_id == sender
    assert change.detail["before"] == {"size": "M", "colour": "white", "qty": 2}


def test_out_of_stock_is_refused_and_a_second_choice_is_made(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "processing", language="zh")
    _set(assistant, order.id, items=[dict(TEE)], amount=158.0)
    sender = _signed_in(assistant, order.customer_id)
    assistant.texts(sender, f"订单{order.id}我想改一下尺码")
    refused = " ".join(assistant.texts(sender, "换成L码"))
    assert "暂时没有库存" in refused and "M码 / 白色" in refused
    confirm = " ".join(assistant.texts(sender, "那就S码"))
    assert "S码 / 白色 × 2件" in confirm
    assistant.texts(sender, "确认")
    with assistant.session_factory() as s:
        assert s.get(Order, order.id).items[0]["variant"] == {"size": "S", "colour": "white"}
        assert not list(s.scalars(select(Ticket).where(Ticket.conversation_id == sender)))


def test_a_payment_question_proposes_the_one_paid_order(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "paid", language="en")
    now = datetime.utcnow()
    with assistant.session_factory.begin() as s:
        for other in s.scalars(select(Order).where(Order.customer_id == order.customer_id, Order.id != order.id)):
            other.created_at = now - timedelta(days=120)
        s.get(Order, order.id).created_at = now - timedelta(days=2)
    sender = _signed_in(assistant, order.customer_id)
    ask = " ".join(assistant.texts(sender, "I was charged twice"))
    assert f"payment question about order {order.id}" in ask
    answer = " ".join(assistant.texts(sender, "yes"))
    assert order.id in answer
    with assistant.session_factory() as s:
        [ticket] = list(s.scalars(select(Ticket).where(Ticket.conversation_id == sender, Ticket.topic == "payment")))
    assert ticket.order_id == order.id and ticket.priority == "high"
