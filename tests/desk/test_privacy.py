"""Export and erasure of one customer across the app database and the tracker store, and retention."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from common.db import make_engine
from desk.models import Feedback, FollowupClosure, Handoff, PiiReveal, Ticket
from desk.privacy import PrivacyOffice, main
from desk.retention import purge
from profiles.models import ChannelIdentity, Customer, Order
from wechat.outbox import OutboxMessage
from wechat.stores import KeyValueRow

DAY = 86400.0
NOW = 1_800_000_000.0


def tracker_db(path: Path, rows: list[tuple[str, float, str]]) -> sa.engine.Engine:
    """Rasa's ``events`` table (as SQLTrackerStore makes it) and the checkpoints table, with ``rows``."""
    engine = make_engine(f"sqlite:///{path}")
    metadata = sa.MetaData()
    events = sa.Table("events", metadata, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("sender_id", sa.String(255)), sa.Column("type_name", sa.String(255)),
                      sa.Column("timestamp", sa.Float), sa.Column("intent_name", sa.String(255)),
                      sa.Column("action_name", sa.String(255)), sa.Column("data", sa.Text))
    checkpoints = sa.Table("tracker_checkpoints", metadata, sa.Column("sender_id", sa.String(255), primary_key=True),
                           sa.Column("last_event_id", sa.Integer), sa.Column("events", sa.Text))
    metadata.create_all(engine)
    with engine.begin() as connection:
        for sender, stamp, text in rows:
            connection.execute(events.insert().values(
                sender_id=sender, type_name="user", timestamp=stamp,
                data=json.dumps({"event": "user", "text": text, "timestamp": stamp})))
        for sender in {r[0] for r in rows}:
            connection.execute(checkpoints.insert().values(sender_id=sender, last_event_id=1, events="[]"))
    return engine


def count(engine: sa.engine.Engine, table: str, sender: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table} WHERE sender_id = :s"),  # noqa: S608
                                      {"s": sender}).scalar_one())


def test_export_holds_everything_and_is_audited(seeded: sessionmaker, tmp_path: Path) -> None:
    with seeded.begin() as session:
        customer_id = session.scalars(sa.select(Customer.id).order_by(Customer.id)).first()
        wechat = session.scalars(sa.select(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id,
                                                                  ChannelIdentity.channel == "wechat")).first()
        session.add(Feedback(conversation_id=f"web-{customer_id}", customer_id=customer_id, rating=2,
                             comment="slow", idempotency_key="k1"))
    senders = [f"web-{customer_id}"] + ([f"wechat:{wechat.external_id}"] if wechat else [])
    tracker = tracker_db(tmp_path / "t.db", [(s, NOW, f"hello from {s}") for s in senders] + [("other", NOW, "x")])
    office = PrivacyOffice(seeded, tracker)
    document = office.export(customer_id, actor="boss")
    assert document["profile"]["id"] == customer_id and document["orders"] and document["identities"]
    assert document["feedback"][0]["comment"] == "slow"
    assert set(document["transcripts"]) == set(senders)
    assert "other" not in json.dumps(document["transcripts"])
    json.dumps(document)  # serialisable
    with seeded.begin() as session:
        audit = session.scalars(sa.select(PiiReveal).where(PiiReveal.customer_id == customer_id)).all()
    assert [(a.supervisor, a.field) for a in audit] == [("boss", "export")]


