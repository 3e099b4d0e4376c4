"""Everyday shop requests on the order and consent tables: cancel an order, refund timing, opt-outs.

``profiles`` owns ``orders``, ``order_changes``, ``consents`` and ``consent_changes``; this module is
the only writer of ``order_changes`` and of the promotional-messages choice. Every write is one short
transaction; results are frozen dataclasses.

Exceptions (besides ``profiles.store``'s ``OrderNotFound`` / ``NotOrderOwner`` / ``CustomerNotFound``
and ``common.db.StoreUnavailable``):

- ``NotCancellable``  the order has left the warehouse or is already closed; ``.status`` holds it.
- ``OutOfStock``      the variant asked for has no stock; ``.available`` lists the variants that have.
- ``NotChangeable``   the change is not one the shop's data allows (an option the item does not have, a
                      larger quantity of a paid order: that needs a payment, so a person takes it).

The variant catalogue (``profiles/catalogue.yml``, the demo shop's data) says which options each SKU has
and the stock of every variant; ``change_item`` applies a size, colour or quantity change before the
order ships and records it in ``order_changes`` like a cancellation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.masking import mask_text
from profiles.models import Consent, ConsentChange, Customer, Order, OrderChange
from profiles.store import (
    CustomerNotFound,
    NotOrderOwner,
    OrderNotFound,
    ProfileError,
    _db_errors,
    locked_order,
    normalize_order_id,
)

__all__ = [
    "CANCELLABLE_STATUSES",
    "CATALOGUE_FILE",
    "PAYMENT_METHODS_FILE",
    "CancelledOrder",
    "Catalogue",
    "ChangedItem",
    "NotCancellable",
    "NotChangeable",
    "OutOfStock",
    "RefundTiming",
    "ShopStore",
    "load_payment_methods",
    "refund_timing",
]

PAYMENT_METHODS_FILE = Path(__file__).resolve().parents[1] / "knowledge_base" / "payment_methods.yml"
CATALOGUE_FILE = Path(__file__).resolve().parent / "catalogue.yml"
OPTIONS = ("size", "colour")
# not yet handed to the carrier: the order can still be cancelled (or an item changed)
CANCELLABLE_STATUSES = frozenset({"pending_payment", "paid", "processing"})
SHIPPED_STATUSES = frozenset({"shipped", "delivered"})


class NotCancellable(ProfileError):
    def __init__(self, status: str) -> None:
        super().__init__(f"order can no longer be cancelled (status {status})")
        self.status = status


class OutOfStock(ProfileError):
    def __init__(self, variant: dict[str, str], available: list[dict[str, str]]) -> None:
        super().__init__(f"variant out of stock: {variant}")
        self.variant, self.available = variant, available


class NotChangeable(ProfileError):
    def __init__(self, why: str) -> None:
        super().__init__(f"change not possible: {why}")
        self.why = why  # no_such_option | no_such_value | needs_payment | no_such_item | nothing_to_change


class Catalogue:
    """The variant catalogue: options per SKU, the stock of each variant, colour names."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._skus: dict[str, dict[str, Any]] = dict(data.get("skus") or {})
        self.colours: dict[str, dict[str, str]] = dict(data.get("colours") or {})

    @classmethod
    def load(cls, path: str | Path = CATALOGUE_FILE) -> Catalogue:
        with open(path, encoding="utf-8") as f:
            return cls(yaml.safe_load(f) or {})

    def options(self, sku: str) -> dict[str, list[str]]:
        spec = (self._skus.get(sku) or {}).get("options") or {}
        return {k: [str(v) for v in values] for k, values in spec.items()}

    def variant_of(self, item: Mapping[str, Any]) -> dict[str, str]:
        """The item's variant: what it names, else the first value of each option."""
        named = dict(item.get("variant") or {})
        return {k: str(named.get(k) or values[0]) for k, values in self.options(str(item.get("sku"))).items()}

    @staticmethod
    def _key(variant: Mapping[str, str]) -> str:
        return f"{variant.get('size', '-')}/{variant.get('colour', '-')}"

    def stock(self, sku: str, variant: Mapping[str, str]) -> int:
        stock = (self._skus.get(sku) or {}).get("stock") or {}
        return int(stock.get(self._key(variant), 0) or 0)

    def available(self, sku: str, qty: int = 1) -> list[dict[str, str]]:
        """Every variant of ``sku`` with at least ``qty`` in stock, in the catalogue's order."""
        options = self.options(sku)
        variants: list[dict[str, str]] = [{}]
        for name, values in options.items():
            variants = [{**v, name: value} for v in variants for value in values]
        return [v for v in variants if self.stock(sku, v) >= qty]

    def colour_name(self, colour: str, language: str) -> str:
        return (self.colours.get(colour) or {}).get("zh" if language == "zh" else "en") or colour


