"""SLA: classes, due times and states on an injected clock, the report's aggregation, and the facts read
from the database (first agent line on a chat, first agent event on a ticket, VIP / elderly customers)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from desk import sla
from desk.handoffs import HandoffQueue, handoff_priority
from desk.models import Ticket
from desk.review import record_first_response
from desk.sla_store import SlaStore
from desk.ticket_inbox import TicketInbox, Viewer
from desk.tickets import TicketStore
from profiles.models import Customer

T0 = datetime(2026, 11, 16, 9, 0)  # a Monday
POLICY = sla.Policy.load()


def chat(sla_class="other", **kw):
    return sla.Item(kind="chat", id=1, sla_class=sla_class, created_at=T0, reason="refund", **kw)


# ------------------------------------------------------------------------------------ policy, classes
def test_the_shipped_policy_is_strictest_for_vip_and_has_every_class():
    assert set(sla.CLASSES) == {c for c, _ in POLICY.targets}
    vip, other = POLICY.of("vip", "chat"), POLICY.of("other", "chat")
    assert vip.first_response < other.first_response
    assert POLICY.of("vip", "ticket").resolution < POLICY.of("other", "ticket").resolution
    assert 0 < POLICY.warning_share < 1


def test_a_policy_without_a_class_or_with_a_zero_target_is_refused():
    raw = {"warning_share": 0.8, "classes": {c: {"chat": {"first_response_minutes": 1, "resolution_minutes": 2},
                                                 "ticket": {"first_response_hours": 1, "resolution_hours": 2}}
                                             for c in sla.CLASSES}}
    assert sla.Policy.from_dict(raw).of("vip", "chat").first_response == timedelta(minutes=1)
    broken = {**raw, "classes": {k: v for k, v in raw["classes"].items() if k != "elderly"}}
    with pytest.raises(ValueError):
        sla.Policy.from_dict(broken)
    zero = {**raw, "classes": {**raw["classes"], "vip": {"chat": {"first_response_minutes": 0,
                                                                   "resolution_minutes": 2},
                                                          "ticket": {"first_response_hours": 1,
                                                                     "resolution_hours": 2}}}}
    with pytest.raises(ValueError):
        sla.Policy.from_dict(zero)
    with pytest.raises(ValueError):
        sla.Policy.from_dict({**raw, "warning_share": 1.5})


@pytest.mark.parametrize("kw,expected", [
    (dict(reason="refund", tier="vip", elderly=True, emotion="anger"), "vip"),
    (dict(reason="refund", tier=None, elderly=True, emotion="anger"), "elderly"),
    (dict(reason="refund", tier=None, elderly=False, emotion="anger"), "upset"),
    (dict(reason="negative_sentiment", tier=None, elderly=False, emotion=None), "upset"),
    (dict(reason="refund", tier=None, elderly=False, emotion=None), "refund"),
    (dict(reason="user_request", tier="regular", elderly=False, emotion=None), "other"),
])
def test_a_handoff_class_follows_the_queue_priority(kw, expected):
    assert sla.classify_handoff(handoff_priority(**kw)) == expected


@pytest.mark.parametrize("kw,expected", [
    (dict(topic="refund", priority="medium", tier="vip", elderly=True), "vip"),
    (dict(topic="refund", priority="medium", tier="regular", elderly=True), "elderly"),
    (dict(topic="complaint", priority="medium", tier=None, elderly=False), "upset"),
    (dict(topic="feedback_followup", priority="medium", tier=None, elderly=False), "upset"),
    (dict(topic="order", priority="urgent", tier=None, elderly=False), "upset"),
    (dict(topic="payment", priority="medium", tier=None, elderly=False), "refund"),
    (dict(topic="refund", priority="low", tier=None, elderly=False), "refund"),
    (dict(topic="invoice", priority="medium", tier=None, elderly=False), "other"),
])
def test_a_ticket_class(kw, expected):
    assert sla.classify_ticket(**kw) == expected


# ------------------------------------------------------------------------------------ clocks
def test_a_waiting_chat_goes_ok_warning_breached_as_the_clock_moves():
    target = POLICY.of("vip", "chat").first_response  # 2 minutes
    item = chat("vip")
    at = lambda seconds: sla.evaluate(item, T0 + timedelta(seconds=seconds), POLICY)  # noqa: E731
    assert at(0).first_response.state == "ok"
    assert at(target.total_seconds() * 0.8 - 1).first_response.state == "ok"
    assert at(target.total_seconds() * 0.8).first_response.state == "warning"
    assert at(target.total_seconds()).first_response.state == "warning"  # due at, not yet past
    assert at(target.total_seconds() + 1).first_response.state == "breached"
    assert at(0).first_response.due_at == T0 + target
    assert at(0).current[0] == "first_response"
    assert at(target.total_seconds() + 1).current == ("first_response", at(target.total_seconds() + 1).first_response)


def test_answered_in_time_is_met_late_is_breached_and_then_the_resolution_counts():
    fr = POLICY.of("refund", "chat").first_response
    on_time = sla.evaluate(chat("refund", first_response_at=T0 + fr), T0 + timedelta(hours=5), POLICY)
    late = sla.evaluate(chat("refund", first_response_at=T0 + fr + timedelta(seconds=1)), T0 + fr * 2, POLICY)
    assert on_time.first_response.state == "met"
    assert late.first_response.state == "breached"
    assert late.current[0] == "resolution"
    assert on_time.resolution.state == "breached"  # still open five hours later
    assert on_time.state == "breached"


def test_a_chat_the_customer_left_before_the_target_is_void_not_breached():
    fr = POLICY.of("other", "chat").first_response
    left_early = sla.evaluate(chat(ended_at=T0 + fr / 2), T0 + timedelta(days=1), POLICY)
    left_late = sla.evaluate(chat(ended_at=T0 + fr * 2), T0 + timedelta(days=1), POLICY)
    assert (left_early.first_response.state, left_early.resolution.state) == ("void", "void")
    assert left_late.first_response.state == "breached"


def test_a_ticket_is_due_no_later_than_the_customer_was_told():
    promised = T0 + timedelta(hours=3)
    item = sla.Item(kind="ticket", id=1, sla_class="other", created_at=T0, reason="order", promised_at=promised)
    e = sla.evaluate(item, T0 + timedelta(hours=2, minutes=30), POLICY)
    assert e.resolution.due_at == promised
    assert e.resolution.state == "warning"  # 2.5 h of 3 h
    resolved = sla.Item(kind="ticket", id=2, sla_class="other", created_at=T0, reason="order",
                        resolved_at=T0 + timedelta(hours=1))
    done = sla.evaluate(resolved, T0 + timedelta(days=9), POLICY)
    assert done.first_response.state == "met"  # resolving is a response
    assert done.resolution.state == "met"


def test_live_fields_count_down_to_the_warning_and_the_breach():
    now = T0 + timedelta(seconds=30)
    fields = sla.live_fields(sla.evaluate(chat("vip"), now, POLICY), now)
    assert fields["sla_step"] == "first_response" and fields["sla_state"] == "ok"
    assert fields["sla_breach_in_s"] == 90
    assert fields["sla_warn_in_s"] == 96 - 30


# ------------------------------------------------------------------------------------ report
def test_the_report_counts_met_breached_and_running_per_group_and_in_total():
    fr = POLICY.of("other", "chat").first_response
    now = T0 + timedelta(days=8)
    items = [
        sla.Item(kind="chat", id=1, sla_class="other", created_at=T0, reason="refund", team="refunds", agent="a1",
                 first_response_at=T0 + fr / 2, resolved_at=T0 + timedelta(minutes=20)),
        sla.Item(kind="chat", id=2, sla_class="other", created_at=T0, reason="refund", team="refunds", agent="a2",
                 first_response_at=T0 + fr * 2, resolved_at=T0 + timedelta(hours=3)),
        sla.Item(kind="chat", id=3, sla_class="vip", created_at=T0 + timedelta(days=7), reason="user_request",
                 agent="a1"),
        sla.Item(kind="ticket", id=4, sla_class="upset", created_at=now - timedelta(minutes=1), reason="complaint",
                 team="complaints"),
    ]
    evaluated = [sla.evaluate(i, now, POLICY) for i in items]
    rows, total = sla.report(evaluated, "team")
    assert [r.value for r in rows] == ["complaints", "refunds", None]
    refunds = rows[1]
    assert (refunds.items, refunds.first_response.met, refunds.first_response.breached) == (2, 1, 1)
    assert (refunds.resolution.met, refunds.resolution.breached) == (1, 1)
    assert refunds.first_response.met_rate == 0.5
    assert rows[0].first_response.running == 1 and rows[0].first_response.met_rate is None
    assert (total.items, total.first_response.met, total.first_response.breached, total.first_response.running) \
        == (4, 1, 2, 1)
    by_agent, _ = sla.report(evaluated, "agent")
    assert [(r.value, r.items) for r in by_agent] == [("a1", 2), ("a2", 1), (None, 1)]
    by_week, _ = sla.report(evaluated, "week")
    assert [(r.value, r.items) for r in by_week] == [("2026-11-16", 2), ("2026-11-23", 2)]
    by_class, _ = sla.report(evaluated, "sla_class", sla.CLASSES)
    assert [r.value for r in by_class] == ["vip", "upset", "other"]
    with pytest.raises(ValueError):
        sla.report(evaluated, "colour")


# ------------------------------------------------------------------------------------ from the database
def test_store_reads_the_first_agent_line_of_a_chat(seeded, movable_clock):
    queue = HandoffQueue(seeded, clock=movable_clock)
    queued = queue.enqueue(conversation_id="web-sla-1", customer_id=None, channel="web", language="zh",
                           reason="refund", priority=1, summary="s", package={})
    store = SlaStore(seeded, clock=movable_clock)
    view = queue.get(queued.id)
    assert store.for_handoffs([view])[queued.id].first_response.state == "ok"
    movable_clock.advance(seconds=100)
    assert store.for_handoffs([view])[queued.id].first_response.state == "warning"
    queue.claim(queued.id, agent_id="agent1")
    record_first_response(seeded, queued.id, "agent1", movable_clock())
    e = store.for_handoffs([view])[queued.id]
    assert e.item.sla_class == "vip" and e.first_response.state == "met" and e.current[0] == "resolution"
    assert e.item.agent == "agent1" and e.item.team is None


def test_store_classes_tickets_by_customer_and_counts_the_first_claim(seeded, movable_clock):
    with seeded.begin() as session:
        vip = session.query(Customer).filter(Customer.tier == "vip").first().id
        old = session.query(Customer).filter(Customer.tier != "vip", Customer.birth_year.isnot(None),
                                             Customer.birth_year <= movable_clock().year - 70).first()
        assert old is not None  # the demo seed has elderly customers
        old_id = old.id
    tickets = TicketStore(seeded, clock=movable_clock)
    a = tickets.record_contact(customer_id=vip, conversation_id="sla-a", channel="web", topic="order", subject="x").ticket
    b = tickets.record_contact(customer_id=None, conversation_id="sla-b", channel="web", topic="refund",
                               subject="y").ticket
    store = SlaStore(seeded, clock=movable_clock)
    found = store.for_tickets([a.id, b.id])
    assert found[a.id].item.sla_class == "vip"
    assert found[b.id].item.sla_class == "refund"
    c = tickets.record_contact(customer_id=old_id, conversation_id="sla-c", channel="web", topic="order",
                               subject="z").ticket
    assert store.for_tickets([c.id])[c.id].item.sla_class == "elderly"
    movable_clock.advance(minutes=30)
    TicketInbox(seeded, clock=movable_clock).claim(b.id, Viewer("agent1", False))
    movable_clock.advance(hours=10)
    found = store.for_tickets([a.id, b.id])
    assert found[b.id].first_response.state == "met"
    assert found[b.id].first_response.done_at == movable_clock() - timedelta(hours=10)
    assert found[a.id].first_response.state == "breached"  # a VIP ticket nobody touched for 10.5 h
    with seeded.begin() as session:
        session.get(Ticket, b.id).team = "refunds"
    rows, _ = sla.report(store.evaluated(), "team")
    assert "refunds" in [r.value for r in rows]
