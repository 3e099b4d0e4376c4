"""Everyday shop requests on the order and consent tables: cancel an order, refund timing, opt-outs.

``profiles`` owns ``orders``, ``order_changes``, ``consents`` and ``consent_changes``; this module is
the only writer of ``order_changes`` and of the promotional-messages choice. Every write is one short
transaction; results are frozen dataclasses.

Exceptions (besides ``profiles.store``'s ``OrderNotFound`` / ``NotOrderOwner`` / ``CustomerNotFound``
and ``common.db.StoreUnavailable``):

- ``NotCancellable``  the order has left the warehouse or is already closed; ``.status`` holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from profiles.models import Consent, ConsentChange, Customer, Order, OrderChange
from profiles.store import CustomerNotFound, NotOrderOwner, OrderNotFound, ProfileError, _db_errors, normalize_order_id

__all__ = [
    "CANCELLABLE_STATUSES",
    "PAYMENT_METHODS_FILE",
    "CancelledOrder",
    "NotCancellable",
    "RefundTiming",
    "ShopStore",
    "load_payment_methods",
    "refund_timing",
]

PAYMENT_METHODS_FILE = Path(__file__).resolve().parents[1] / "knowledge_base" / "payment_methods.yml"
# not yet handed to the carrier: the order can still be cancelled (or an item changed)
CANCELLABLE_STATUSES = frozenset({"pending_payment", "paid", "processing"})
SHIPPED_STATUSES = frozenset({"shipped", "delivered"})


class NotCancellable(ProfileError):
    def __init__(self, status: str) -> None:
        super().__init__(f"order can no longer be cancelled (status {status})")
        self.status = status


@dataclass(frozen=True)
class CancelledOrder:
    order_id: str
    customer_id: str
    status_before: str
    paid: bool
    amount: float
    payment_method: str | None
    change_id: int


@dataclass(frozen=True)
class RefundTiming:
    method: str  # display name in the asked language
    days: str  # business days, "0" = at once


def load_payment_methods(path: str | Path = PAYMENT_METHODS_FILE) -> dict[str, dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def refund_timing(
    payment_method: str | None, language: str, methods: Mapping[str, Mapping[str, Any]] | None = None
) -> RefundTiming | None:
    """When the money of a cancelled, paid order is back, per payment method (None when unknown)."""
    table = methods if methods is not None else load_payment_methods()
    entry = table.get(payment_method or "")
    if not entry:
        return None
    return RefundTiming(method=entry["name"]["zh" if language == "zh" else "en"], days=str(entry["days"]))


class ShopStore:
    """Order cancellation with its audit trail, and the promotional-messages consent."""

    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def cancel_order(
        self, *, order_id: str, customer_id: str | None, source: str, conversation_id: str | None
    ) -> CancelledOrder:
        """Cancel an order that has not left the warehouse and record who did it.

        ``customer_id`` is the signed-in buyer; ``None`` means a guest who proved the order (the phone's
        last four digits, ``actions.order_access``): the owner check is then already done by the caller.
        """
        normalized = normalize_order_id(order_id)
        if normalized is None:
            raise OrderNotFound(str(order_id))
        now = self._clock()
        with _db_errors(), self._session_factory.begin() as s:
            order = s.execute(select(Order).where(Order.id == normalized).with_for_update()).scalar_one_or_none()
            if order is None:
                raise OrderNotFound(normalized)
            if customer_id is not None and order.customer_id != customer_id:
                raise NotOrderOwner(normalized)
            if order.status not in CANCELLABLE_STATUSES:
                raise NotCancellable(order.status)
            before = order.status
            order.status = "cancelled"
            order.updated_at = now
            change = OrderChange(
                order_id=order.id,
                customer_id=order.customer_id,
                kind="cancel",
                status_before=before,
                status_after="cancelled",
                detail={"by": "customer" if customer_id else "guest_verified"},
                source=source[:32],
                conversation_id=conversation_id,
                created_at=now,
            )
            s.add(change)
            s.flush()
            return CancelledOrder(
                order_id=order.id,
                customer_id=order.customer_id,
                status_before=before,
                paid=before != "pending_payment",
                amount=float(order.amount),
                payment_method=order.payment_method,
                change_id=change.id,
            )

    def changes_of(self, order_id: str) -> list[dict[str, Any]]:
        """The audit trail of one order, oldest first."""
        with _db_errors(), self._session_factory.begin() as s:
            rows = s.scalars(select(OrderChange).where(OrderChange.order_id == order_id).order_by(OrderChange.id))
            return [
                {"kind": r.kind, "status_before": r.status_before, "status_after": r.status_after,
                 "detail": dict(r.detail or {}), "source": r.source, "conversation_id": r.conversation_id,
                 "created_at": r.created_at}
                for r in rows
            ]

    def payment_method_of(self, order_id: str) -> str | None:
        with _db_errors(), self._session_factory.begin() as s:
            order = s.get(Order, normalize_order_id(order_id) or "")
            return None if order is None else order.payment_method

    def set_marketing(self, *, customer_id: str, enabled: bool, source: str, conversation_id: str | None) -> bool:
        """Record the promotional-messages choice; a ``ConsentChange`` row is appended. Returns the previous value."""
        now = self._clock()
        with _db_errors(), self._session_factory.begin() as s:
            if s.get(Customer, customer_id) is None:
                raise CustomerNotFound(customer_id)
            consent = s.get(Consent, customer_id, with_for_update=True)
            if consent is None:
                consent = Consent(customer_id=customer_id, personalization=True, marketing=True, updated_at=now)
                s.add(consent)
                s.flush()
            previous = True if consent.marketing is None else bool(consent.marketing)
            consent.marketing = enabled
            consent.source = mask_text(source)[:32]
            consent.updated_at = now
            s.add(ConsentChange(customer_id=customer_id, personalization=bool(consent.personalization),
                                marketing=enabled, source=source[:32], conversation_id=conversation_id,
                                created_at=now))
            return previous
