"""TicketStore: one ticket per open issue, contacts counted per conversation inside the window."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from desk.models import Ticket, TicketContact
from desk.tickets import TicketStore


@pytest.fixture
def empty_store(session_factory, movable_clock) -> TicketStore:
    return TicketStore(session_factory, window_days=30, clock=movable_clock)


def _contact(store, conversation, *, customer="C1", topic="refund", order=None, subject="退款"):
    return store.record_contact(customer_id=customer, conversation_id=conversation, channel="web", topic=topic,
                                order_id=order, subject=subject)


def test_first_contact_opens_then_updates(empty_store, movable_clock):
    first = _contact(empty_store, "a", order="E20261120001", subject="退款，电话13812341234")
    assert first.created and first.contacts_in_window == 1
    assert first.ticket.subject == "退款，电话138****1234"
    movable_clock.advance(days=2)
    second = _contact(empty_store, "b")
    assert not second.created
    assert second.ticket.id == first.ticket.id
    assert second.ticket.order_id == "E20261120001"
    assert second.ticket.updated_at == movable_clock()
    assert second.contacts_in_window == 2


def test_same_conversation_counts_once(empty_store, session_factory):
    for _ in range(3):
        record = _contact(empty_store, "a")
    assert record.contacts_in_window == 1
    with session_factory.begin() as s:
        assert s.scalar(select(func.count()).select_from(TicketContact)) == 1


def test_old_contacts_fall_out_of_the_window(empty_store, movable_clock):
    _contact(empty_store, "a")
    movable_clock.advance(days=10)
    assert _contact(empty_store, "b").contacts_in_window == 2
    movable_clock.advance(days=25)  # "a" is now 35 days old, "b" 25
    assert _contact(empty_store, "c").contacts_in_window == 2
    movable_clock.advance(days=31)
    assert _contact(empty_store, "d").contacts_in_window == 1


@pytest.mark.parametrize(
    "other, expected",
    [(dict(topic="complaint"), 1), (dict(customer="C2"), 1), (dict(order="E20261120002"), 1), (dict(), 2)],
)
def test_other_issues_are_separate(empty_store, other, expected):
    _contact(empty_store, "a", order="E20261120001")
    kwargs = {"order": "E20261120001", **other}
    assert _contact(empty_store, "b", **kwargs).contacts_in_window == expected


def test_guest_contacts_are_per_conversation(empty_store):
    a = empty_store.record_contact(customer_id=None, conversation_id="g1", channel="web", topic="refund")
    b = empty_store.record_contact(customer_id=None, conversation_id="g2", channel="web", topic="refund")
    assert a.ticket.id != b.ticket.id
    assert b.created and b.contacts_in_window == 1


def test_resolved_ticket_is_not_reopened(empty_store, session_factory):
    first = _contact(empty_store, "a")
    with session_factory.begin() as s:
        s.get(Ticket, first.ticket.id).status = "resolved"
    second = _contact(empty_store, "b")
    assert second.created and second.ticket.id != first.ticket.id
    assert second.contacts_in_window == 2  # the earlier contact about the same issue still counts


def test_topic_history_and_recent(empty_store, movable_clock):
    _contact(empty_store, "a", topic="refund")
    movable_clock.advance(days=1)
    _contact(empty_store, "b", topic="complaint")
    history = empty_store.topic_history(customer_id="C1", topic="refund")
    assert (history.count, history.last_at) == (1, datetime(2026, 11, 20, 12))
    assert empty_store.topic_history(customer_id="C1", topic="refund", exclude_conversation="a").count == 0
    assert empty_store.topic_history(customer_id="C9", topic="refund").count == 0
    assert [t.topic for t in empty_store.recent_for("C1")] == ["complaint", "refund"]


def test_open_followup_and_get(empty_store, movable_clock):
    from datetime import timedelta

    followup = empty_store.open_followup(customer_id="C1", conversation_id="a", channel="web",
                                         subject="回电 13812341234", due_in=timedelta(hours=24))
    assert followup.due_at == movable_clock() + timedelta(hours=24)
    assert "138****1234" in followup.subject
    assert empty_store.get(followup.id) == followup
    assert empty_store.get(9999) is None


def test_seeded_refund_contacts_are_in_the_window(tickets):
    history = tickets.topic_history(customer_id="C000001", topic="refund")
    assert history.count == 1 and history.last_at.date().isoformat() == "2026-11-08"


def test_seeded_contacts_without_conversation_count(tickets):
    record = tickets.record_contact(customer_id="C000001", conversation_id="new", channel="web", topic="refund")
    assert record.contacts_in_window == 3
