"""Customer segment and lifecycle: pure functions over ``CustomerFacts``, thresholds from ``segments.yml``.

Day counts are whole calendar days between dates: "within N days" means 0..N-1 days ago and
"none in N days" means the last one was N or more days ago. Only orders that were actually bought count
(``COUNTED_STATUSES``: paid, processing, shipped, delivered); pending, cancelled and refunded orders do not.

Segment (``assign_segment``), first rule that matches wins:

1. ``new``             registered within ``new_customer_days`` and at most 1 order in the window.
2. ``at_risk``         has bought before but not in the last ``at_risk_days`` days (churn warning;
                       89 days -> not at risk, 90 and 91 -> at risk with the default 90).
3. ``important_value`` recent (last order within ``rfm.recent_days``) and frequent
                       (``orders_365d >= rfm.frequent_orders``) and high spend
                       (``monetary_365d >= rfm.high_spend``).
4. ``potential``       recent, but low frequency or low spend.
5. ``regular``         anything else (bought between ``recent_days`` and ``at_risk_days`` ago, or never
                       bought and no longer new).

The tier is not used: a VIP who stopped buying is still ``at_risk``.

Lifecycle (``assign_lifecycle``), first rule that matches wins:

1. ``new``      registered within ``lifecycle.new_days`` with at most 1 order, or never bought and
                registered less than ``lifecycle.dormant_days`` ago.
2. ``churned``  last order (or, never bought, registration) ``lifecycle.churned_days`` or more ago.
3. ``dormant``  last order (or registration) ``lifecycle.dormant_days`` or more ago.
4. ``mature``   active, ``orders_365d >= mature_min_orders`` and registered at least
                ``mature_min_tenure_days`` ago.
5. ``growing``  active otherwise.

``is_elderly``: age = ``today.year - birth_year`` (only the year is known) ``>= elderly_age``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "COUNTED_STATUSES",
    "LIFECYCLES",
    "SEGMENTS",
    "CustomerFacts",
    "Thresholds",
    "ThresholdsError",
    "assign_lifecycle",
    "assign_segment",
    "facts_from_orders",
    "is_elderly",
    "load_thresholds",
]

SEGMENTS = ("important_value", "potential", "at_risk", "new", "regular")
LIFECYCLES = ("new", "growing", "mature", "dormant", "churned")
COUNTED_STATUSES = frozenset({"paid", "processing", "shipped", "delivered"})


class ThresholdsError(ValueError):
    """``segments.yml`` is missing a value or holds an unusable one."""


@dataclass(frozen=True)
class CustomerFacts:
    registered_at: date
    today: date
    last_order_at: date | None
    orders_365d: int
    monetary_365d: float
    tier: str = "regular"
    birth_year: int | None = None


@dataclass(frozen=True)
class Thresholds:
    """Defaults equal the shipped ``segments.yml``."""

    rfm_window_days: int = 365
    recent_days: int = 30
    frequent_orders: int = 4
    high_spend: float = 3000.0
    at_risk_days: int = 90
    new_customer_days: int = 30
    elderly_age: int = 65
    lifecycle_new_days: int = 30
    dormant_days: int = 90
    churned_days: int = 365
    mature_min_orders: int = 4
    mature_min_tenure_days: int = 180

    def check(self) -> None:
        """Raise ``ThresholdsError`` when values are negative or out of order."""
        for name, value in self.__dict__.items():
            if value < 0:
                raise ThresholdsError(f"{name} must not be negative, got {value!r}")
        if self.recent_days > self.at_risk_days:
            raise ThresholdsError("rfm.recent_days must not exceed at_risk_days")
        if self.dormant_days > self.churned_days:
            raise ThresholdsError("lifecycle.dormant_days must not exceed lifecycle.churned_days")


def _get(raw: Mapping[str, Any], dotted: str, default: Any, kind: type) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ThresholdsError(f"{dotted} must be a number, got {node!r}")
    if kind is int and float(node) != int(node):
        raise ThresholdsError(f"{dotted} must be a whole number, got {node!r}")
    return kind(node)


def load_thresholds(path: str | Path) -> Thresholds:
    """Read ``segments.yml``; keys left out keep their defaults; bad values raise ``ThresholdsError``."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ThresholdsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ThresholdsError(f"{path}: expected a mapping at the top level")
    d = Thresholds()
    t = Thresholds(
        rfm_window_days=_get(raw, "rfm.window_days", d.rfm_window_days, int),
        recent_days=_get(raw, "rfm.recent_days", d.recent_days, int),
        frequent_orders=_get(raw, "rfm.frequent_orders", d.frequent_orders, int),
        high_spend=_get(raw, "rfm.high_spend", d.high_spend, float),
        at_risk_days=_get(raw, "at_risk_days", d.at_risk_days, int),
        new_customer_days=_get(raw, "new_customer_days", d.new_customer_days, int),
        elderly_age=_get(raw, "elderly_age", d.elderly_age, int),
        lifecycle_new_days=_get(raw, "lifecycle.new_days", d.lifecycle_new_days, int),
        dormant_days=_get(raw, "lifecycle.dormant_days", d.dormant_days, int),
        churned_days=_get(raw, "lifecycle.churned_days", d.churned_days, int),
        mature_min_orders=_get(raw, "lifecycle.mature_min_orders", d.mature_min_orders, int),
        mature_min_tenure_days=_get(raw, "lifecycle.mature_min_tenure_days", d.mature_min_tenure_days, int),
    )
    t.check()
    return t