def test_erasure_removes_personal_data_keeps_counts_and_is_audited(seeded: sessionmaker, tmp_path: Path) -> None:
    with seeded.begin() as session:
        customer_id = session.scalars(sa.select(Customer.id).order_by(Customer.id)).first()
        orders_before = len(session.scalars(sa.select(Order).where(Order.customer_id == customer_id)).all())
        session.add(Feedback(conversation_id=f"web-{customer_id}", customer_id=customer_id, rating=1,
                             comment="call me 13812341234", idempotency_key="k2"))
        session.add(Ticket(customer_id=customer_id, conversation_id=f"web-{customer_id}", topic="refund",
                           subject="refund to zhang.wei@example.com"))
    tracker = tracker_db(tmp_path / "t.db", [(f"web-{customer_id}", NOW, "138****1234"), ("other", NOW, "x")])
    done = PrivacyOffice(seeded, tracker).erase(customer_id, actor="boss", reason="customer asked")
    assert done.tracker_events == 1
    assert count(tracker, "events", f"web-{customer_id}") == 0 and count(tracker, "events", "other") == 1
    assert count(tracker, "tracker_checkpoints", f"web-{customer_id}") == 0
    with seeded.begin() as session:
        customer = session.get(Customer, customer_id)
        assert customer.name == "erased" and customer.phone_hash is None and customer.phone_masked is None
        assert not session.scalars(sa.select(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id)).all()
        orders = session.scalars(sa.select(Order).where(Order.customer_id == customer_id)).all()
        assert len(orders) == orders_before and all(o.address == "[erased]" for o in orders)
        feedback = session.scalars(sa.select(Feedback).where(Feedback.customer_id == customer_id)).all()
        assert [f.rating for f in feedback] == [1] and feedback[0].comment is None
        assert all(t.subject == "[erased]" for t in session.scalars(sa.select(Ticket).where(Ticket.customer_id == customer_id)))
        assert all(h.package == {} for h in session.scalars(sa.select(Handoff).where(Handoff.customer_id == customer_id)))
        assert [a.field for a in session.scalars(sa.select(PiiReveal))] == ["erasure"]


def test_erasure_reaches_the_archive_wechat_held_messages_and_followup_notes(seeded: sessionmaker,
                                                                             tmp_path: Path) -> None:
    engine = seeded.kw["bind"]
    for table in (OutboxMessage.__table__, KeyValueRow.__table__):
        table.create(engine, checkfirst=True)
    with seeded.begin() as session:
        identity = session.scalars(sa.select(ChannelIdentity).where(ChannelIdentity.channel == "wechat")).first()
        customer_id, openid = identity.customer_id, identity.external_id
        ticket = Ticket(customer_id=customer_id, conversation_id=f"wechat:{openid}", topic="followup",
                        subject="low rating", status="closed")
        session.add(ticket)
        session.flush()
        session.add(FollowupClosure(ticket_id=ticket.id, closed_by="boss", note="called 13812341234, sorted"))
        session.add_all([OutboxMessage(openid=openid, text="您的退款已处理", source="agent", reason="window_closed"),
                         OutboxMessage(openid="o-someone-else", text="hi", source="bot", reason="window_closed"),
                         KeyValueRow(key=f"window:{openid}", value="1", expires_at=NOW),
                         KeyValueRow(key=f"buttons:{openid}", value="[]", expires_at=NOW),
                         KeyValueRow(key="window:o-someone-else", value="1", expires_at=NOW)])
    tracker = tracker_db(tmp_path / "t.db", [(f"wechat:{openid}", NOW, "hello"), ("other", NOW, "x")])
    archive = sa.Table("event_archive", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("sender_id", sa.String(255)), sa.Column("timestamp", sa.Float),
                       sa.Column("data", sa.Text))
    archive.create(tracker)
    with tracker.begin() as connection:
        for sender in (f"wechat:{openid}", "other"):
            connection.execute(archive.insert().values(sender_id=sender, timestamp=NOW, data="{}"))
    office = PrivacyOffice(seeded, tracker)
    document = office.export(customer_id, actor="boss")
    assert [m["text"] for m in document["wechat_held_messages"]] == ["您的退款已处理"]
    assert [c["note"] for c in document["followup_closures"]] == ["called 13812341234, sorted"]
    office.erase(customer_id, actor="boss", reason="customer asked")
    assert count(tracker, "event_archive", f"wechat:{openid}") == 0 and count(tracker, "event_archive", "other") == 1
    with seeded.begin() as session:
        assert [m.openid for m in session.scalars(sa.select(OutboxMessage))] == ["o-someone-else"]
        assert [r.key for r in session.scalars(sa.select(KeyValueRow))] == ["window:o-someone-else"]
        assert session.get(FollowupClosure, ticket.id).note == "[erased]"


