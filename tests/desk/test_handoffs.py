"""HandoffQueue and the pure handoff helpers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from common.masking import mask_name
from desk.handoffs import HandoffQueue, SummaryFacts, build_summary, handoff_priority
from desk.models import Conversation, Handoff, HandoffReason


@pytest.mark.parametrize(
    "reason, tier, elderly, emotion, expected",
    [
        ("user_request", "vip", True, "anger", 1),
        ("refund", "vip", False, None, 1),
        ("user_request", "regular", True, "anger", 2),
        ("user_request", "gold", False, "anger", 3),
        ("refund", "regular", False, "anxiety", 3),
        ("negative_sentiment", None, False, None, 3),
        ("refund", "regular", False, "none", 4),
        (HandoffReason.REFUND, None, False, None, 4),
        ("user_request", "regular", False, None, 5),
        ("bot_failure", "silver", False, "none", 5),
        ("priority_customer", None, False, None, 5),
    ],
)
def test_handoff_priority(reason, tier, elderly, emotion, expected):
    assert handoff_priority(reason=reason, tier=tier, elderly=elderly, emotion=emotion) == expected


def test_handoff_priority_rejects_unknown_reason():
    with pytest.raises(ValueError):
        handoff_priority(reason="bored", tier=None, elderly=False, emotion=None)


def _facts(**kw):
    base = dict(language="zh", reason="refund", customer_name=mask_name("陈静"), tier="vip", segment="important_value",
                elderly=False, sentiment="negative", emotion="anger", trend="worsening", order_id="E20261120001",
                repeat_contacts=3)
    return SummaryFacts(**{**base, **kw})


@pytest.mark.parametrize(
    "language, reason_label, repeat",
    [("zh", "退款/退货", "近30天第3次联系此问题"), ("en", "refund/return", "Contact #3 about this issue in 30 days")],
)
def test_build_summary(language, reason_label, repeat):
    summary = build_summary(_facts(language=language))
    assert mask_name("陈静") in summary and "陈静" not in summary
    assert reason_label in summary
    assert repeat in summary
    assert "E20261120001" in summary


@pytest.mark.parametrize("count", [0, 1])
@pytest.mark.parametrize("language, marker", [("zh", "次联系"), ("en", "Contact #")])
def test_no_repeat_note_for_a_first_contact(language, marker, count):
    assert marker not in build_summary(_facts(language=language, repeat_contacts=count))


@pytest.mark.parametrize("language, guest", [("zh", "访客"), ("en", "Guest"), ("fr", "Guest")])
def test_guest_summary(language, guest):
    summary = build_summary(_facts(language=language, customer_name=None, tier=None, segment=None, order_id=None,
                                   emotion=None, sentiment=None, trend=None))
    assert summary.startswith(guest)
    assert "E2026" not in summary


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("reason", list(HandoffReason))
def test_summary_labels_every_reason(language, reason):
    import yaml

    from desk.handoffs import SUMMARY_FILE

    label = yaml.safe_load(SUMMARY_FILE.read_text(encoding="utf-8"))[language]["reason"][reason.value]
    assert label in build_summary(_facts(language=language, reason=reason.value))


def _enqueue(queue, conversation, priority=5, reason="user_request", summary="电话 13812341234"):
    return queue.enqueue(conversation_id=conversation, customer_id=None, channel="web", language="zh",
                         reason=reason, priority=priority, summary=summary, package={"k": 1})


def test_enqueue_is_idempotent_per_conversation(session_factory, clock):
    queue = HandoffQueue(session_factory, clock=clock)
    first = _enqueue(queue, "a")
    again = _enqueue(queue, "a", priority=1, reason="refund")
    assert first.created and not again.created
    assert again.id == first.id and again.priority == 5 and again.reason == "user_request"
    with session_factory.begin() as s:
        rows = s.scalars(select(Handoff)).all()
        assert len(rows) == 1 and rows[0].summary == "电话 138****1234"
        assert s.get(Conversation, "a").status == "queued"


def test_positions(session_factory, movable_clock):
    queue = HandoffQueue(session_factory, clock=movable_clock)
    assert _enqueue(queue, "r1").position == 1
    movable_clock.advance(minutes=1)
    assert _enqueue(queue, "r2").position == 2
    movable_clock.advance(minutes=1)
    assert _enqueue(queue, "vip", priority=1).position == 1
    assert _enqueue(queue, "r2").position == 3
    assert [h.conversation_id for h in queue.queued()] == ["vip", "r1", "r2"]
    assert queue.open_for("r1").conversation_id == "r1"
    assert queue.open_for("nobody") is None


def test_closed_handoff_allows_a_new_one(session_factory, clock):
    queue = HandoffQueue(session_factory, clock=clock)
    first = _enqueue(queue, "a")
    with session_factory.begin() as s:
        s.get(Handoff, first.id).status = "resolved"
    second = _enqueue(queue, "a")
    assert second.created and second.id != first.id
    assert [h.id for h in queue.for_conversation("a")] == [first.id, second.id]
