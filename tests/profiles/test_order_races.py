"""Two conversations changing one order at the same moment (two tabs, the widget and WeChat) on the SQLite
file of ``make run``, which ignores ``FOR UPDATE``: one cancellation wins, the others hear the order is
already cancelled (never "busy"), and the audit trail has one row."""

from __future__ import annotations

import threading
from datetime import date, datetime

import sqlalchemy as sa

from common.db import StoreUnavailable, make_engine, make_session_factory
from demo.seed import seed_demo
from desk.schema import create_all
from profiles.models import Order, OrderChange
from profiles.shop import NotCancellable, ShopStore

RACERS = 6


def test_racing_cancellations_of_one_order_cancel_it_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_all(engine)
    factory = make_session_factory(engine)
    seed_demo(factory, today=date(2026, 11, 20), salt="race-salt")
    with factory() as s:
        order = s.scalars(sa.select(Order).where(Order.status.in_(("paid", "processing")))).first()
        order_id, customer_id = order.id, order.customer_id
    store = ShopStore(factory, clock=lambda: datetime(2026, 11, 20, 12))
    start = threading.Barrier(RACERS)
    outcomes: list[str] = []

    def cancel(turn: int) -> None:
        start.wait()
        try:
            store.cancel_order(order_id=order_id, customer_id=customer_id, source="test",
                               conversation_id=f"web-{customer_id}-{turn}")
            outcomes.append("cancelled")
        except NotCancellable:
            outcomes.append("already")
        except StoreUnavailable:
            outcomes.append("busy")

    threads = [threading.Thread(target=cancel, args=(turn,)) for turn in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with factory() as s:
        changes = s.scalars(sa.select(OrderChange).where(OrderChange.order_id == order_id)).all()
    engine.dispose()
    assert sorted(outcomes) == ["already"] * (RACERS - 1) + ["cancelled"], outcomes
    assert [c.kind for c in changes] == ["cancel"]