def test_the_cli_exports_to_a_file_and_refuses_unknown_customers(seeded: sessionmaker, tmp_path: Path) -> None:
    office = PrivacyOffice(seeded, tracker_db(tmp_path / "t.db", []))
    with seeded.begin() as session:
        customer_id = session.scalars(sa.select(Customer.id)).first()
    out = tmp_path / "export.json"
    assert main(["export", customer_id, "--out", str(out)], office=office) == 0
    assert json.loads(out.read_text())["customer_id"] == customer_id
    assert main(["erase", "C999999"], office=office) == 1


def test_retention_deletes_whole_old_conversations_only(tmp_path: Path) -> None:
    engine = tracker_db(tmp_path / "t.db", [
        ("old", NOW - 40 * DAY, "a"), ("old", NOW - 35 * DAY, "b"),
        ("mixed", NOW - 40 * DAY, "c"), ("mixed", NOW - 1 * DAY, "d"),  # still active: kept whole
        ("new", NOW - 2 * DAY, "e"),
    ])
    assert purge(engine, older_than_days=30, clock=lambda: NOW, dry_run=True).conversations == 1
    assert count(engine, "events", "old") == 2
    result = purge(engine, older_than_days=30, clock=lambda: NOW)
    assert (result.conversations, result.events) == (1, 2)
    assert [count(engine, "events", s) for s in ("old", "mixed", "new")] == [0, 2, 1]
    assert count(engine, "tracker_checkpoints", "old") == 0 and count(engine, "tracker_checkpoints", "mixed") == 1
    assert purge(engine, older_than_days=0, clock=lambda: NOW).conversations == 0  # 0 = keep everything


