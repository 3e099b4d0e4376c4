"""action_cancel_task: a cancel ends whatever form is active (read from the domain), never the survey."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ActiveLoop, SlotSet
from sqlalchemy import select

from actions import names
from actions.repair import ActionCancelTask, form_slots
from desk.models import Feedback
from tests.utils.builders import responses

ZH = {names.LANGUAGE: "zh", names.CUSTOMER_ID: "C000005"}


def test_form_slots_come_from_the_domain(domain):
    assert form_slots(domain, "address_form") == ["order_id", "new_address", "address_confirmed"]
    assert form_slots({"forms": {"later_form": {"required_slots": ["a", "b"]}}}, "later_form") == ["a", "b"]
    assert form_slots({}, "nothing") == []


@pytest.mark.parametrize("form", ["address_form", "order_access_form"])
async def test_a_cancel_ends_the_active_form_and_clears_its_slots(tracker_factory, dispatcher, domain, form):
    tracker = tracker_factory(text="算了，不改了", intent="cancel", active_loop={"name": form},
                              slots={**ZH, names.REQUESTED_SLOT: form_slots(domain, form)[0]})
    events = await ActionCancelTask().run(dispatcher, tracker, domain)
    assert events[:2] == [ActiveLoop(None), SlotSet(names.REQUESTED_SLOT, None)]
    assert {e["name"] for e in events[2:]} == set(form_slots(domain, form))
    assert all(e["value"] is None for e in events[2:])
    assert responses(dispatcher) == [names.UTTER_TASK_CANCELLED]


async def test_a_form_added_later_is_covered_without_code(tracker_factory, dispatcher, domain):
    later = {**domain, "forms": {**domain["forms"], "invoice_form": {"required_slots": ["invoice_title"]}}}
    tracker = tracker_factory(text="never mind", intent="cancel", active_loop={"name": "invoice_form"})
    events = await ActionCancelTask().run(dispatcher, tracker, later)
    assert events == [ActiveLoop(None), SlotSet(names.REQUESTED_SLOT, None), SlotSet("invoice_title", None)]


async def test_outside_a_task_a_cancel_is_acknowledged_and_starts_nothing(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="算了", intent="cancel", slots=ZH)
    assert await ActionCancelTask().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_CANCEL_NOTED]


async def test_a_cancel_withdraws_an_offered_human(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="forget it", intent="cancel", slots={names.HUMAN_OFFERED: True})
    assert await ActionCancelTask().run(dispatcher, tracker, domain) == [SlotSet(names.HUMAN_OFFERED, False)]
    assert responses(dispatcher) == [names.UTTER_CANCEL_NOTED]


async def test_skipping_the_survey_is_accepted_politely(tracker_factory, dispatcher, domain, feedback_log, seeded):
    tracker = tracker_factory(text="不想评", intent="cancel", active_loop={"name": names.FEEDBACK_FORM},
                              slots={**ZH, names.REQUESTED_SLOT: names.FEEDBACK_RATING}, sender_id="skip")
    events = await ActionCancelTask(log=feedback_log).run(dispatcher, tracker, domain)
    assert events == [ActiveLoop(None), SlotSet(names.REQUESTED_SLOT, None), SlotSet(names.FEEDBACK_RATING, None),
                      SlotSet(names.FEEDBACK_COMMENT, None)]
    assert responses(dispatcher) == [names.UTTER_SURVEY_SKIPPED]
    with seeded.begin() as s:
        assert s.scalars(select(Feedback).where(Feedback.conversation_id == "skip")).all() == []


async def test_a_rating_given_before_a_cancel_is_kept(tracker_factory, dispatcher, domain, feedback_log, seeded):
    slots = {**ZH, names.REQUESTED_SLOT: names.FEEDBACK_COMMENT, names.FEEDBACK_RATING: "4"}
    tracker = tracker_factory(text="skip", intent="cancel", active_loop={"name": names.FEEDBACK_FORM}, slots=slots,
                              sender_id="rated-then-skip")
    events = await ActionCancelTask(log=feedback_log).run(dispatcher, tracker, domain)
    assert events[:3] == [ActiveLoop(None), SlotSet(names.REQUESTED_SLOT, None), SlotSet(names.FEEDBACK_COMMENT, "")]
    assert SlotSet(names.FEEDBACK_GIVEN, True) in events
    assert responses(dispatcher) == [names.UTTER_FEEDBACK_THANKS, names.UTTER_GOODBYE]
    with seeded.begin() as s:
        [row] = s.scalars(select(Feedback).where(Feedback.conversation_id == "rated-then-skip")).all()
        assert (row.rating, row.comment) == (4, None)


# --- a refused answer is asked again with the reason; the third refusal in a row offers a human ---

from actions.orders import ValidateAddressForm  # noqa: E402
from actions.repair import MAX_FAILED_TRIES, SLOT_FAILED_TRIES  # noqa: E402


def _address_turn(tracker_factory, text, tries=0.0):
    # the customer's line was taken as the new address this turn (from_text), the form is active
    return tracker_factory(
        text=text, intent="inform", active_loop={"name": "address_form"},
        slots={**ZH, names.IS_GUEST: False, names.ORDER_ID: "E20261120003", names.REQUESTED_SLOT: names.NEW_ADDRESS,
               SLOT_FAILED_TRIES: tries},
        events=[{"event": "action", "name": "address_form"}, {"event": "active_loop", "name": "address_form"}],
    )


def _with_new_address(tracker, value):
    tracker.events.append({"event": "slot", "name": names.NEW_ADDRESS, "value": value})
    tracker.slots[names.NEW_ADDRESS] = value
    return tracker


async def test_a_refused_answer_is_cleared_and_asked_again_with_the_reason(tracker_factory, dispatcher, domain):
    tracker = _with_new_address(_address_turn(tracker_factory, "嗯"), "嗯")
    events = await ValidateAddressForm().run(dispatcher, tracker, domain)
    assert SlotSet(names.NEW_ADDRESS, None) in events and SlotSet(SLOT_FAILED_TRIES, 1.0) in events
    assert responses(dispatcher) == [names.UTTER_ADDRESS_INVALID]
    assert SlotSet(names.HUMAN_OFFERED, True) not in events


async def test_the_third_refusal_in_a_row_ends_the_form_with_the_offer_of_a_human(tracker_factory, dispatcher, domain):
    tracker = _with_new_address(_address_turn(tracker_factory, "嗯", tries=MAX_FAILED_TRIES - 1), "嗯")
    events = await ValidateAddressForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_ADDRESS_INVALID, names.UTTER_OFFER_HUMAN]
    assert SlotSet(names.HUMAN_OFFERED, True) in events and SlotSet(names.OFFER_REASON, "bot_failure") in events
    assert events[-1] == SlotSet(names.REQUESTED_SLOT, None)  # the form ends
    assert SlotSet(SLOT_FAILED_TRIES, 0.0) in events and SlotSet(names.ADDRESS_BLOCKED, "tries") in events


async def test_an_accepted_answer_resets_the_count(tracker_factory, dispatcher, domain):
    address = "上海市浦东新区世纪大道100号2栋301室"
    tracker = _with_new_address(_address_turn(tracker_factory, address, tries=2.0), address)
    events = await ValidateAddressForm().run(dispatcher, tracker, domain)
    assert SlotSet(names.NEW_ADDRESS, address) in events and SlotSet(SLOT_FAILED_TRIES, 0.0) in events
    assert SlotSet(names.HUMAN_OFFERED, True) not in events


async def test_a_cancel_resets_the_count(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="算了", intent="cancel", active_loop={"name": "address_form"},
                              slots={**ZH, SLOT_FAILED_TRIES: 2.0})
    events = await ActionCancelTask().run(dispatcher, tracker, domain)
    assert SlotSet(SLOT_FAILED_TRIES, 0.0) in events


def test_the_action_server_registers_every_action_of_the_package():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")  # an abstract base such as RetryLimitedFormValidation is skipped
    assert {names.ACTION_CANCEL_TASK, names.VALIDATE_ADDRESS_FORM, names.VALIDATE_FEEDBACK_FORM} <= set(executor.actions)


# -- the second request of a two-part message ---------------------------------------------------------

SECOND = {"text": "let me talk to a human", "intent": {"name": "request_human", "confidence": 0.97},
          "entities": [], "response_selector": {}, "intent_ranking": [{"name": "request_human", "confidence": 0.97}]}


def test_the_second_request_is_read_from_the_parse_data():
    from actions.repair import second_request_of
    assert second_request_of({"second_request": SECOND}) == SECOND
    assert second_request_of({"second_request": {"text": "", "intent": {"name": "faq"}}}) is None
    assert second_request_of({"intent": {"name": "order_status"}}) is None


async def test_the_second_request_is_handed_back_as_the_customers_turn(tracker_factory, dispatcher, domain):
    from actions.repair import ActionSecondRequest
    tracker = tracker_factory(text="check my order and then let me talk to a human", intent="order_status",
                              slots={**ZH, names.SECOND_REQUEST: SECOND})
    events = await ActionSecondRequest().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_SECOND_REQUEST_NEXT]
    assert events[0] == SlotSet(names.SECOND_REQUEST, None)
    assert events[1]["event"] == "action" and events[1]["name"] == "action_listen"
    assert events[2]["event"] == "user" and events[2]["text"] == SECOND["text"]
    assert events[2]["parse_data"]["intent"]["name"] == "request_human"
    # the customer wrote it once, in the whole message: transcripts must not show the half again
    from desk.transcripts import SECOND_HALF
    assert events[2]["metadata"][SECOND_HALF] is True


async def test_nothing_waits_nothing_is_said(tracker_factory, dispatcher, domain):
    from actions.repair import ActionSecondRequest
    events = await ActionSecondRequest().run(dispatcher, tracker_factory(text="hi", slots=ZH), domain)
    assert events == [SlotSet(names.SECOND_REQUEST, None)] and responses(dispatcher) == []


async def test_a_cancel_drops_a_waiting_second_request(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="算了", intent="cancel", active_loop={"name": "address_form"},
                              slots={**ZH, names.REQUESTED_SLOT: "order_id", names.SECOND_REQUEST: SECOND})
    events = await ActionCancelTask().run(dispatcher, tracker, domain)
    assert SlotSet(names.SECOND_REQUEST, None) in events


async def test_beside_an_open_question_the_second_request_is_only_noted(tracker_factory, dispatcher, domain):
    from actions.repair import ActionSecondRequest
    tracker = tracker_factory(text="where is my order and then let me talk to a human", intent="order_status",
                              slots={**ZH, names.SECOND_REQUEST: SECOND},
                              events=[{"event": "bot", "text": "Which order?", "metadata": {"utter_action": names.UTTER_ASK_ORDER_ID}}])
    # the question comes after the customer's line in a real turn: put it there
    tracker.events.append(tracker.events.pop(-2))
    events = await ActionSecondRequest().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_SECOND_REQUEST_NOTED]
    assert events == [SlotSet(names.SECOND_REQUEST, {**SECOND, "noted": True})]
