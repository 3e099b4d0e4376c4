"""TicketInbox: one list of every ticket, filters, overdue marks, who may see and act, the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from desk.models import TicketEvent
from desk.ticket_inbox import TicketInbox, TicketInboxError, Viewer
from desk.ticket_status import due_of
from desk.tickets import TicketStore

AGENT1, AGENT2, BOSS = Viewer("agent1", False), Viewer("agent2", False), Viewer("boss", True)


@pytest.fixture
def store(session_factory, movable_clock) -> TicketStore:
    return TicketStore(session_factory, clock=movable_clock)


@pytest.fixture
def inbox(session_factory, movable_clock) -> TicketInbox:
    return TicketInbox(session_factory, clock=movable_clock)


def _open(store, conversation, topic="refund", customer="C1"):
    return store.record_contact(customer_id=customer, conversation_id=conversation, channel="web", topic=topic,
                                subject=f"{topic} 电话13812341234").ticket


def test_every_kind_of_ticket_is_in_one_list(store, inbox):
    refund = _open(store, "a")
    complaint = _open(store, "b", topic="complaint")
    followup = store.open_followup(customer_id="C2", conversation_id="c", channel="web", subject="低分",
                                   due_in=timedelta(hours=24))
    rows = inbox.list(BOSS)
    assert {r.id for r in rows} == {refund.id, complaint.id, followup.id}
    assert all("13812341234" not in r.subject for r in rows)
    assert {r.owner for r in rows} == {None}


def test_a_complaint_is_due_in_24_hours_whatever_its_priority(store, movable_clock):
    ticket = store.record_contact(customer_id="C1", conversation_id="a", channel="web", topic="complaint",
                                  subject="投诉", priority="high").ticket
    assert ticket.due_at == movable_clock() + timedelta(hours=24)
    assert due_of(ticket) == ticket.due_at


def test_overdue_is_marked_and_filtered(store, inbox, movable_clock):
    complaint = _open(store, "a", topic="complaint")
    refund = _open(store, "b", topic="refund")  # 72 h promise
    assert inbox.list(BOSS, overdue=True) == []
    movable_clock.advance(hours=25)
    overdue = inbox.list(BOSS, overdue=True)
    assert [r.id for r in overdue] == [complaint.id]
    assert {r.id: r.overdue for r in inbox.list(BOSS)} == {complaint.id: True, refund.id: False}
    assert inbox.overdue_count(BOSS) == 1


def test_a_resolved_ticket_is_never_overdue(store, inbox, movable_clock):
    complaint = _open(store, "a", topic="complaint")
    inbox.claim(complaint.id, AGENT1)
    inbox.resolve(complaint.id, AGENT1, reason="explained")
    movable_clock.advance(days=3)
    assert inbox.list(BOSS, overdue=True) == []
    assert inbox.list(BOSS, status="open") == []
    assert [r.id for r in inbox.list(BOSS, status="resolved")] == [complaint.id]


def test_filters_by_topic_status_and_scope(store, inbox):
    refund, complaint = _open(store, "a"), _open(store, "b", topic="complaint")
    inbox.claim(refund.id, AGENT1)
    assert [r.id for r in inbox.list(BOSS, topic="complaint")] == [complaint.id]
    assert [r.id for r in inbox.list(AGENT1, scope="mine")] == [refund.id]
    assert [r.id for r in inbox.list(AGENT1, scope="unassigned")] == [complaint.id]
    assert [r.id for r in inbox.list(BOSS, status="open", scope="unassigned")] == [complaint.id]


def test_agents_see_unassigned_and_their_own_supervisors_see_all(store, inbox):
    mine, theirs, free = _open(store, "a"), _open(store, "b", topic="complaint"), _open(store, "c", topic="order")
    inbox.claim(mine.id, AGENT1)
    inbox.claim(theirs.id, AGENT2)
    assert {r.id for r in inbox.list(AGENT1)} == {mine.id, free.id}
    assert {r.id for r in inbox.list(BOSS)} == {mine.id, theirs.id, free.id}
    with pytest.raises(TicketInboxError) as caught:
        inbox.get(theirs.id, AGENT1)
    assert caught.value.not_found
    with pytest.raises(TicketInboxError):
        inbox.claim(theirs.id, AGENT1)


def test_notes_and_resolution_need_the_owner_and_are_audited(store, inbox, session_factory):
    ticket = _open(store, "a")
    with pytest.raises(TicketInboxError) as caught:
        inbox.add_note(ticket.id, AGENT1, "先看物流")
    assert caught.value.forbidden
    inbox.claim(ticket.id, AGENT1)
    inbox.add_note(ticket.id, AGENT1, "客户电话 13812341234，已回电")
    with pytest.raises(TicketInboxError):
        inbox.resolve(ticket.id, AGENT1, reason="because")
    with pytest.raises(TicketInboxError):
        inbox.resolve(ticket.id, AGENT1, reason="other", note=" ")
    row = inbox.resolve(ticket.id, AGENT1, reason="refunded", note="原路退回")
    assert (row.status, row.resolution_reason, row.resolution_note, row.owner) == \
        ("resolved", "refunded", "原路退回", "agent1")
    events = inbox.events(ticket.id, BOSS)
    assert [(e.actor, e.kind) for e in events] == [("agent1", "claim"), ("agent1", "note"), ("agent1", "resolve")]
    assert "13812341234" not in events[1].text
    with session_factory() as s:
        assert len(s.scalars(select(TicketEvent)).all()) == 3
    with pytest.raises(TicketInboxError):
        inbox.resolve(ticket.id, BOSS, reason="solved")  # already resolved


def test_a_supervisor_may_take_over_and_resolve_any_ticket(store, inbox):
    ticket = _open(store, "a")
    inbox.claim(ticket.id, AGENT1)
    assert inbox.claim(ticket.id, BOSS).owner == "boss"
    assert inbox.resolve(ticket.id, BOSS, reason="solved").status == "resolved"


def test_the_customers_status_lookup_reports_what_the_inbox_shows(store, inbox):
    ticket = _open(store, "a", topic="complaint")
    assert [t.id for t in store.open_for("C1")] == [ticket.id]
    inbox.claim(ticket.id, AGENT1)
    (still_open,) = store.open_for("C1")
    row = inbox.get(ticket.id, AGENT1)
    assert (still_open.status, due_of(still_open)) == (row.status, row.due_at)
    inbox.resolve(ticket.id, AGENT1, reason="solved")
    assert store.open_for("C1") == []
    assert store.get(ticket.id).status == inbox.get(ticket.id, BOSS).status == "resolved"
