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
    [("5", "5"), ("五星", "5"), ("4 stars", "4"), ("⭐⭐⭐", "3"), ("1分", "1"), ("10", None), ("还凑合", None),
     ("0", None), ("", None), (None, None), ("⭐⭐⭐⭐⭐⭐", None)],
)
async def test_validate_rating(tracker_factory, dispatcher, domain, value, expected):
    tracker = tracker_factory(text=value or "", intent="rate_service")
    result = await ValidateFeedbackForm().validate_feedback_rating(value, dispatcher, tracker, domain)
    assert result == {names.FEEDBACK_RATING: expected}
    assert responses(dispatcher) == ([] if expected else [names.UTTER_RATING_INVALID])


@pytest.mark.parametrize(
    ("text", "intent"),
    [("我想注销账号", "faq"), ("退货政策是什么", "faq"), ("what data do you have about me?", "faq"),
     ("asdfgh", "nlu_fallback"), ("我要退款", "request_refund"), ("", None)],
)
async def test_a_reply_that_is_not_a_rating_ends_the_survey_unanswered(tracker_factory, dispatcher, domain, text, intent):
    tracker = tracker_factory(text=text, intent=intent)
    result = await ValidateFeedbackForm().validate_feedback_rating(text, dispatcher, tracker, domain)
    assert result == {names.FEEDBACK_RATING: "", names.FEEDBACK_COMMENT: ""}
    assert dispatcher.messages == []  # never "please reply with 1 to 5"


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


@pytest.mark.parametrize(
    ("text", "intent"),
    [("不用了", "deny"), ("bye", "goodbye"), ("拜拜", "goodbye"), ("不想评", "cancel"), ("skip", "cancel"),
     ("no thanks", "deny")],
)
async def test_declining_to_rate_ends_the_form(tracker_factory, dispatcher, domain, text, intent):
    tracker = tracker_factory(text=text, intent=intent)
    result = await ValidateFeedbackForm().validate_feedback_rating(text, dispatcher, tracker, domain)
    assert result == {names.FEEDBACK_RATING: "", names.FEEDBACK_COMMENT: ""}
    assert dispatcher.messages == []


async def test_log_unavailable(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(slots={**CUSTOMER, names.FEEDBACK_RATING: "5"})
    assert await ActionLogFeedback(log=Unavailable()).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]


# --- asked once per resolved conversation, recorded when asked ---


def _activating(tracker_factory, slots=None, sender_id="fb-ask", intent="goodbye"):
    # as Rasa sends it while the form activates: the loop is already active, no slot requested yet
    return tracker_factory(text="bye", intent=intent, slots={**CUSTOMER, **(slots or {})}, sender_id=sender_id,
                           active_loop={"name": names.FEEDBACK_FORM})


async def test_the_first_ask_is_recorded_not_answered(tracker_factory, dispatcher, domain, feedback_log, seeded):
    events = await ValidateFeedbackForm(log=feedback_log).run(dispatcher, _activating(tracker_factory), domain)
    assert SlotSet(names.FEEDBACK_ASKED, ["bot"]) in events
    assert SlotSet(names.REQUESTED_SLOT, None) not in events
    [row] = _rows(seeded, "fb-ask")
    assert (row.rating, row.handoff_id, row.customer_id) == (None, None, "C000005")


async def test_the_rating_fills_the_recorded_ask(tracker_factory, dispatcher, domain, feedback_log, seeded):
    await ValidateFeedbackForm(log=feedback_log).run(dispatcher, _activating(tracker_factory), domain)
    tracker = tracker_factory(text="4", slots={**CUSTOMER, names.FEEDBACK_RATING: "4", names.FEEDBACK_COMMENT: ""},
                              sender_id="fb-ask")
    await ActionLogFeedback(log=feedback_log).run(dispatcher, tracker, domain)
    [row] = _rows(seeded, "fb-ask")
    assert row.rating == 4


async def test_never_asked_twice_for_the_same_conversation(tracker_factory, dispatcher, domain, feedback_log, seeded):
    tracker = _activating(tracker_factory, slots={names.FEEDBACK_ASKED: ["bot"]})
    events = await ValidateFeedbackForm(log=feedback_log).run(dispatcher, tracker, domain)
    assert SlotSet(names.REQUESTED_SLOT, None) in events  # the form ends at once: no second ask
    assert not any(e.get("name") == names.FEEDBACK_ASKED for e in events)
    assert _rows(seeded, "fb-ask") == []
    assert dispatcher.messages == []


async def test_a_resolved_handoff_is_asked_once_more(tracker_factory, dispatcher, domain, feedback_log, seeded):
    tracker = _activating(tracker_factory, slots={names.FEEDBACK_ASKED: ["bot"], names.HANDOFF_ID: 7.0},
                          intent="EXTERNAL_conversation_resolved")
    events = await ValidateFeedbackForm(log=feedback_log).run(dispatcher, tracker, domain)
    assert SlotSet(names.FEEDBACK_ASKED, ["bot", "7"]) in events
    assert SlotSet(names.REQUESTED_SLOT, None) not in events
    [row] = _rows(seeded, "fb-ask")
    assert (row.rating, row.handoff_id) == (None, 7)


async def test_inside_the_survey_nothing_more_is_recorded(tracker_factory, dispatcher, domain, feedback_log, seeded):
    tracker = tracker_factory(text="5", intent="rate_service", slots={**CUSTOMER, names.FEEDBACK_ASKED: ["bot"],
                              names.REQUESTED_SLOT: names.FEEDBACK_RATING, names.FEEDBACK_RATING: "5"},
                              sender_id="fb-ask", active_loop={"name": names.FEEDBACK_FORM})
    events = await ValidateFeedbackForm(log=feedback_log).run(dispatcher, tracker, domain)
    assert not any(e.get("name") == names.FEEDBACK_ASKED for e in events)
    assert _rows(seeded, "fb-ask") == []


async def test_the_ask_is_made_while_the_store_is_down(tracker_factory, dispatcher, domain):
    events = await ValidateFeedbackForm(log=Unavailable()).run(dispatcher, _activating(tracker_factory), domain)
    assert SlotSet(names.FEEDBACK_ASKED, ["bot"]) in events


def test_the_comment_question_thanks_for_the_rating_first(domain):
    """The reply to a score is the comment question: it thanks the customer for the score before asking more."""
    variants = domain["responses"]["utter_ask_feedback_comment"]
    assert variants
    for variant in variants:
        text = variant["text"]
        thanks = "谢谢" in text or "感谢" in text if "zh" in str(variant.get("condition")) else "thank" in text.lower()
        assert thanks, text