def test_export_and_erasure_cover_the_inbox_notes_and_resolution_of_the_customers_tickets(
        seeded: sessionmaker, tmp_path: Path) -> None:
    from desk.models import TicketEvent
    from desk.ticket_inbox import TicketInbox, Viewer
    from desk.tickets import TicketStore

    with seeded.begin() as session:
        customer_id = session.scalars(sa.select(Customer.id)).first()
    ticket = TicketStore(seeded).record_contact(customer_id=customer_id, conversation_id="web-privacy-1",
                                                channel="web", topic="complaint", subject="投诉").ticket
    inbox, agent = TicketInbox(seeded), Viewer("agent1", False)
    inbox.claim(ticket.id, agent)
    inbox.add_note(ticket.id, agent, "客户说下午方便回电")
    inbox.resolve(ticket.id, agent, reason="explained", note="已回电说明")
    office = PrivacyOffice(seeded, tracker_db(tmp_path / "t.db", []))
    document = office.export(customer_id, actor="boss")
    assert [e["kind"] for e in document["ticket_events"] if e["ticket_id"] == ticket.id] == ["claim", "note", "resolve"]
    assert [t["resolution_note"] for t in document["tickets"] if t["id"] == ticket.id] == ["已回电说明"]
    office.erase(customer_id, actor="boss", reason="customer asked")
    with seeded.begin() as session:
        texts = [e.text for e in session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
        assert texts == [None, "[erased]", "[erased]"]
        erased = session.get(Ticket, ticket.id)
        assert (erased.resolution_note, erased.resolution_reason, erased.status) == (None, "explained", "resolved")


def test_export_and_erasure_cover_the_transfer_notes_on_the_customers_handoffs(
        seeded: sessionmaker, tmp_path: Path) -> None:
    from desk.agents import AgentStore
    from desk.handoffs import HandoffQueue
    from desk.models import Agent, HandoffTransfer
    from desk.teams import TeamDesk

    with seeded.begin() as session:
        customer_id = session.scalars(sa.select(Customer.id)).first()
        session.add(Agent(username="ann", display_name="Ann", role="agent", password_hash="unused", active=True))
    queue = HandoffQueue(seeded)
    desk = TeamDesk(seeded, queue, AgentStore(seeded))
    desk.ensure_teams()
    handoff_id = queue.enqueue(conversation_id="web-privacy-2", customer_id=customer_id, channel="web", language="zh",
                               reason="refund", priority=4, summary="退款", package={}).id
    queue.claim(handoff_id, agent_id="ann")
    desk.transfer(handoff_id, by="ann", to_team="refunds", note="客户希望下午联系")
    office = PrivacyOffice(seeded, tracker_db(tmp_path / "t.db", []))
    document = office.export(customer_id, actor="boss")
    assert [t["note"] for t in document["handoff_transfers"]] == ["客户希望下午联系"]
    office.erase(customer_id, actor="boss", reason="customer asked")
    with seeded.begin() as session:
        notes = session.scalars(sa.select(HandoffTransfer.note).where(HandoffTransfer.handoff_id == handoff_id)).all()
        assert notes == ["[erased]"]


def test_export_and_erasure_cover_the_customers_proactive_messages(seeded: sessionmaker, tmp_path: Path) -> None:
    from desk.models import ProactiveMessage

    with seeded.begin() as session:
        session.add_all([
            ProactiveMessage(customer_id="C000001", conversation_id="web-C000001", channel="web", kind="order_delay",
                             ref="E1:2026-11-17", reason="order E1: ETA passed", language="zh", text="您的订单…",
                             status="sent"),
            ProactiveMessage(customer_id="C000002", conversation_id="web-C000002", channel="web", kind="birthday",
                             ref="2026", reason="birthday", language="zh", text="生日快乐", status="waiting"),
        ])
    office = PrivacyOffice(seeded, tracker_db(tmp_path / "t.db", []))
    document = office.export("C000001", actor="boss")
    assert [(m["kind"], m["reason"]) for m in document["proactive_messages"]] == [("order_delay", "order E1: ETA passed")]
    json.dumps(document)  # dates as text
    office.erase("C000001", actor="boss", reason="customer asked")
    with seeded.begin() as session:
        assert [m.customer_id for m in session.scalars(sa.select(ProactiveMessage))] == ["C000002"]


def test_export_and_erasure_cover_offers_birthday_and_accessibility(seeded: sessionmaker, tmp_path: Path) -> None:
    from datetime import date, datetime, timedelta

    from profiles.models import Offer

    customer_id = "C000001"
    with seeded.begin() as session:
        customer = session.get(Customer, customer_id)
        customer.birthday, customer.accessibility = date(1985, 3, 14), "visual"
        session.add(Offer(customer_id=customer_id, kind="retention", code="RTTEST01", amount=30,
                          issued_at=datetime(2026, 11, 1), expires_at=datetime(2026, 11, 1) + timedelta(days=14),
                          channel="web", reason="leaving", arm="standard", conversation_id=f"web-{customer_id}"))
    office = PrivacyOffice(seeded, tracker_db(tmp_path / "t.db", []))
    document = office.export(customer_id, actor="boss")
    assert [o["code"] for o in document["offers"]] == ["RTTEST01"]
    assert document["profile"]["birthday"] == "1985-03-14" and document["profile"]["accessibility"] == "visual"
    office.erase(customer_id, actor="boss", reason="customer asked")
    with seeded.begin() as session:
        customer = session.get(Customer, customer_id)
        assert customer.birthday is None and customer.accessibility is None
        offer = session.scalars(sa.select(Offer).where(Offer.customer_id == customer_id)).one()
        assert offer.conversation_id is None and (offer.kind, offer.arm) == ("retention", "standard")
