"""profiles.store.ProfileStore against a seeded in-memory SQLite database."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from common.db import StoreUnavailable, make_session_factory
from demo.seed import DEMO_CAST
from profiles.models import ChannelIdentity, Consent, ConsentChange, Order
from profiles.schemas import CustomerProfile, OrderSnapshot
from profiles.segmentation import Thresholds
from profiles.store import (
    AddressLocked,
    CustomerNotFound,
    InvalidAddress,
    NotOrderOwner,
    OrderNotFound,
    ProfileError,
    ProfileStore,
    normalize_order_id,
)

VIP = DEMO_CAST["demo-vip-zh"]
REGULAR = DEMO_CAST["demo-regular-zh"]


def order_in_status(store: ProfileStore, customer_id: str, status: str) -> OrderSnapshot:
    return next(o for o in store.recent_orders(customer_id, limit=20) if o.status == status)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("E20261120001", "E20261120001"),
        ("e20261120001", "E20261120001"),
        ("  20261120001 ", "E20261120001"),
        ("订单号：20261120001", "E20261120001"),
        ("我的订单E20261120001到哪了", "E20261120001"),
        ("order #e20261120001, thanks", "E20261120001"),
        ("订单号２０２６１１２００٠１", None),
        ("２０２６１１２０００１", "E20261120001"),
        ("13812341234", None),
        ("2026112000", None),
        ("202611200011", None),
        ("hello", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_order_id(text: str | None, expected: str | None) -> None:
    assert normalize_order_id(text) == expected


# -- resolve / profiles -------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["web", "rest"])
def test_resolve_demo_cast(store: ProfileStore, channel: str) -> None:
    p = store.resolve(channel, "demo-vip-zh")
    assert p.customer_id == VIP and not p.is_guest
    assert (p.tier, p.segment, p.lifecycle, p.language) == ("vip", "important_value", "mature", "zh")
    assert p.name == "陈静"
    assert p.phone_masked is not None and "****" in p.phone_masked
    assert len(p.recent_order_ids) == 3


def test_resolve_socketio_falls_back_to_web(store: ProfileStore) -> None:
    assert store.resolve("socketio", f"web-{REGULAR}").customer_id == REGULAR
    # the public rest channel does not: its callers are guests (issue 11)
    assert store.resolve("rest", f"web-{REGULAR}").is_guest
    # wechat does not fall back to web
    assert store.resolve("wechat", f"web-{REGULAR}").is_guest


def test_resolve_wechat_openid(store: ProfileStore, seeded: sessionmaker) -> None:
    with seeded.begin() as s:
        openid = s.execute(
            select(ChannelIdentity.external_id).where(
                ChannelIdentity.channel == "wechat", ChannelIdentity.customer_id == VIP
            )
        ).scalar_one()
    assert openid.startswith("o") and len(openid) == 28
    assert store.resolve("wechat", openid).customer_id == VIP


def test_resolve_unknown_is_guest(store: ProfileStore) -> None:
    p = store.resolve("rest", "someone-new")
    assert p == CustomerProfile.guest()
    assert (p.is_guest, p.segment, p.lifecycle, p.tier, p.customer_id) == (True, "guest", "guest", "regular", None)
    assert p.personalization is True and p.intensity == "medium"


@pytest.mark.parametrize(
    "external_id, segment, lifecycle, elderly, personalization, language, tier",
    [
        ("demo-vip-zh", "important_value", "mature", False, True, "zh", "vip"),
        ("demo-elderly-zh", "potential", "growing", True, True, "zh", "regular"),
        ("demo-atrisk-en", "at_risk", "dormant", False, True, "en", "gold"),
        ("demo-new-en", "new", "new", False, True, "en", "regular"),
        ("demo-regular-zh", "potential", "growing", False, True, "zh", "regular"),
        ("demo-optout-zh", "potential", "growing", False, False, "zh", "silver"),
    ],
)
def test_demo_cast_profiles(
    store: ProfileStore, external_id: str, segment: str, lifecycle: str, elderly: bool,
    personalization: bool, language: str, tier: str,
) -> None:
    p = store.get_profile(DEMO_CAST[external_id])
    assert p is not None
    assert (p.segment, p.lifecycle, p.elderly, p.personalization, p.language, p.tier) == (
        segment, lifecycle, elderly, personalization, language, tier
    )


def test_get_profile_unknown(store: ProfileStore) -> None:
    assert store.get_profile("C999999") is None


def test_masked_profile(store: ProfileStore) -> None:
    masked = store.get_profile(DEMO_CAST["demo-atrisk-en"]).masked()
    assert masked["name"] == "E. C***"
    assert set(masked) == {"name", "tier", "segment", "lifecycle", "elderly", "language", "phone_masked",
                           "personalization", "accessibility"}
    assert CustomerProfile.guest("en").masked()["name"] is None


# -- orders -------------------------------------------------------------------------------------------


def test_get_order_normalises(store: ProfileStore) -> None:
    shipped = order_in_status(store, VIP, "shipped")
    digits = shipped.order_id[1:]
    for spelling in (shipped.order_id, shipped.order_id.lower(), digits, f" {digits} ", f"订单号：{digits}"):
        got = store.get_order(spelling)
        assert got == shipped, spelling
    assert store.get_order("E19990101001") is None
    assert store.get_order("no number here") is None


def test_shipped_order_snapshot(store: ProfileStore) -> None:
    o = order_in_status(store, VIP, "shipped")
    assert o.customer_id == VIP and o.carrier == "sf"
    assert (o.carrier_name_zh, o.carrier_name_en) == ("顺丰速运", "SF Express")
    assert o.carrier_name("en") == "SF Express"
    assert o.tracking_no and o.shipped_at and o.eta and o.delivered_at is None
    assert not o.address_changeable
    assert isinstance(o.amount, float) and o.currency == "CNY"
    assert o.items and {"sku", "name_zh", "name_en", "qty", "price"} <= set(o.items[0])


def test_recent_orders_newest_first(store: ProfileStore) -> None:
    orders = store.recent_orders(VIP)
    assert len(orders) == 3
    assert [o.status for o in orders[:2]] == ["processing", "shipped"]
    assert orders == sorted(orders, key=lambda o: o.created_at, reverse=True)
    all_orders = store.recent_orders(VIP, limit=50)
    assert len(all_orders) == 7
    assert store.recent_orders("C999999") == []
    profile = store.get_profile(VIP)
    assert profile.recent_order_ids == tuple(o.order_id for o in orders)


# -- change address ----------------------------------------------------------------------------------


def test_change_address_happy_path(store: ProfileStore, seeded: sessionmaker) -> None:
    paid = order_in_status(store, REGULAR, "paid")
    new_address = "上海市徐汇区漕溪北路88号3栋502室"
    updated = store.change_address(order_id=paid.order_id.lower(), customer_id=REGULAR, new_address=new_address)
    assert updated.address == new_address and updated.order_id == paid.order_id
    assert store.get_order(paid.order_id).address == new_address


def test_change_address_masks_pii_typed_into_it(store: ProfileStore) -> None:
    processing = order_in_status(store, VIP, "processing")
    updated = store.change_address(
        order_id=processing.order_id, customer_id=VIP, new_address="北京市朝阳区建国路88号  电话13812341234"
    )
    assert updated.address == "北京市朝阳区建国路88号 电话138****1234"


def test_change_address_unknown_order(store: ProfileStore) -> None:
    with pytest.raises(OrderNotFound):
        store.change_address(order_id="E19990101001", customer_id=VIP, new_address="x路1号")
    with pytest.raises(OrderNotFound):
        store.change_address(order_id="not an order", customer_id=VIP, new_address="x路1号")


def test_change_address_other_customers_order(store: ProfileStore) -> None:
    processing = order_in_status(store, VIP, "processing")
    with pytest.raises(NotOrderOwner):
        store.change_address(order_id=processing.order_id, customer_id=REGULAR, new_address="x路1号")
    assert store.get_order(processing.order_id).address == processing.address


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled"])
def test_change_address_locked(store: ProfileStore, status: str) -> None:
    order = order_in_status(store, REGULAR, status)
    with pytest.raises(AddressLocked) as info:
        store.change_address(order_id=order.order_id, customer_id=REGULAR, new_address="x路1号")
    assert info.value.status == status
    assert isinstance(info.value, ProfileError)
    assert store.get_order(order.order_id).address == order.address


@pytest.mark.parametrize("address", ["", "   ", "路" * 301])
def test_change_address_invalid(store: ProfileStore, address: str) -> None:
    paid = order_in_status(store, REGULAR, "paid")
    with pytest.raises(InvalidAddress):
        store.change_address(order_id=paid.order_id, customer_id=REGULAR, new_address=address)


# -- consent and identities -------------------------------------------------------------------------


def test_set_personalization_records_change(store: ProfileStore, seeded: sessionmaker) -> None:
    store.set_personalization(customer_id=VIP, enabled=False, source="chat:web", conversation_id="conv-1")
    assert store.get_profile(VIP).personalization is False
    store.set_personalization(customer_id=VIP, enabled=True, source="chat:wechat", conversation_id=None)
    assert store.get_profile(VIP).personalization is True
    with seeded.begin() as s:
        changes = s.execute(
            select(ConsentChange).where(ConsentChange.customer_id == VIP).order_by(ConsentChange.id)
        ).scalars().all()
        consent = s.get(Consent, VIP)
        assert [(c.personalization, c.source, c.conversation_id) for c in changes] == [
            (False, "chat:web", "conv-1"),
            (True, "chat:wechat", None),
        ]
        assert changes[0].created_at == datetime(2026, 11, 20, 12, 0)
        assert consent.personalization is True and consent.source == "chat:wechat"


def test_set_personalization_creates_missing_consent(store: ProfileStore, seeded: sessionmaker) -> None:
    with seeded.begin() as s:
        s.delete(s.get(Consent, REGULAR))
    assert store.get_profile(REGULAR).personalization is True  # no row = default on
    store.set_personalization(customer_id=REGULAR, enabled=False, source="chat:rest", conversation_id="c")
    assert store.get_profile(REGULAR).personalization is False


def test_set_personalization_unknown_customer(store: ProfileStore) -> None:
    with pytest.raises(CustomerNotFound):
        store.set_personalization(customer_id="C999999", enabled=False, source="chat:web", conversation_id=None)


def test_link_identity(store: ProfileStore) -> None:
    assert store.resolve("wechat", "oNEWopenid").is_guest
    store.link_identity(channel="wechat", external_id="oNEWopenid", customer_id=REGULAR)
    assert store.resolve("wechat", "oNEWopenid").customer_id == REGULAR
    store.link_identity(channel="wechat", external_id="oNEWopenid", customer_id=REGULAR)  # idempotent
    store.link_identity(channel="wechat", external_id="oNEWopenid", customer_id=VIP)  # re-linked
    assert store.resolve("wechat", "oNEWopenid").customer_id == VIP
    with pytest.raises(CustomerNotFound):
        store.link_identity(channel="web", external_id="x", customer_id="C999999")


def test_database_errors_become_store_unavailable(thresholds: Thresholds) -> None:
    engine = create_engine("sqlite://", future=True)  # no tables: every query fails
    store = ProfileStore(make_session_factory(engine), thresholds=thresholds)
    with pytest.raises(StoreUnavailable):
        store.resolve("web", "x")
    with pytest.raises(StoreUnavailable):
        store.get_order("E20261120001")
    with pytest.raises(StoreUnavailable):
        store.set_personalization(customer_id="C000001", enabled=False, source="t", conversation_id=None)


def test_order_rows_untouched_by_reads(store: ProfileStore, seeded: sessionmaker) -> None:
    o = order_in_status(store, VIP, "shipped")
    with seeded.begin() as s:
        assert s.get(Order, o.order_id).status == "shipped"


def test_set_accessibility_records_the_need_with_a_consent_row(store: ProfileStore, seeded) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from profiles.models import ConsentChange

    customer = DEMO_CAST["demo-regular-zh"]
    assert store.get_profile(customer).accessibility is None
    assert not store.get_profile(customer).priority_access
    store.set_accessibility(customer_id=customer, need="visual", source="chat:web", conversation_id="c1")
    profile = store.get_profile(customer)
    assert profile.accessibility == "visual" and profile.priority_access
    assert profile.masked()["accessibility"] == "visual"
    store.set_accessibility(customer_id=customer, need=None, source="chat:web", conversation_id="c1")
    assert store.get_profile(customer).accessibility is None
    with seeded.begin() as s:
        rows = s.execute(select(ConsentChange.accessibility).where(ConsentChange.customer_id == customer)
                         .order_by(ConsentChange.id)).scalars().all()
    assert rows[-2:] == ["visual", "none"]
    with pytest.raises(ValueError):
        store.set_accessibility(customer_id=customer, need="other", source="chat:web", conversation_id=None)
