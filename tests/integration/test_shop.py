"""Issue 16 against the real Rasa server and action server: cancel an order, a wrong item, payment
questions and account requests, each checked in the database (orders, order_changes, tickets, consent).

The conversations use customers of the synthetic crowd (never the demo cast, whose orders other tests
read), each test its own customer or order.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from demo.seed import DEMO_CAST
from desk.models import Ticket
from profiles.models import ChannelIdentity, Consent, ConsentChange, Customer, Order, OrderChange
from profiles.shop import load_payment_methods
from tests.integration.conftest import Assistant

METHODS = load_payment_methods()
_used: set[str] = set()


def _crowd_order(bot: Assistant, status: str, *, language: str, items: int | None = None, paid_with: bool = True) -> Order:
    """An order of the synthetic crowd with this status, of a customer not used by another test here."""
    with bot.session_factory() as s:
        rows = s.execute(
            select(Order, Customer.preferred_language).join(Customer, Customer.id == Order.customer_id)
            .where(Order.status == status, Order.customer_id.not_in(list(DEMO_CAST.values())))
            .order_by(Order.id)
        ).all()
    for order, customer_language in rows:
        if order.customer_id in _used or customer_language != language:
            continue
        if paid_with and not order.payment_method:
            continue
        _used.add(order.customer_id)
        return order
    raise AssertionError(f"no crowd order with status {status} ({language})")


def _signed_in(bot: Assistant, customer_id: str) -> str:
    sender = f"shop-{uuid.uuid4().hex[:10]}"
    with bot.session_factory.begin() as s:
        s.add(ChannelIdentity(channel="rest", external_id=sender, customer_id=customer_id))
    return sender


def _status(bot: Assistant, order_id: str) -> str:
    with bot.session_factory() as s:
        return s.get(Order, order_id).status


def _changes(bot: Assistant, order_id: str) -> list[OrderChange]:
    with bot.session_factory() as s:
        return list(s.scalars(select(OrderChange).where(OrderChange.order_id == order_id)))


def _tickets(bot: Assistant, sender: str, topic: str) -> list[Ticket]:
    with bot.session_factory() as s:
        return list(s.scalars(select(Ticket).where(Ticket.conversation_id == sender, Ticket.topic == topic)))


def test_a_paid_order_is_cancelled_with_its_refund_timing_zh(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "paid", language="zh")
    sender = _signed_in(assistant, order.customer_id)
    ask = " ".join(assistant.texts(sender, f"我要取消订单{order.id}"))
    assert "确认要取消订单" in ask and order.id in ask
    assert "退款" not in ask.split("确认要取消订单")[0]  # not read as a refund request
    done = " ".join(assistant.texts(sender, "确认"))
    assert "已为您取消" in done and order.id in done
    method = METHODS[order.payment_method]
    assert method["name"]["zh"] in done
    assert _status(assistant, order.id) == "cancelled"
    [change] = _changes(assistant, order.id)
    assert (change.kind, change.status_before, change.conversation_id) == ("cancel", "paid", sender)


def test_please_cancel_order_in_english_is_understood(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "processing", language="en")
    sender = _signed_in(assistant, order.customer_id)
    ask = " ".join(assistant.texts(sender, f"please cancel order {order.id}"))
    assert "cancel order" in ask and order.id in ask
    kept = " ".join(assistant.texts(sender, "no"))
    assert "stays as it is" in kept
    assert _status(assistant, order.id) == "processing" and _changes(assistant, order.id) == []


def test_a_shipped_order_is_not_cancelled_and_the_return_path_is_offered(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "shipped", language="zh", paid_with=False)
    sender = _signed_in(assistant, order.customer_id)
    reply = " ".join(assistant.texts(sender, f"帮我把订单{order.id}取消掉"))
    assert "已经从仓库发出" in reply and "退货" in reply
    assert _status(assistant, order.id) == "shipped" and _changes(assistant, order.id) == []


def test_a_guest_proves_the_order_before_cancelling(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "paid", language="en")
    with assistant.session_factory() as s:
        last4 = s.get(Customer, order.customer_id).phone_masked[-4:]
    guest = f"guest-{uuid.uuid4().hex[:10]}"
    first = " ".join(assistant.texts(guest, f"cancel order {order.id}"))
    assert "last four digits" in first and "cancel order" not in first
    wrong = "0000" if last4 != "0000" else "1111"
    assert "don't match" in " ".join(assistant.texts(guest, wrong))
    assert _status(assistant, order.id) == "paid"
    ask = " ".join(assistant.texts(guest, last4))
    assert "cancel order" in ask
    done = " ".join(assistant.texts(guest, "yes"))
    assert "cancelled" in done and _status(assistant, order.id) == "cancelled"
    assert _changes(assistant, order.id)[0].detail == {"by": "guest_verified"}


def test_a_wrong_item_opens_an_after_sales_ticket(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "delivered", language="zh", paid_with=False)
    sender = _signed_in(assistant, order.customer_id)
    ask = " ".join(assistant.texts(sender, "发错货了，我买的是黑色收到白色的"))
    assert "订单" in ask and "物流" not in ask
    replies = assistant.texts(sender, order.id)
    if len(order.items or []) > 1:
        replies = assistant.texts(sender, "1")
    assert "怎么处理" in " ".join(replies)
    done = " ".join(assistant.texts(sender, "2"))
    [ticket] = _tickets(assistant, sender, "after_sales")
    assert str(ticket.id) in done and "换货" in done
    assert ticket.order_id == order.id and ticket.subject.startswith("wrong / exchange")
    assert "黑色" in ticket.subject and ticket.due_at is not None


def test_stop_messages_is_an_opt_out_not_a_survey(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "delivered", language="zh", paid_with=False)
    sender = _signed_in(assistant, order.customer_id)
    reply = " ".join(assistant.texts(sender, "以后不要再给我发消息了"))
    assert "已为您退订" in reply and "不再主动给您发消息" in reply and "1 到 5" not in reply and "评分" not in reply
    with assistant.session_factory() as s:
        assert s.get(Consent, order.customer_id).marketing is False
        change = s.scalars(select(ConsentChange).where(ConsentChange.customer_id == order.customer_id,
                                                       ConsentChange.conversation_id == sender)).one()
    assert change.marketing is False and change.source == "chat:rest"


def test_account_deletion_and_a_double_charge_open_tickets(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "processing", language="en")
    sender = _signed_in(assistant, order.customer_id)
    ack = " ".join(assistant.texts(sender, "please delete my account and all my data"))
    [privacy] = _tickets(assistant, sender, "privacy")
    assert str(privacy.id) in ack and "15 days" in ack
    reply = " ".join(assistant.texts(sender, f"I was charged twice for order {order.id}"))
    [payment] = _tickets(assistant, sender, "payment")
    assert str(payment.id) in reply and payment.priority == "high" and payment.order_id == order.id


def test_change_phone_sends_to_the_self_service_page(assistant: Assistant) -> None:
    reply = " ".join(assistant.texts(f"guest-{uuid.uuid4().hex[:10]}", "I want to change my phone number"))
    assert "Account security" in reply and "password" in reply


def test_saying_cancel_again_at_the_confirmation_cancels(assistant: Assistant) -> None:
    order = _crowd_order(assistant, "paid", language="en")
    sender = _signed_in(assistant, order.customer_id)
    assert "cancel order" in " ".join(assistant.texts(sender, f"I want to cancel my order {order.id}"))
    done = " ".join(assistant.texts(sender, "yes, cancel my order"))
    assert "now cancelled" in done and _status(assistant, order.id) == "cancelled"
