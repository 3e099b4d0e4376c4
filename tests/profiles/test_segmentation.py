"""profiles.segmentation: table-driven segment / lifecycle rules, boundaries, thresholds file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from profiles.segmentation import (
    CustomerFacts,
    Thresholds,
    ThresholdsError,
    assign_lifecycle,
    assign_segment,
    facts_from_orders,
    is_elderly,
    load_thresholds,
)

TODAY = date(2026, 11, 20)


def facts(
    *,
    registered_days_ago: int = 700,
    last_order_days_ago: int | None = 10,
    orders: int = 2,
    spend: float = 500.0,
    tier: str = "regular",
    birth_year: int | None = 1985,
) -> CustomerFacts:
    return CustomerFacts(
        registered_at=TODAY - timedelta(days=registered_days_ago),
        today=TODAY,
        last_order_at=None if last_order_days_ago is None else TODAY - timedelta(days=last_order_days_ago),
        orders_365d=orders,
        monetary_365d=spend,
        tier=tier,
        birth_year=birth_year,
    )


def test_shipped_file_matches_defaults(thresholds: Thresholds) -> None:
    assert thresholds == Thresholds()
    assert thresholds.at_risk_days == 90
    assert thresholds.new_customer_days == 30
    assert thresholds.elderly_age == 65


@pytest.mark.parametrize(
    "case, f, segment",
    [
        ("recent, frequent, high spend", facts(last_order_days_ago=3, orders=6, spend=5000), "important_value"),
        ("exactly at F and M cut-offs", facts(last_order_days_ago=29, orders=4, spend=3000), "important_value"),
        ("recent but infrequent", facts(last_order_days_ago=3, orders=2, spend=5000), "potential"),
        ("recent, frequent, low spend", facts(last_order_days_ago=3, orders=8, spend=2999.99), "potential"),
        ("vip tier does not matter", facts(last_order_days_ago=5, orders=1, spend=100, tier="vip"), "potential"),
        ("last order 30 days ago: not recent", facts(last_order_days_ago=30, orders=6, spend=9000), "regular"),
        ("last order 89 days ago", facts(last_order_days_ago=89, orders=3), "regular"),
        ("last order 90 days ago", facts(last_order_days_ago=90, orders=3), "at_risk"),
        ("last order 91 days ago", facts(last_order_days_ago=91, orders=0, spend=0), "at_risk"),
        ("vip who stopped buying", facts(last_order_days_ago=400, orders=0, spend=0, tier="vip"), "at_risk"),
        ("registered 5 days ago, 1 order", facts(registered_days_ago=5, last_order_days_ago=1, orders=1), "new"),
        ("registered today, no order", facts(registered_days_ago=0, last_order_days_ago=None, orders=0, spend=0),
         "new"),
        ("registered 29 days ago, 0 orders", facts(registered_days_ago=29, last_order_days_ago=None, orders=0),
         "new"),
        ("registered 30 days ago: no longer new", facts(registered_days_ago=30, last_order_days_ago=2, orders=1),
         "potential"),
        ("new but 2 orders", facts(registered_days_ago=10, last_order_days_ago=1, orders=2, spend=200), "potential"),
        ("never bought, old account", facts(last_order_days_ago=None, orders=0, spend=0), "regular"),
    ],
)
def test_assign_segment(case: str, f: CustomerFacts, segment: str, thresholds: Thresholds) -> None:
    assert assign_segment(f, thresholds) == segment, case


@pytest.mark.parametrize(
    "case, f, lifecycle",
    [
        ("registered 5 days ago, 1 order", facts(registered_days_ago=5, last_order_days_ago=1, orders=1), "new"),
        ("never bought, registered 60 days ago", facts(registered_days_ago=60, last_order_days_ago=None, orders=0),
         "new"),
        ("never bought, registered 90 days ago", facts(registered_days_ago=90, last_order_days_ago=None, orders=0),
         "dormant"),
        ("never bought, registered 2 years ago", facts(last_order_days_ago=None, orders=0), "churned"),
        ("active, few orders", facts(last_order_days_ago=10, orders=2), "growing"),
        ("active, many orders but young account", facts(registered_days_ago=100, orders=6), "growing"),
        ("active, many orders, tenure 180", facts(registered_days_ago=180, orders=4), "mature"),
        ("last order 89 days ago", facts(last_order_days_ago=89, orders=5), "mature"),
        ("last order 90 days ago", facts(last_order_days_ago=90, orders=5), "dormant"),
        ("last order 91 days ago", facts(last_order_days_ago=91, orders=1), "dormant"),
        ("last order 364 days ago", facts(last_order_days_ago=364, orders=1), "dormant"),
        ("last order 365 days ago", facts(last_order_days_ago=365, orders=0), "churned"),
    ],
)
def test_assign_lifecycle(case: str, f: CustomerFacts, lifecycle: str, thresholds: Thresholds) -> None:
    assert assign_lifecycle(f, thresholds) == lifecycle, case


@pytest.mark.parametrize(
    "birth_year, elderly",
    [(1950, True), (1961, True), (1962, False), (2000, False), (None, False)],
)
def test_is_elderly(birth_year: int | None, elderly: bool, thresholds: Thresholds) -> None:
    assert is_elderly(birth_year, TODAY, thresholds) is elderly


def test_thresholds_change_the_rules() -> None:
    strict = replace(Thresholds(), at_risk_days=60, elderly_age=70)
    assert assign_segment(facts(last_order_days_ago=60, orders=3), strict) == "at_risk"
    assert is_elderly(1960, TODAY, strict) is False


def test_load_thresholds_partial_file_keeps_defaults(tmp_path: Path) -> None:
    path = tmp_path / "segments.yml"
    path.write_text("at_risk_days: 120\nrfm:\n  high_spend: 5000\n", encoding="utf-8")
    t = load_thresholds(path)
    assert t.at_risk_days == 120 and t.high_spend == 5000.0 and t.new_customer_days == 30


@pytest.mark.parametrize(
    "content",
    ["at_risk_days: soon\n", "at_risk_days: 10\nrfm:\n  recent_days: 30\n", "elderly_age: -1\n", "- a\n- b\n",
     "lifecycle:\n  dormant_days: 400\n"],
)
def test_load_thresholds_rejects_bad_values(tmp_path: Path, content: str) -> None:
    path = tmp_path / "segments.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ThresholdsError):
        load_thresholds(path)


def test_facts_from_orders_counts_only_bought_orders_in_window() -> None:
    def day(n: int) -> date:
        return TODAY - timedelta(days=n)

    f = facts_from_orders(
        registered_at=day(800),
        today=TODAY,
        orders=[
            (day(1), 100.0, "cancelled"),
            (day(2), 100.0, "pending_payment"),
            (day(3), 200.0, "shipped"),
            (day(10), 300.5, "delivered"),
            (day(20), 999.0, "refunded"),
            (day(364), 50.0, "delivered"),
            (day(365), 1000.0, "delivered"),
        ],
        tier="gold",
        birth_year=1970,
    )
    assert f.last_order_at == day(3)
    assert f.orders_365d == 3
    assert f.monetary_365d == pytest.approx(550.5)
    assert (f.tier, f.birth_year) == ("gold", 1970)
