"""FeedbackLog and parse_rating."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from desk.errors import InvalidFeedback
from desk.feedback import FeedbackLog, parse_rating
from desk.models import Feedback, Ticket


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5", 5), ("1", 1), (" 3 ", 3), ("五星", 5), ("三分", 3), ("两颗星", 2), ("五", 5), ("4 stars", 4),
        ("I'd give it a 5", 5), ("four", 4), ("⭐⭐⭐", 3), ("★★", 2), ("5分", 5), ("给5星", 5),
        ("10", None), ("0", None), ("6", None), ("abc", None), ("", None), ("   ", None), (None, None),
        ("⭐⭐⭐⭐⭐⭐", None), ("100", None), ("-", None),
    ],
)
def test_parse_rating(text, expected):
    assert parse_rating(text) == expected


@pytest.fixture
def log(session_factory, clock) -> FeedbackLog:
    return FeedbackLog(session_factory, low_threshold=2, followup_due=timedelta(hours=24), clock=clock)


def _record(log, rating, key="k1", comment=None):
    return log.record(conversation_id="c", customer_id="C1", channel="web", language="zh", tone="neutral",
                      rating=rating, comment=comment, idempotency_key=key)


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, "5", None])
def test_rejects_out_of_range(log, session_factory, rating):
    with pytest.raises(InvalidFeedback):
        _record(log, rating)
    with session_factory.begin() as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 0


def test_invalid_feedback_is_a_value_error():
    assert issubclass(InvalidFeedback, ValueError)


def test_idempotency_key_upserts(log, session_factory):
    first = _record(log, 4, comment="好")
    second = _record(log, 5)
    assert first.created and not second.created
    assert second.id == first.id and second.rating == 5 and second.comment == "好"
    third = _record(log, 3, key="k2")
    assert third.created and third.id != first.id
    with session_factory.begin() as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 2


def test_low_rating_opens_one_followup(log, session_factory, clock):
    first = _record(log, 1, comment="太慢了 13812341234")
    assert first.comment == "太慢了 138****1234"
    again = _record(log, 2)
    assert again.followup_ticket_id == first.followup_ticket_id
    with session_factory.begin() as s:
        [ticket] = s.scalars(select(Ticket)).all()
        assert ticket.due_at == clock() + timedelta(hours=24)
        assert ticket.topic == "feedback_followup"


@pytest.mark.parametrize("rating, followup", [(1, True), (2, True), (3, False), (5, False)])
def test_followup_threshold(log, rating, followup):
    assert (_record(log, rating).followup_ticket_id is not None) is followup


def test_blank_comment_is_none(log):
    assert _record(log, 5, comment="   ").comment is None
    assert len(_record(log, 5, key="long", comment="x" * 5000).comment) == 2000


# --- an ask is recorded when the survey is asked: not answered until a rating comes (response rate) ---


def _ask(log, key="k1", handoff_id=None):
    return log.record_ask(conversation_id="c", customer_id="C1", channel="web", language="zh", tone="neutral",
                          idempotency_key=key, handoff_id=handoff_id)


def test_an_ask_is_stored_unanswered_and_the_rating_fills_the_same_row(log, session_factory):
    asked = _ask(log)
    assert asked.created and asked.rating is None and asked.followup_ticket_id is None
    rated = _record(log, 5)
    assert not rated.created and rated.id == asked.id and rated.rating == 5
    with session_factory.begin() as s:
        assert [(f.rating, f.idempotency_key) for f in s.scalars(select(Feedback))] == [(5, "k1")]


def test_asking_again_keeps_one_row_and_never_clears_a_rating(log, session_factory):
    _ask(log)
    again = _ask(log)
    assert not again.created and again.rating is None
    _record(log, 2)
    after = _ask(log)
    assert after.rating == 2
    with session_factory.begin() as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 1
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1  # the low score's follow-up, once


def test_unanswered_asks_count_as_requests_not_as_ratings(log, session_factory, clock):
    from desk.conversations import ConversationLog
    from desk.review import ReviewStore
    from profiles.vault import PiiVault

    ConversationLog(session_factory, clock=clock).touch(conversation_id="c", channel="web", customer_id="C1",
                                                       language="zh")
    _ask(log, key="bot")
    _ask(log, key="h7", handoff_id=7)
    _record(log, 4, key="h7")
    store = ReviewStore(session_factory, vault=PiiVault(session_factory, secret="k" * 32), clock=clock)
    [record] = store.sessions_of("c")
    assert record.ratings == (4,) and record.rating_requests == 2
