"""Orders: where is my order, and the address form (validation and the change itself)."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select

from actions import names
from actions.orders import (
    ActionAskOrderId,
    ActionChangeAddress,
    ActionCheckOrder,
    ValidateAddressForm,
    asks_where_order_is,
    looks_like_address,
)
from actions.repair import SLOT_FAILED_TRIES
from desk.models import Ticket, TicketContact
from profiles.models import Order
from tests.utils.builders import Unavailable, message, responses, slot_events

VIP = {names.CUSTOMER_ID: "C000001", names.TIER: "vip", names.SEGMENT: "important_value", names.IS_GUEST: False,
       names.LANGUAGE: "zh", names.PERSONALIZED: True}  # fmt: skip
REGULAR = {names.CUSTOMER_ID: "C000005", names.TIER: "regular", names.SEGMENT: "potential", names.IS_GUEST: False,
           names.LANGUAGE: "zh", names.PERSONALIZED: True}  # fmt: skip
GUEST = {names.IS_GUEST: True, names.SEGMENT: "guest"}
UNKNOWN_ORDER = "E20990101001"


def _order(store, customer_id: str, status: str):
    return next(o for o in store.recent_orders(customer_id, limit=20) if o.status == status)


# -- ActionCheckOrder --------------------------------------------------------------------------


@pytest.mark.parametrize("language, carrier", [("zh", "顺丰速运"), ("en", "SF Express")])
async def test_shipped_order_status(tracker_factory, dispatcher, domain, store, tickets, language, carrier):
    order = _order(store, "C000001", "shipped")
    tracker = tracker_factory(text=f"订单{order.order_id}到哪了", intent="order_status",
                              slots={**VIP, names.LANGUAGE: language, names.ORDER_ID: order.order_id})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert events == [SlotSet(names.ORDER_ID, order.order_id)]
    assert responses(dispatcher) == ["utter_order_status_shipped"]
    msg = dispatcher.messages[0]
    assert msg["carrier"] == carrier
    assert msg["tracking_no"] == order.tracking_no and order.tracking_no
    assert msg["order_id"] == order.order_id
    assert msg["shipped_date"] == order.shipped_at.strftime("%Y-%m-%d")
    assert msg["eta"] == order.eta.strftime("%Y-%m-%d")
    assert msg["delivered_date"] == "-"


async def test_someone_elses_order_reveals_nothing(tracker_factory, dispatcher, domain, store, tickets):
    order = _order(store, "C000005", "shipped")
    tracker = tracker_factory(text=f"where is {order.order_id}", slots={**VIP, names.ORDER_ID: order.order_id})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert events == [SlotSet(names.ORDER_ID, None)]
    assert responses(dispatcher) == [names.UTTER_ORDER_OTHER_ACCOUNT]
    assert set(dispatcher.messages[0]) & {"tracking_no", "carrier", "eta"} == set()


async def test_a_guest_sees_a_masked_tracking_number(tracker_factory, dispatcher, domain, store, tickets):
    order = _order(store, "C000001", "shipped")
    # once the guest proved the order (actions/order_access.py; tests/security/test_order_access.py)
    slots = {**GUEST, names.ORDER_ID: order.order_id, "order_access_granted": [order.order_id]}
    tracker = tracker_factory(text=order.order_id, intent="inform", slots=slots)
    await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    shown = message(dispatcher, "utter_order_status_shipped")["tracking_no"]
    assert shown != order.tracking_no and shown[:3] == order.tracking_no[:3] and shown[-4:] == order.tracking_no[-4:]
    assert "*" in shown


async def test_order_number_without_e_is_normalised(tracker_factory, dispatcher, domain, store, tickets):
    order = _order(store, "C000001", "processing")
    tracker = tracker_factory(text="查订单", slots={**VIP, names.ORDER_ID: order.order_id[1:].lower()})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert SlotSet(names.ORDER_ID, order.order_id) in events
    msg = message(dispatcher, "utter_order_status_processing")
    assert msg["carrier"] == "-" and msg["tracking_no"] == "-"


async def test_unknown_order(tracker_factory, dispatcher, domain, store, tickets):
    tracker = tracker_factory(text=UNKNOWN_ORDER, intent="inform", slots={**VIP, names.ORDER_ID: UNKNOWN_ORDER})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert events == [SlotSet(names.ORDER_ID, None), SlotSet(SLOT_FAILED_TRIES, 1.0)]
    assert responses(dispatcher) == [names.UTTER_ORDER_NOT_FOUND]
    assert dispatcher.messages[0]["order_id"] == UNKNOWN_ORDER


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [("order five", "rate_service", {}), ("E123", "inform", {}), ("no idea", "nlu_fallback", {}),
     (UNKNOWN_ORDER, "inform", {names.ORDER_ID: UNKNOWN_ORDER})],
)
async def test_the_third_answer_without_a_known_order_offers_a_human(
    tracker_factory, dispatcher, domain, store, tickets, text, intent, slots
):
    """A failed lookup never ends the conversation (no goodbye, no survey): it asks again, then offers a human."""
    tracker = tracker_factory(text=text, intent=intent, slots={**GUEST, SLOT_FAILED_TRIES: 2.0, **slots})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert names.UTTER_OFFER_HUMAN in responses(dispatcher)
    assert names.UTTER_GOODBYE not in responses(dispatcher)
    assert SlotSet(names.HUMAN_OFFERED, True) in events and SlotSet(SLOT_FAILED_TRIES, 0.0) in events


async def test_an_answer_without_an_order_number_is_asked_again_and_counted(
    tracker_factory, dispatcher, domain, store, tickets
):
    tracker = tracker_factory(text="order five", intent="rate_service", slots={**GUEST, SLOT_FAILED_TRIES: 1.0})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_ASK_ORDER_ID]
    assert events == [SlotSet(names.ORDER_ID, None), SlotSet(SLOT_FAILED_TRIES, 2.0)]


async def test_a_found_order_resets_the_count(tracker_factory, dispatcher, domain, store, tickets):
    order_id = store.recent_orders("C000001")[0].order_id
    tracker = tracker_factory(text=order_id, intent="inform",
                              slots={**VIP, names.ORDER_ID: order_id, SLOT_FAILED_TRIES: 2.0})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert SlotSet(SLOT_FAILED_TRIES, 0.0) in events


async def test_no_number_offers_recent_orders(tracker_factory, dispatcher, domain, store, tickets):
    recent = [o.order_id for o in store.recent_orders("C000001")]
    tracker = tracker_factory(text="我的订单到哪了", intent="order_status",
                              slots={**VIP, names.RECENT_ORDER_IDS: recent})
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert events == [SlotSet(names.ORDER_ID, None)]
    msg = message(dispatcher, names.UTTER_ASK_ORDER_ID_WITH_RECENT)
    assert [b["payload"] for b in msg["buttons"]] == [f'/inform{{"order_id":"{o}"}}' for o in recent]
    assert [b["title"] for b in msg["buttons"]] == recent


async def test_no_number_no_recent(tracker_factory, dispatcher, domain, store, tickets):
    tracker = tracker_factory(text="where is my order", intent="order_status", slots=GUEST)
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert events == [SlotSet(names.ORDER_ID, None)]
    assert responses(dispatcher) == [names.UTTER_ASK_ORDER_ID]
    assert "buttons" not in dispatcher.messages[0] or not dispatcher.messages[0]["buttons"]


@pytest.mark.parametrize("recent, expected", [(["E20261117001", None, "E20261119001"], 2), ([], 0)])
async def test_ask_order_id_action(tracker_factory, dispatcher, domain, recent, expected):
    tracker = tracker_factory(slots={names.RECENT_ORDER_IDS: recent})
    assert await ActionAskOrderId().run(dispatcher, tracker, domain) == []
    assert len(dispatcher.messages[0].get("buttons") or []) == expected


async def test_anxious_customer_is_offered_a_human_and_a_ticket_kept(
    tracker_factory, dispatcher, domain, store, tickets, seeded
):
    order = _order(store, "C000005", "shipped")
    slots = {**REGULAR, names.ORDER_ID: order.order_id, names.EMOTION: "anxiety", names.SENTIMENT: "negative",
             names.TREND: "worsening", names.SENTIMENT_HISTORY: [0.0, -0.66], names.TONE: "empathetic"}
    tracker = tracker_factory(text="急死了，三天了还没到，电话13812341234", intent="complain",
                              slots=slots, sender_id="conv-anxious")
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_TONE_OPENER, "utter_order_status_shipped", names.UTTER_OFFER_HUMAN]
    assert SlotSet(names.HUMAN_OFFERED, True) in events
    assert SlotSet(names.OFFER_REASON, "negative_sentiment") in events
    with seeded.begin() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.conversation_id == "conv-anxious")).one()
        assert (ticket.topic, ticket.order_id, ticket.customer_id) == ("order", order.order_id, "C000005")
        assert "13812341234" not in ticket.subject and "138****1234" in ticket.subject
        assert s.scalars(select(TicketContact).where(TicketContact.ticket_id == ticket.id)).all()
    assert SlotSet(names.TICKET_ID, float(ticket.id)) in events


async def test_calm_customer_is_not_offered_a_human(tracker_factory, dispatcher, domain, store, tickets, seeded):
    order = _order(store, "C000005", "shipped")
    tracker = tracker_factory(text="到哪了", slots={**REGULAR, names.ORDER_ID: order.order_id,
                                                  names.EMOTION: "none", names.SENTIMENT: "neutral"},
                              sender_id="conv-calm")
    events = await ActionCheckOrder(store=store, tickets=tickets).run(dispatcher, tracker, domain)
    assert names.HUMAN_OFFERED not in slot_events(events)
    with seeded.begin() as s:
        assert s.scalars(select(Ticket).where(Ticket.conversation_id == "conv-calm")).first() is None


async def test_order_lookup_unavailable(tracker_factory, dispatcher, domain, tickets):
    tracker = tracker_factory(text="E20261117001", slots={**VIP, names.ORDER_ID: "E20261117001"})
    events = await ActionCheckOrder(store=Unavailable(), tickets=tickets).run(dispatcher, tracker, domain)
    assert events == []
    assert responses(dispatcher) == [names.UTTER_ORDER_STATUS_UNAVAILABLE]


async def test_ticket_store_down_still_answers_and_offers(tracker_factory, dispatcher, domain, store):
    order = _order(store, "C000001", "shipped")
    slots = {**VIP, names.ORDER_ID: order.order_id, names.EMOTION: "anger", names.SENTIMENT: "negative"}
    events = await ActionCheckOrder(store=store, tickets=Unavailable()).run(
        dispatcher, tracker_factory(text="气死了", slots=slots), domain
    )
    assert responses(dispatcher)[-2:] == ["utter_order_status_shipped", names.UTTER_OFFER_HUMAN]
    assert names.TICKET_ID not in slot_events(events)


# -- ValidateAddressForm -----------------------------------------------------------------------


async def test_own_processing_order_is_accepted(tracker_factory, dispatcher, domain, store):
    order = _order(store, "C000001", "processing")
    result = await ValidateAddressForm(store=store).validate_order_id(
        order.order_id, dispatcher, tracker_factory(slots=VIP), domain
    )
    assert result == {names.ORDER_ID: order.order_id}
    assert dispatcher.messages == []


@pytest.mark.parametrize("status", ["shipped", "delivered"])
async def test_locked_order(tracker_factory, dispatcher, domain, store, status):
    # C000017: no order whose address could still change, so the form ends
    order = _order(store, "C000017", status)
    result = await ValidateAddressForm(store=store).validate_order_id(
        order.order_id, dispatcher, tracker_factory(slots={**VIP, names.CUSTOMER_ID: "C000017"}), domain
    )
    assert result == {names.ORDER_ID: order.order_id, names.ADDRESS_BLOCKED: status}
    assert responses(dispatcher) == [f"utter_address_locked_{status}"]
    assert dispatcher.messages[0]["carrier"] == "顺丰速运"


async def test_cancelled_order_is_locked(tracker_factory, dispatcher, domain, store):
    order = _order(store, "C000014", "cancelled")
    result = await ValidateAddressForm(store=store).validate_order_id(
        order.order_id, dispatcher, tracker_factory(slots={**REGULAR, names.CUSTOMER_ID: "C000014"}), domain
    )
    assert result[names.ADDRESS_BLOCKED] == "cancelled"
    assert responses(dispatcher) == ["utter_address_locked_cancelled"]


async def test_other_customers_order(tracker_factory, dispatcher, domain, store):
    order = _order(store, "C000005", "shipped")
    result = await ValidateAddressForm(store=store).validate_order_id(
        order.order_id, dispatcher, tracker_factory(slots={**VIP, names.CUSTOMER_ID: "C000002"}), domain
    )
    assert result == {names.ORDER_ID: order.order_id, names.ADDRESS_BLOCKED: "other_account"}
    assert responses(dispatcher) == [names.UTTER_ADDRESS_OTHER_ACCOUNT]
    assert "status" not in dispatcher.messages[0] and "carrier" not in dispatcher.messages[0]


@pytest.mark.parametrize(("owner", "status", "said"), [
    ("C000001", "delivered", "utter_address_locked_delivered"),
    ("C000005", "shipped", names.UTTER_ADDRESS_OTHER_ACCOUNT),
])
async def test_a_blocked_order_asks_again_when_another_can_change(
    tracker_factory, dispatcher, domain, store, owner, status, said
):
    """The customer has an order whose address can still change: the form stays and asks which one, so
    "不对，是 E2026…" corrects the number instead of starting an order lookup."""
    assert any(o.address_changeable for o in store.recent_orders("C000001", 10))
    order = _order(store, owner, status)
    result = await ValidateAddressForm(store=store).validate_order_id(
        order.order_id, dispatcher, tracker_factory(slots={**VIP, names.CUSTOMER_ID: "C000001"}), domain
    )
    assert result == {names.ORDER_ID: None}
    assert responses(dispatcher) == [said]


@pytest.mark.parametrize("value, said", [("随便", []), (UNKNOWN_ORDER, [names.UTTER_ORDER_NOT_FOUND]), (None, [])])
async def test_order_id_rejected(tracker_factory, dispatcher, domain, store, value, said):
    """The form asks for the number again itself (action_ask_order_id): the validator never asks a second time."""
    result = await ValidateAddressForm(store=store).validate_order_id(value, dispatcher, tracker_factory(slots=VIP), domain)
    assert result == {names.ORDER_ID: None}
    assert responses(dispatcher) == said


@pytest.mark.parametrize(
    ("recent", "expected"),
    [([], names.UTTER_ASK_ORDER_ID_FOR_ADDRESS), (["E20261120001"], names.UTTER_ASK_ORDER_ID_WITH_RECENT_FOR_ADDRESS)],
)
async def test_the_address_form_asks_which_orders_address(tracker_factory, dispatcher, domain, recent, expected):
    """Inside the address change the question says what it is for ("which order's delivery address?")."""
    tracker = tracker_factory(text="chnage my adress", intent="change_address",
                              slots={**VIP, names.RECENT_ORDER_IDS: recent}, active_loop={"name": names.ADDRESS_FORM})
    await ActionAskOrderId().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [expected]
    for variant in domain["responses"][expected]:
        assert "地址" in variant["text"] or "address" in variant["text"]


async def test_order_id_store_down(tracker_factory, dispatcher, domain):
    result = await ValidateAddressForm(store=Unavailable()).validate_order_id(
        "E20261119001", dispatcher, tracker_factory(slots=VIP), domain
    )
    assert result == {names.ORDER_ID: "E20261119001", names.ADDRESS_BLOCKED: "unavailable"}
    assert responses(dispatcher) == [names.UTTER_ORDER_STATUS_UNAVAILABLE]


@pytest.mark.parametrize(
    "slots, expected",
    [(GUEST, []), ({**VIP, names.ADDRESS_BLOCKED: "shipped"}, []),
     (VIP, [names.ORDER_ID, names.NEW_ADDRESS, names.ADDRESS_CONFIRMED])],
    ids=["guest", "blocked", "customer"],
)
async def test_required_slots(tracker_factory, dispatcher, domain, store, slots, expected):
    form_slots = list(domain["forms"]["address_form"]["required_slots"])
    result = await ValidateAddressForm(store=store).required_slots(form_slots, dispatcher, tracker_factory(slots=slots), domain)
    assert result == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("上海市浦东新区世纪大道100号", "上海市浦东新区世纪大道100号"),
        ("  北京市朝阳区\n建国路 88 号  ", "北京市朝阳区 建国路 88 号"),
        ("221B Baker Street, London", "221B Baker Street, London"),
        ("Room 5, 100 Century Avenue, Shanghai", "Room 5, 100 Century Avenue, Shanghai"),
        ("上海", None),
        ("Main Street", None),  # letters but no number
        ("😀😀😀😀😀😀😀😀", None),
        ("上" * 5000, None),
        ("/deny", None),
        ("", None),
        (None, None),
    ],
    ids=["zh", "zh-whitespace", "en", "en-long", "too-short", "no-number", "emoji", "5000-chars", "deny", "empty", "none"],
)
async def test_validate_new_address(tracker_factory, dispatcher, domain, store, value, expected):
    result = await ValidateAddressForm(store=store).validate_new_address(value, dispatcher, tracker_factory(slots=VIP), domain)
    assert result == {names.NEW_ADDRESS: expected}
    assert responses(dispatcher) == ([] if expected else [names.UTTER_ADDRESS_INVALID])


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (None, None)])
async def test_validate_address_confirmed(tracker_factory, dispatcher, domain, store, value, expected):
    result = await ValidateAddressForm(store=store).validate_address_confirmed(value, dispatcher, tracker_factory(), domain)
    assert result == {names.ADDRESS_CONFIRMED: expected}


# -- ActionChangeAddress -----------------------------------------------------------------------

RESET = [SlotSet(names.NEW_ADDRESS, None), SlotSet(names.ADDRESS_CONFIRMED, None), SlotSet(names.ADDRESS_BLOCKED, None)]
NEW_ADDRESS = "上海市徐汇区淮海中路999号 电话13812341234"


def _address(seeded, order_id: str) -> str:
    with seeded.begin() as s:
        return s.get(Order, order_id).address


async def test_confirmed_change_is_saved(tracker_factory, dispatcher, domain, store, seeded):
    order = _order(store, "C000001", "processing")
    tracker = tracker_factory(intent="affirm", slots={**VIP, names.ORDER_ID: order.order_id,
                                                      names.NEW_ADDRESS: NEW_ADDRESS, names.ADDRESS_CONFIRMED: True})
    events = await ActionChangeAddress(store=store).run(dispatcher, tracker, domain)
    assert events == RESET
    stored = _address(seeded, order.order_id)
    assert stored == "上海市徐汇区淮海中路999号 电话138****1234"
    msg = message(dispatcher, names.UTTER_ADDRESS_CHANGED)
    assert (msg["order_id"], msg["new_address"]) == (order.order_id, stored)


async def test_not_confirmed_keeps_address(tracker_factory, dispatcher, domain, store, seeded):
    order = _order(store, "C000001", "processing")
    tracker = tracker_factory(intent="deny", slots={**VIP, names.ORDER_ID: order.order_id,
                                                    names.NEW_ADDRESS: NEW_ADDRESS, names.ADDRESS_CONFIRMED: False})
    assert await ActionChangeAddress(store=store).run(dispatcher, tracker, domain) == RESET
    assert responses(dispatcher) == [names.UTTER_ADDRESS_KEPT]
    assert _address(seeded, order.order_id) == order.address


async def test_i_dont_know_after_two_refused_numbers_offers_a_human(tracker_factory, dispatcher, domain, store):
    """"不知道" as the third answer without an order number: the address stays and a person is offered."""
    tracker = tracker_factory(text="不知道", intent="deny", slots={**VIP, SLOT_FAILED_TRIES: 2.0})
    events = await ActionChangeAddress(store=store).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [names.UTTER_ADDRESS_KEPT, names.UTTER_OFFER_HUMAN]
    assert SlotSet(names.HUMAN_OFFERED, True) in events and SlotSet(SLOT_FAILED_TRIES, 0.0) in events


async def test_guest_is_asked_to_sign_in(tracker_factory, dispatcher, domain, store):
    tracker = tracker_factory(slots={**GUEST, names.ADDRESS_CONFIRMED: True, names.NEW_ADDRESS: NEW_ADDRESS})
    assert await ActionChangeAddress(store=store).run(dispatcher, tracker, domain) == RESET
    assert responses(dispatcher) == [names.UTTER_ADDRESS_SIGN_IN]


async def test_blocked_says_nothing_more(tracker_factory, dispatcher, domain, store):
    tracker = tracker_factory(slots={**VIP, names.ADDRESS_BLOCKED: "shipped"})
    assert await ActionChangeAddress(store=store).run(dispatcher, tracker, domain) == RESET
    assert dispatcher.messages == []


async def test_shipped_while_talking(tracker_factory, dispatcher, domain, store, seeded):
    order = _order(store, "C000001", "shipped")
    tracker = tracker_factory(slots={**VIP, names.ORDER_ID: order.order_id, names.NEW_ADDRESS: NEW_ADDRESS,
                                     names.ADDRESS_CONFIRMED: True})
    assert await ActionChangeAddress(store=store).run(dispatcher, tracker, domain) == RESET
    assert responses(dispatcher) == ["utter_address_locked_shipped"]
    assert _address(seeded, order.order_id) == order.address


async def test_someone_elses_order_is_not_changed(tracker_factory, dispatcher, domain, store, seeded):
    order = _order(store, "C000005", "paid")
    tracker = tracker_factory(slots={**VIP, names.ORDER_ID: order.order_id, names.NEW_ADDRESS: NEW_ADDRESS,
                                     names.ADDRESS_CONFIRMED: True})
    assert await ActionChangeAddress(store=store).run(dispatcher, tracker, domain) == RESET
    assert responses(dispatcher) == [names.UTTER_ADDRESS_OTHER_ACCOUNT]
    assert _address(seeded, order.order_id) == order.address


async def test_change_store_down(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(slots={**VIP, names.ORDER_ID: "E20261119001", names.NEW_ADDRESS: NEW_ADDRESS,
                                     names.ADDRESS_CONFIRMED: True})
    assert await ActionChangeAddress(store=Unavailable()).run(dispatcher, tracker, domain) == RESET
    assert responses(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("上海市浦东新区世纪大道100号", True),
        ("浙江省杭州市", True),
        ("221B Baker Street", True),
        ("12 Main St", True),
        ("上海市", False),
        ("Baker Street", False),
        ("123456", False),
        ("/affirm", False),
        ("/inform 上海市浦东新区", False),
        ("a1", False),
        ("好" * 201, False),
        ("好" * 200, True),
        ("   ", False),
        ("", False),
        (None, False),
        ("🏠🏠🏠🏠🏠🏠", False),
    ],
)
def test_looks_like_address(text, expected):
    assert looks_like_address(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的快递怎么还没到啊", True),
        ("where's my parcel??", True),
        # a status question is a question about the order, however upset the words around it
        ("I'm really upset. What's the status of E20261120001?", True),
        ("what is the status of my order", True),
        ("order status please, this is ridiculous", True),
        ("我很生气，订单E20261120001现在什么状态？", True),
        ("我的订单现在是什么进度", True),
        # not about an order's whereabouts
        ("your service is terrible", False),
        ("what's the status of my ticket?", False),
        ("我的退款工单处理到哪一步了", False),
    ],
)
def test_asks_where_order_is(text, expected):
    assert asks_where_order_is(text) is expected