@dataclass(frozen=True)
class ChangedItem:
    order_id: str
    customer_id: str
    status: str
    sku: str
    before: dict[str, Any]  # {"size", "colour", "qty"} as far as the item has them
    after: dict[str, Any]
    amount_before: float
    amount_after: float
    paid: bool
    payment_method: str | None
    change_id: int


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



def _changeable_order(s: Session, order_id: str, customer_id: str | None) -> Order:
    """The order, locked, when it is the customer's (``None``: a guest already verified by the caller) and
    still in the warehouse; else ``OrderNotFound`` / ``NotOrderOwner`` / ``NotCancellable``."""
    order = locked_order(s, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    if customer_id is not None and order.customer_id != customer_id:
        raise NotOrderOwner(order_id)
    if order.status not in CANCELLABLE_STATUSES:
        raise NotCancellable(order.status)
    return order

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
            order = _changeable_order(s, normalized, customer_id)
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

    def change_item(
        self, *, order_id: str, customer_id: str | None, sku: str, variant: Mapping[str, str] | None = None,
        qty: int | None = None, source: str, conversation_id: str | None, catalogue: Catalogue | None = None,
    ) -> ChangedItem:
        """Change the size / colour / quantity of one item of an order still in the warehouse, and record it.

        The new variant must be one the catalogue lists and have the quantity in stock; a larger quantity
        is possible only while the order is unpaid (paid orders would need a second payment). A smaller
        quantity of a paid order returns the difference with the original payment."""
        catalogue = catalogue or Catalogue.load()
        normalized = normalize_order_id(order_id)
        if normalized is None:
            raise OrderNotFound(str(order_id))
        now = self._clock()
        with _db_errors(), self._session_factory.begin() as s:
            order = _changeable_order(s, normalized, customer_id)
            items = [dict(i) for i in (order.items or [])]
            index = next((n for n, i in enumerate(items) if i.get("sku") == sku), None)
            if index is None:
                raise NotChangeable("no_such_item")
            item = items[index]
            options = catalogue.options(sku)
            old_variant = catalogue.variant_of(item)
            new_variant = dict(old_variant)
            for name, value in (variant or {}).items():
                if name not in options:
                    raise NotChangeable("no_such_option")
                if str(value) not in options[name]:
                    raise NotChangeable("no_such_value")
                new_variant[name] = str(value)
            old_qty = int(item.get("qty") or 1)
            new_qty = old_qty if qty is None else int(qty)
            if new_qty < 1:
                raise NotChangeable("no_such_value")
            if new_variant == old_variant and new_qty == old_qty:
                raise NotChangeable("nothing_to_change")
            paid = order.status != "pending_payment"
            if new_qty > old_qty and paid:
                raise NotChangeable("needs_payment")
            # the units already reserved for this item count towards the stock of its own variant
            reserved = old_qty if new_variant == old_variant else 0
            if options and catalogue.stock(sku, new_variant) + reserved < new_qty:
                raise OutOfStock(new_variant, catalogue.available(sku, new_qty))
            price = float(item.get("price") or 0)
            amount_before = float(order.amount)
            amount_after = round(amount_before + (new_qty - old_qty) * price, 2)
            item["qty"] = new_qty
            if options:
                item["variant"] = new_variant
            items[index] = item
            order.items = items
            order.amount = amount_after
            order.updated_at = now
            before = {**old_variant, "qty": old_qty}
            after = {**new_variant, "qty": new_qty}
            change = OrderChange(
                order_id=order.id, customer_id=order.customer_id, kind="item_change",
                status_before=order.status, status_after=order.status,
                detail={"by": "customer" if customer_id else "guest_verified", "sku": sku, "before": before,
                        "after": after, "amount_before": amount_before, "amount_after": amount_after},
                source=source[:32], conversation_id=conversation_id, created_at=now,
            )
            s.add(change)
            s.flush()
            return ChangedItem(order_id=order.id, customer_id=order.customer_id, status=order.status, sku=sku,
                               before=before, after=after, amount_before=amount_before, amount_after=amount_after,
                               paid=paid, payment_method=order.payment_method, change_id=change.id)

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
