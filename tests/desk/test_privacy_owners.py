"""One owner per table: every application table that names a customer answers export and erasure.

``desk.privacy`` asks the owners in ``desk.schema.OWNERS``; a table holding a customer id, a
conversation id or an openid (or linked by a foreign key to one that does) with no owner would be
left out of both, so these tests fail until its library adds an owner.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from common.privacy import IDENTIFYING_COLUMNS
from desk.privacy import PrivacyOffice
from desk.schema import OWNERS, application_metadata, create_all
from profiles.models import ChannelIdentity, Customer, Order, OrderChange


def customer_tables(metadata: sa.MetaData) -> set[str]:
    """Tables with an identifying column, and every table joined to one of them by a foreign key."""
    found = {t.name for t in metadata.tables.values() if IDENTIFYING_COLUMNS & {c.name for c in t.columns}}
    while True:
        linked = {name for t in metadata.tables.values() for fk in t.foreign_keys
                  for name in (t.name, fk.column.table.name)
                  if t.name in found or fk.column.table.name in found} - found
        if not linked:
            return found
        found |= linked


def unowned(metadata: sa.MetaData, owners: tuple[object, ...]) -> set[str]:
    claimed = {table for owner in owners for table in owner.tables}  # type: ignore[attr-defined]
    return customer_tables(metadata) - claimed


def test_every_table_naming_a_customer_has_an_owner() -> None:
    missing = unowned(application_metadata(), OWNERS)
    assert not missing, f"no owner answers export and erasure for: {sorted(missing)} (add one to desk.schema.OWNERS)"


def test_each_table_has_one_owner_and_every_claimed_table_exists() -> None:
    claims = [table for owner in OWNERS for table in owner.tables]
    assert len(claims) == len(set(claims)), "a table is claimed by two owners"
    assert set(claims) <= set(application_metadata().tables)


def test_the_check_sees_a_new_table_nobody_answers_for() -> None:
    metadata = sa.MetaData()
    sa.Table("parcels", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("customer_id", sa.String))
    sa.Table("parcel_notes", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("parcel_id", sa.ForeignKey("parcels.id")), sa.Column("text", sa.Text))
    sa.Table("carriers", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String))
    assert unowned(metadata, ()) == {"parcels", "parcel_notes"}


def _factory(tmp_path) -> sessionmaker:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_all(engine)
    return make_session_factory(engine)


def _customer_with_an_order_change(factory: sessionmaker) -> None:
    with factory.begin() as session:
        session.add(Customer(id="C000007", name="李娜", registered_at=date(2025, 1, 1)))
        session.flush()
        session.add(ChannelIdentity(channel="wechat", external_id="oWx-7", customer_id="C000007"))
        session.add(Order(id="O000007", customer_id="C000007", status="paid", amount=10, created_at=datetime(2026, 1, 1),
                          address="上海市某路 1 号", items=[]))
        session.flush()
        session.add(OrderChange(order_id="O000007", customer_id=None, kind="cancel", status_before="paid",
                                status_after="cancelled", detail={}, source="chat:wechat",
                                conversation_id="wechat:oWx-7"))


def test_order_changes_are_exported_and_lose_the_openid_on_erasure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    factory = _factory(tmp_path)
    _customer_with_an_order_change(factory)
    office = PrivacyOffice(factory, None)
    document = office.export("C000007", actor="boss")
    assert [c["conversation_id"] for c in document["order_changes"]] == ["wechat:oWx-7"]
    office.erase("C000007", actor="boss", reason="asked")
    with factory() as session:
        change = session.scalars(sa.select(OrderChange)).one()
        assert change.conversation_id.startswith("erased-") and change.status_after == "cancelled"