def _days_since(day: date | None, today: date) -> int | None:
    return None if day is None else (today - day).days


def assign_segment(facts: CustomerFacts, thresholds: Thresholds) -> str:
    """One of ``important_value``, ``potential``, ``at_risk``, ``new``, ``regular`` (rules above)."""
    tenure = (facts.today - facts.registered_at).days
    since_order = _days_since(facts.last_order_at, facts.today)
    if tenure < thresholds.new_customer_days and facts.orders_365d <= 1:
        return "new"
    if since_order is None:
        return "regular"
    if since_order >= thresholds.at_risk_days:
        return "at_risk"
    if since_order < thresholds.recent_days:
        if facts.orders_365d >= thresholds.frequent_orders and facts.monetary_365d >= thresholds.high_spend:
            return "important_value"
        return "potential"
    return "regular"


def assign_lifecycle(facts: CustomerFacts, thresholds: Thresholds) -> str:
    """One of ``new``, ``growing``, ``mature``, ``dormant``, ``churned`` (rules above)."""
    tenure = (facts.today - facts.registered_at).days
    since_order = _days_since(facts.last_order_at, facts.today)
    if tenure < thresholds.lifecycle_new_days and facts.orders_365d <= 1:
        return "new"
    if since_order is None:
        if tenure < thresholds.dormant_days:
            return "new"
        since_order = tenure
    if since_order >= thresholds.churned_days:
        return "churned"
    if since_order >= thresholds.dormant_days:
        return "dormant"
    if facts.orders_365d >= thresholds.mature_min_orders and tenure >= thresholds.mature_min_tenure_days:
        return "mature"
    return "growing"


def is_elderly(birth_year: int | None, today: date, thresholds: Thresholds) -> bool:
    """Age from the birth year only; unknown birth year is not elderly."""
    return birth_year is not None and today.year - birth_year >= thresholds.elderly_age


def facts_from_orders(
    *,
    registered_at: date,
    today: date,
    orders: Iterable[tuple[datetime | date, float | Decimal, str]],
    tier: str,
    birth_year: int | None,
    window_days: int = 365,
) -> CustomerFacts:
    """Facts from ``(created_at, amount, status)`` tuples; only ``COUNTED_STATUSES`` count."""
    last: date | None = None
    count = 0
    money = Decimal("0")
    for created, amount, status in orders:
        if status not in COUNTED_STATUSES:
            continue
        day = created.date() if isinstance(created, datetime) else created
        if last is None or day > last:
            last = day
        if (today - day).days < window_days:
            count += 1
            money += Decimal(str(amount))
    return CustomerFacts(
        registered_at=registered_at,
        today=today,
        last_order_at=last,
        orders_365d=count,
        monetary_365d=float(money),
        tier=tier,
        birth_year=birth_year,
    )
