"""HandoffQueue while a customer waits (issue 10 item 3): place, lines kept for the agent, leaving the queue;
and the refund ticket closed when the customer withdraws the refund."""

from __future__ import annotations

import pytest

from desk.errors import InvalidTransition
from desk.handoffs import CUSTOMER_NOTES_MAX, HandoffQueue
from desk.models import Conversation, HandoffStatus, Ticket, TicketTopic
from desk.tickets import TicketStore


def _enqueue(queue: HandoffQueue, conversation: str, *, priority: int = 5, reason: str = "user_request",
             order_id: str | None = None):
    return queue.enqueue(conversation_id=conversation, customer_id="C000005", channel="rest", language="zh",
                         reason=reason, priority=priority, summary="s",
                         package={"summary_facts": {"order_id": order_id}})


def test_position_follows_the_queue(queue):
    first = _enqueue(queue, "q1")
    second = _enqueue(queue, "q2")
    assert (queue.position_of(first.id), queue.position_of(second.id)) == (1, 2)
    vip = _enqueue(queue, "q3", priority=1)
    assert (queue.position_of(vip.id), queue.position_of(second.id)) == (1, 3)
    queue.claim(vip.id, agent_id="alice")
    assert (queue.position_of(vip.id), queue.position_of(second.id)) == (0, 2)


def test_customer_notes_are_kept_masked_and_numbered(queue):
    handoff = _enqueue(queue, "n1")
    first = queue.add_customer_note(handoff.id, "  我的手机号是 13812345678，\n 麻烦快点  ")
    second = queue.add_customer_note(handoff.id, "还有一个问题")
    assert (first.number, second.number) == (1, 2)
    notes = queue.get(handoff.id).package["customer_notes"]
    assert [n["text"] for n in notes][1] == "还有一个问题"
    assert "13812345678" not in notes[0]["text"] and "麻烦快点" in notes[0]["text"]
    for i in range(CUSTOMER_NOTES_MAX + 5):
        queue.add_customer_note(handoff.id, f"line {i}")
    package = queue.get(handoff.id).package
    assert len(package["customer_notes"]) == CUSTOMER_NOTES_MAX
    assert package["customer_notes"][-1]["text"] == f"line {CUSTOMER_NOTES_MAX + 4}"
    assert package["customer_notes_count"] == CUSTOMER_NOTES_MAX + 7


def test_no_note_once_claimed(queue):
    handoff = _enqueue(queue, "n2")
    queue.claim(handoff.id, agent_id="alice")
    assert queue.add_customer_note(handoff.id, "hello?").number == 0
    assert "customer_notes" not in queue.get(handoff.id).package


def test_cancel_by_customer_gives_the_conversation_back_to_the_bot(queue, seeded):
    handoff = _enqueue(queue, "c1")
    view = queue.cancel_by_customer(handoff.id, refund_withdrawn=True)
    assert view.status == HandoffStatus.CANCELLED.value
    assert view.package["cancelled_by_customer"]["refund_withdrawn"] is True
    assert queue.open_for("c1") is None
    with seeded.begin() as s:
        assert s.get(Conversation, "c1").status == "bot"
    # the conversation may ask for a person again
    assert _enqueue(queue, "c1").created


def test_cancel_after_a_claim_is_refused(queue):
    handoff = _enqueue(queue, "c2")
    queue.claim(handoff.id, agent_id="alice")
    with pytest.raises(InvalidTransition):
        queue.cancel_by_customer(handoff.id)
    assert queue.get(handoff.id).status == HandoffStatus.ASSIGNED.value


def test_refund_withdrawn_closes_the_open_refund_ticket(tickets: TicketStore, seeded):
    other = tickets.record_contact(customer_id="C000005", conversation_id="x", channel="rest",
                                   topic=TicketTopic.REFUND, order_id="E20261120009", subject="refund E20261120009")
    mine = tickets.record_contact(customer_id="C000005", conversation_id="r1", channel="rest",
                                  topic=TicketTopic.REFUND, order_id="E20261120001", subject="refund E20261120001")
    closed = tickets.note_refund_withdrawn(customer_id="C000005", conversation_id="r1", order_id="E20261120001",
                                           note="refund withdrawn by the customer while queued")
    assert closed is not None and closed.id == mine.ticket.id
    with seeded.begin() as s:
        row = s.get(Ticket, mine.ticket.id)
        assert row.status == "closed" and row.resolved_at is not None
        assert row.subject.endswith("refund withdrawn by the customer while queued")
        assert s.get(Ticket, other.ticket.id).status == "open"
    # nothing left to close
    assert tickets.note_refund_withdrawn(customer_id="C000005", conversation_id="r1", order_id="E20261120001",
                                         note="again") is None
