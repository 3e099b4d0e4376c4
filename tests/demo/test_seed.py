"""demo.seed: size, determinism, no raw contact data, the promised demo cast, idempotence."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from common.db import Base, make_engine, make_session_factory
from demo.seed import DEMO_CAST, seed_demo
from desk.models import Ticket, TicketContact
from desk.schema import create_all
from profiles.models import ChannelIdentity, Consent, Customer, Order
from profiles.segmentation import Thresholds
from profiles.store import ProfileStore

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID18 = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def fresh_factory() -> sessionmaker:
    engine = make_engine("sqlite://")
    create_all(engine)
    return make_session_factory(engine)


def snapshot(factory: sessionmaker) -> tuple[list, list]:
    with factory.begin() as s:
        customers = s.execute(select(Customer.id, Customer.name, Customer.tier).order_by(Customer.id)).all()
        orders = s.execute(select(Order.id, Order.customer_id, Order.status, Order.amount).order_by(Order.id)).all()
    return [tuple(c) for c in customers], [tuple(o) for o in orders]


def count(factory: sessionmaker, model: type) -> int:
    with factory.begin() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_size_and_mix(seeded: sessionmaker, today: date) -> None:
    assert count(seeded, Customer) >= 220
    assert count(seeded, Order) > 500
    assert count(seeded, Ticket) > 0 and count(seeded, TicketContact) >= count(seeded, Ticket)
    with seeded.begin() as s:
        customers = s.execute(select(Customer)).scalars().all()
        languages = Counter(c.preferred_language for c in customers)
        tiers = Counter(c.tier for c in customers)
        elderly = sum(1 for c in customers if today.year - c.birth_year >= 65)
        assert 0.6 < languages["zh"] / len(customers) < 0.8
        assert tiers["regular"] == max(tiers.values()) and 0.04 < tiers["vip"] / len(customers) < 0.14
        assert 0.06 < elderly / len(customers) < 0.2
        assert all(1940 <= c.birth_year <= 2005 for c in customers)
        assert all(today - timedelta(days=3 * 365) <= c.registered_at <= today for c in customers)
        off = s.execute(select(func.count()).select_from(Consent).where(Consent.personalization.is_(False)))
        assert 0.04 < off.scalar_one() / len(customers) < 0.18
        # every customer: web-<id> and a wechat openid
        for channel in ("web", "wechat"):
            n = s.execute(select(func.count()).select_from(ChannelIdentity).where(ChannelIdentity.channel == channel))
            assert n.scalar_one() >= len(customers)
        openids = s.execute(select(ChannelIdentity.external_id).where(ChannelIdentity.channel == "wechat")).scalars()
        assert all(re.fullmatch(r"o[A-Za-z0-9_-]{27}", o) for o in openids)


def test_orders_are_consistent(seeded: sessionmaker, today: date) -> None:
    now = datetime.combine(today, time(12))
    with seeded.begin() as s:
        registered = dict(s.execute(select(Customer.id, Customer.registered_at)).all())
        orders = s.execute(select(Order)).scalars().all()
        statuses = Counter(o.status for o in orders)
        assert {"delivered", "shipped", "processing", "paid", "cancelled", "refunded"} <= set(statuses)
        for o in orders:
            assert re.fullmatch(rf"E{o.created_at:%Y%m%d}\d{{3}}", o.id)
            assert registered[o.customer_id] <= o.created_at.date() <= today
            assert o.items and float(o.amount) == pytest.approx(sum(i["qty"] * i["price"] for i in o.items))
            if o.status in {"shipped", "delivered", "refunded"}:
                assert o.carrier and o.tracking_no and o.shipped_at and o.created_at < o.shipped_at <= now
            else:
                assert o.carrier is None and o.tracking_no is None and o.shipped_at is None
            if o.status in {"delivered", "refunded"}:
                assert o.shipped_at < o.delivered_at <= now
            if o.status in {"processing", "paid", "shipped"}:
                assert o.eta is not None and o.eta >= today - timedelta(days=1)
            if (today - o.created_at.date()).days > 30:
                assert o.status in {"delivered", "cancelled", "refunded"}


def test_deterministic_for_the_same_today() -> None:
    day = date(2026, 3, 1)
    a, b = fresh_factory(), fresh_factory()
    seed_demo(a, today=day, salt="s")
    seed_demo(b, today=day, salt="s")
    assert snapshot(a) == snapshot(b)
    customers, orders = snapshot(a)
    assert len(customers) >= 220 and len({o[0] for o in orders}) == len(orders)


def test_names_are_realistic(seeded: sessionmaker) -> None:
    with seeded.begin() as s:
        names = s.execute(select(Customer.name, Customer.preferred_language)).all()
    for name, language in names:
        if language == "zh":
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", name), name
        else:
            assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][A-Za-z']+", name), name


def test_no_raw_contact_data_in_any_column(seeded: sessionmaker) -> None:
    with seeded.begin() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(table.select()).mappings():
                for column, value in row.items():
                    if value is None or column.endswith("_hash"):
                        continue
                    text = str(value)
                    assert not MOBILE.search(text), (table.name, column, text)
                    assert not ID18.search(text), (table.name, column, text)
                    assert "@example.com" not in text or "***@" in text, (table.name, column, text)
        hashes = s.execute(select(Customer.phone_hash, Customer.phone_masked)).all()
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) and re.fullmatch(r"1\d\d\*{4}\d{4}", m) for h, m in hashes)


def test_demo_cast_as_promised(seeded: sessionmaker, thresholds: Thresholds, today: date) -> None:
    store = ProfileStore(seeded, thresholds=thresholds, clock=lambda: datetime.combine(today, time(12)))
    expected = {
        "demo-vip-zh": ("vip", "zh", "important_value", False, True),
        "demo-elderly-zh": ("regular", "zh", "potential", True, True),
        "demo-atrisk-en": ("gold", "en", "at_risk", False, True),
        "demo-new-en": ("regular", "en", "new", False, True),
        "demo-regular-zh": ("regular", "zh", "potential", False, True),
        "demo-optout-zh": ("silver", "zh", "potential", False, False),
        "demo-access-zh": ("regular", "zh", "potential", False, True),
        "demo-dormant-en": ("silver", "en", "at_risk", False, True),
    }
    assert set(DEMO_CAST) == set(expected)
    for external_id, (tier, language, segment, elderly, personalization) in expected.items():
        for channel in ("web", "rest"):
            p = store.resolve(channel, external_id)
            assert p.customer_id == DEMO_CAST[external_id]
            assert (p.tier, p.language, p.segment, p.elderly, p.personalization) == (
                tier, language, segment, elderly, personalization
            ), external_id

    def statuses(external_id: str) -> list[str]:
        return [o.status for o in store.recent_orders(DEMO_CAST[external_id], limit=50)]

    assert {"shipped", "processing"} <= set(statuses("demo-vip-zh"))
    assert {"delivered", "shipped", "paid"} <= set(statuses("demo-regular-zh"))
    assert statuses("demo-new-en") == ["processing"]
    atrisk_last = store.recent_orders(DEMO_CAST["demo-atrisk-en"], limit=1)[0]
    assert (today - atrisk_last.created_at.date()).days == 120
    with seeded.begin() as s:
        assert s.get(Customer, DEMO_CAST["demo-elderly-zh"]).birth_year == 1950
        assert s.get(Customer, DEMO_CAST["demo-new-en"]).registered_at == today - timedelta(days=5)
        refund = s.execute(
            select(Ticket).where(Ticket.customer_id == DEMO_CAST["demo-vip-zh"], Ticket.topic == "refund")
        ).scalar_one()
        contacts = s.execute(
            select(TicketContact.created_at).where(TicketContact.ticket_id == refund.id)
        ).scalars().all()
        assert refund.status == "open" and refund.order_id
        assert len(contacts) == 2
        assert all(today - timedelta(days=30) <= c.date() <= today for c in contacts)


def test_idempotent(seeded: sessionmaker) -> None:
    before = snapshot(seeded)
    tickets = count(seeded, Ticket)
    summary = seed_demo(seeded, today=date(2026, 11, 20), salt="other")
    assert summary.seeded is False and summary.customers == len(before[0])
    assert snapshot(seeded) == before and count(seeded, Ticket) == tickets


def test_summary_of_a_fresh_seed() -> None:
    factory = fresh_factory()
    summary = seed_demo(factory, today=date(2026, 11, 20), salt="s")
    assert summary.seeded is True
    assert summary.customers == count(factory, Customer) >= 220
    assert summary.orders == count(factory, Order)
    assert summary.tickets == count(factory, Ticket)
    assert summary.ticket_contacts == count(factory, TicketContact)
    assert summary.demo_cast == DEMO_CAST


def test_the_later_cast_accessibility_dormant_birthday_and_offers(seeded: sessionmaker, thresholds: Thresholds,
                                                                   today: date) -> None:
    from profiles.models import Offer

    store = ProfileStore(seeded, thresholds=thresholds, clock=lambda: datetime.combine(today, time(12)))
    access = store.resolve("web", "demo-access-zh")
    assert access.accessibility == "visual" and access.priority_access
    dormant = store.resolve("rest", "demo-dormant-en")
    assert (dormant.segment, dormant.lifecycle, dormant.intensity) == ("at_risk", "dormant", "high")
    with seeded.begin() as s:
        birthday = s.get(Customer, "C000902").birthday
        assert 0 <= (date(today.year, birthday.month, birthday.day) - today).days < 7  # this week
        assert s.get(Customer, "C000007") is not None  # the crowd starts where it did
        offers = s.execute(select(Offer)).scalars().all()
        orders = {o.id: o for o in s.execute(select(Order)).scalars()}
    assert offers and all(o.customer_id not in ("C000901", "C000902") for o in offers)
    redeemed = [o for o in offers if o.redeemed_at is not None]
    assert 0 < len(redeemed) < len(offers)
    for o in redeemed:  # a real redemption: the customer's own order, placed while the coupon was valid
        order = orders[o.redeemed_order_id]
        assert order.customer_id == o.customer_id and o.issued_at < order.created_at <= o.expires_at
    assert {o.arm for o in offers} <= {"standard", "generous"} and len({o.code for o in offers}) == len(offers)
