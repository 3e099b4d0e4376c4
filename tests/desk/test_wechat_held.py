"""HeldMessages: what waits in the WeChat outbox for one conversation, read from the application database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from desk.wechat_held import HeldLine, HeldMessages, openid_of, reason_kind
from wechat.outbox import DELIVERED, OutboxMessage

EARLIER = datetime(2026, 11, 18, 9, 30)


def _outbox(seeded: sessionmaker, *rows: OutboxMessage) -> HeldMessages:
    OutboxMessage.__table__.create(seeded.kw["bind"], checkfirst=True)
    with seeded.begin() as session:
        session.add_all(rows)
    return HeldMessages(seeded)


def test_only_the_customers_held_messages_oldest_first(seeded: sessionmaker) -> None:
    held = _outbox(
        seeded,
        OutboxMessage(openid="o-1", text="您的退款已处理", source="agent", reason="window_closed", created_at=EARLIER),
        OutboxMessage(openid="o-1", text="请为本次服务打分", source="bot", reason="window_used_up", created_at=EARLIER),
        OutboxMessage(openid="o-1", text="已送达", source="bot", reason="errcode_45015", status=DELIVERED,
                      delivered_at=EARLIER),
        OutboxMessage(openid="o-2", text="别人的", source="bot", reason="errcode_45047"),
    )
    lines = held.for_conversation("wechat:o-1")
    assert [(m.text, m.source, m.kind, m.held_since) for m in lines] == [
        ("您的退款已处理", "agent", "window", EARLIER), ("请为本次服务打分", "bot", "limit", EARLIER)]
    assert all(isinstance(m, HeldLine) for m in lines)
    assert [m.text for m in held.for_conversation("wechat:o-1", after_id=lines[0].id, source="bot")] == ["请为本次服务打分"]
    assert held.for_conversation("wechat:o-1", source="agent")[0].as_dict()["held_since"] == "2026-11-18T09:30:00"
    assert held.last_id("wechat:o-1") == lines[-1].id + 1  # the delivered row is the newest of o-1
    assert held.last_id("wechat:o-never") == 0


def test_other_channels_have_nothing_held(seeded: sessionmaker) -> None:
    held = _outbox(seeded, OutboxMessage(openid="web-c0000001", text="x", source="bot", reason="window_closed"))
    assert held.for_conversation("web-c0000001") == () and held.last_id("web-c0000001") == 0
    assert openid_of("wechat:o-1") == "o-1" and openid_of("wechat:") is None and openid_of("demo-vip-zh") is None


def test_reasons_are_grouped_as_the_agent_reads_them() -> None:
    assert [reason_kind(r) for r in ("window_closed", "errcode_45015", "window_used_up", "errcode_45047",
                                     "errcode_-1", "errcode_40001")] == ["window", "window", "limit", "limit",
                                                                          "not_accepted", "not_accepted"]


def test_without_the_wechat_tables_nothing_is_held() -> None:
    engine = make_engine("sqlite://")  # WeChat never configured: no wechat_outbox table
    held = HeldMessages(make_session_factory(engine))
    assert held.for_conversation("wechat:o-1") == () and held.last_id("wechat:o-1") == 0
    engine.dispose()

