"""Feedback: the rating form's validators and logging the rating."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select

from actions import names
from actions.feedback import ActionLogFeedback, ValidateFeedbackForm
from desk.models import Feedback, Ticket
from tests.conftest import NOON
from tests.utils.builders import Unavailable, responses

CUSTOMER = {names.CUSTOMER_ID: "C000005", names.LANGUAGE: "zh", names.TONE: "neutral"}


@pytest.mark.parametrize(
    "value, expected",
    [("5", "5"), ("五星", "5"), ("4 stars", "4"), ("⭐⭐⭐", "3"), ("1分", "1"), ("10", None), ("abc", None),
     ("0", None), ("", None), (None, None), ("⭐⭐⭐⭐⭐⭐", None)],
)
async def test_validate_rating(tracker_factory, dispatcher, domain, value, expected):
    result = await ValidateFeedbackForm().validate_feedback_rating(value, dispatcher, tracker_factory(), domain)
    assert result == {names.FEEDBACK_RATING: expected}
    assert responses(dispatcher) == ([] if expected else [names.UTTER_RATING_INVALID])


@pytest.mark.parametrize(
    "value, intent, expected",
    [("不用了", "deny", ""), ("/deny", "deny", ""), ("/deny", None, ""), ("   ", "inform", ""), (None, None, ""),
     ("  客服很耐心  ", "inform", "客服很耐心"), ("x" * 3000, "inform", "x" * 2000)],
)
async def test_validate_comment(tracker_factory, dispatcher, domain, value, intent, expected):
    tracker = tracker_factory(text=value or "", intent=intent)
    result = await ValidateFeedbackForm().validate_feedback_comment(value, dispatcher, tracker, domain)
    assert result == {names.FEEDBACK_COMMENT: expected}
    assert dispatcher.messages == []


def _rows(seeded, conversation_id):
    with seeded.begin() as s:
        return s.scalars(select(Feedback).where(Feedback.conversation_id == conversation_id)).all()


async def test_top_rating_is_logged(tracker_factory, dispatcher, domain, feedback_log, seeded):
    tracker = tracker_factory(text="5", slots={**CUSTOMER, names.FEEDBACK_RATING: "5", names.FEEDBACK_COMMENT: ""},
                              sender_id="fb-5")
    events = await ActionLogFeedback(log=feedback_log).run(dispatcher, tracker, domain)
    assert events == [SlotSet(names.FEEDBACK_GIVEN, True)]
    assert responses(dispatcher) == [names.UTTER_FEEDBACK_THANKS, names.UTTER_GOODBYE]
    [row] = _rows(seeded, "fb-5")
    assert (row.rating, row.comment, row.customer_id, row.language, row.followup_ticket_id) == (5, None, "C000005", "zh", None)


async def test_low_rating_opens_a_masked_followup(tracker_factory, dispatcher, domain, feedback_log, seeded):
    slots = {**CUSTOMER, names.FEEDBACK_RATING: "2", names.FEEDBACK_COMMENT: "等了很久，请打我电话13812341234"}
    tracker = tracker_factory(text="2", slots=slots, sender_id="fb-2")
    await ActionLogFeedback(log=feedback_log).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_FEEDBACK_FOLLOWUP, names.UTTER_GOODBYE]
    [row] = _rows(seeded, "fb-2")
    assert row.comment == "等了很久，请打我电话138****1234"
    with seeded.begin() as s:
        ticket = s.get(Ticket, row.followup_ticket_id)
        assert ticket.topic == "feedback_followup" and ticket.priority == "high"
        assert abs(ticket.due_at - (NOON + timedelta(hours=24))) <= timedelta(minutes=1)
        assert "13812341234" not in ticket.subject


async def test_same_session_twice_is_one_row(tracker_factory, dispatcher, domain, feedback_log, seeded):
    action = ActionLogFeedback(log=feedback_log)
    for rating in ("4", "3"):
        tracker = tracker_factory(text=rating, slots={**CUSTOMER, names.FEEDBACK_RATING: rating}, sender_id="fb-twice")
        await action.run(dispatcher, tracker, domain)
    [row] = _rows(seeded, "fb-twice")
    assert row.rating == 3


async def test_new_session_is_a_new_row(tracker_factory, dispatcher, domain, feedback_log, seeded):
    action = ActionLogFeedback(log=feedback_log)
    for started in (1_700_000_000.0, 1_700_090_000.0):
        tracker = tracker_factory(slots={**CUSTOMER, names.FEEDBACK_RATING: "5"}, sender_id="fb-sessions",
                                  session_started_at=started)
        await action.run(dispatcher, tracker, domain)
    assert len(_rows(seeded, "fb-sessions")) == 2


async def test_feedback_after_handoff_is_keyed_by_handoff(tracker_factory, dispatcher, domain, feedback_log, seeded):
    action = ActionLogFeedback(log=feedback_log)
    for handoff_id in (None, 7.0):
        tracker = tracker_factory(slots={**CUSTOMER, names.FEEDBACK_RATING: "4", names.HANDOFF_ID: handoff_id},
                                  sender_id="fb-handoff")
        await action.run(dispatcher, tracker, domain)
    assert sorted((r.handoff_id or 0) for r in _rows(seeded, "fb-handoff")) == [0, 7]


async def test_already_given_only_says_goodbye(tracker_factory, dispatcher, domain, feedback_log, seeded):
    tracker = tracker_factory(slots={**CUSTOMER, names.FEEDBACK_GIVEN: True, names.FEEDBACK_RATING: "5"}, sender_id="fb-done")
    assert await ActionLogFeedback(log=feedback_log).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_GOODBYE]
    assert _rows(seeded, "fb-done") == []


async def test_declined_rating_says_goodbye_and_is_not_asked_again(tracker_factory, dispatcher, domain, feedback_log, seeded):
    tracker = tracker_factory(slots={**CUSTOMER, names.FEEDBACK_RATING: ""}, sender_id="fb-declined")
    events = await ActionLogFeedback(log=feedback_log).run(dispatcher, tracker, domain)
    assert events == [SlotSet(names.FEEDBACK_GIVEN, True)]
    assert responses(dispatcher) == [names.UTTER_GOODBYE]
    assert _rows(seeded, "fb-declined") == []


@pytest.mark.parametrize(("text", "intent"), [("不用了", "deny"), ("bye", "goodbye"), ("拜拜", "goodbye")])
async def test_declining_to_rate_ends_the_form(tracker_factory, dispatcher, domain, text, intent):
    tracker = tracker_factory(text=text, intent=intent)
    result = await ValidateFeedbackForm().validate_feedback_rating(text, dispatcher, tracker, domain)
    assert result == {names.FEEDBACK_RATING: "", names.FEEDBACK_COMMENT: ""}
    assert dispatcher.messages == []


async def test_log_unavailable(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(slots={**CUSTOMER, names.FEEDBACK_RATING: "5"})
    assert await ActionLogFeedback(log=Unavailable()).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]
