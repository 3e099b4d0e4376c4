"""Offers said in the conversation (real stores on the demo seed): welcome back, points boost, onboarding
hint, the retention path, and the declared accessibility need."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from actions import names
from actions.offers import ActionAskAccessibility, ActionRecordAccessibility, ActionRetention, offer_arm
from actions.session import ActionGreet
from profiles.models import ConsentChange, Offer
from tests.utils.builders import responses, slot_events

AT_RISK_HIGH = {names.CUSTOMER_ID: "C000003", names.CUSTOMER_NAME: "Emily Carter", names.IS_GUEST: False,
                names.SEGMENT: "at_risk", names.LIFECYCLE: "dormant", names.PERSONALIZED: True,
                names.PERSONALIZATION_INTENSITY: "high", names.LANGUAGE: "en"}


def _offers(seeded, customer_id: str) -> list[Offer]:  # type: ignore[no-untyped-def]
    with seeded.begin() as s:
        return list(s.scalars(sa.select(Offer).where(Offer.customer_id == customer_id)))


async def test_welcome_back_coupon_is_said_with_the_records_code_once(tracker_factory, dispatcher, domain, store,
                                                                     offer_store, conversations, seeded):
    store.set_intensity(customer_id="C000003", intensity="high", source="test", conversation_id=None)
    greet = ActionGreet(offer_store, conversations)
    await greet.run(dispatcher, tracker_factory(text="hi", intent="greet", slots=AT_RISK_HIGH), domain)
    assert responses(dispatcher) == [names.UTTER_GREET_NAMED, "utter_offer_welcome_back"]
    [row] = _offers(seeded, "C000003")
    said = dispatcher.messages[1]
    assert said["code"] == row.code and said["expires"] == row.expires_at.strftime("%Y-%m-%d")
    assert said["amount"] == f"{row.amount:g}" and said["min_spend"] == "99"
    assert row.arm == offer_arm("C000003", offer_store) and row.arm in ("standard", "generous")
    assert row.amount == {"standard": 20, "generous": 30}[row.arm]
    dispatcher.messages.clear()
    await greet.run(dispatcher, tracker_factory(text="hello again", intent="greet", slots=AT_RISK_HIGH), domain)
    assert responses(dispatcher) == [names.UTTER_GREET_NAMED]  # once only
    assert len(_offers(seeded, "C000003")) == 1


async def test_medium_intensity_gets_no_coupon(tracker_factory, dispatcher, domain, offer_store, conversations, seeded):
    slots = {**AT_RISK_HIGH, names.PERSONALIZATION_INTENSITY: "medium"}  # the stored consent says medium
    await ActionGreet(offer_store, conversations).run(dispatcher, tracker_factory(intent="greet", slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_GREET_NAMED]
    assert _offers(seeded, "C000003") == []


async def test_a_new_customers_first_contact_gets_the_onboarding_hint(tracker_factory, dispatcher, domain,
                                                                      offer_store, conversations):
    slots = {names.CUSTOMER_ID: "C000004", names.CUSTOMER_NAME: "James Wilson", names.IS_GUEST: False,
             names.SEGMENT: "new", names.LIFECYCLE: "new", names.PERSONALIZED: True}
    greet = ActionGreet(offer_store, conversations)
    await greet.run(dispatcher, tracker_factory(intent="greet", slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_GREET_NAMED, names.UTTER_ONBOARDING_HINT]
    for n in range(2):  # later sessions: no hint
        conversations.touch(conversation_id=f"c{n}", channel="web", customer_id="C000004", language="en",
                            segment="new", arm="adaptive")
    dispatcher.messages.clear()
    await greet.run(dispatcher, tracker_factory(intent="greet", slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_GREET_NAMED]


async def test_leaving_offer_first_then_a_person(tracker_factory, dispatcher, domain, store, offer_store, seeded):
    store.set_intensity(customer_id="C000005", intensity="high", source="test", conversation_id=None)
    slots = {names.CUSTOMER_ID: "C000005", names.IS_GUEST: False, names.SEGMENT: "regular",
             names.LIFECYCLE: "growing", names.LANGUAGE: "zh"}
    action = ActionRetention(offer_store)
    events = await action.run(dispatcher, tracker_factory(text="我不想在你们这买了", intent="want_to_leave",
                                                          slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_RETENTION_OFFER, names.UTTER_RETENTION_HUMAN]
    assert slot_events(events)[names.HUMAN_OFFERED] is True
    [row] = _offers(seeded, "C000005")
    assert (row.kind, row.reason, dispatcher.messages[0]["code"]) == ("retention", "leaving", row.code)
    assert row.expires_at - row.issued_at == timedelta(days=14)
    dispatcher.messages.clear()  # within 90 days: a person only
    await action.run(dispatcher, tracker_factory(text="I'm leaving", intent="want_to_leave", slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_RETENTION_HUMAN]
    assert len(_offers(seeded, "C000005")) == 1


async def test_leaving_guest_and_opted_out_go_straight_to_a_person(tracker_factory, dispatcher, domain, offer_store,
                                                                    seeded):
    action = ActionRetention(offer_store)
    await action.run(dispatcher, tracker_factory(intent="want_to_leave", slots={names.IS_GUEST: True}), domain)
    await action.run(dispatcher, tracker_factory(intent="want_to_leave", slots={
        names.CUSTOMER_ID: "C000006", names.IS_GUEST: False, names.PERSONALIZED: False}), domain)
    assert responses(dispatcher) == [names.UTTER_RETENTION_HUMAN, names.UTTER_RETENTION_HUMAN]
    assert _offers(seeded, "C000006") == []


async def test_accessibility_is_asked_then_saved_with_consent(tracker_factory, dispatcher, domain, store, seeded):
    slots = {names.CUSTOMER_ID: "C000005", names.IS_GUEST: False}
    events = await ActionAskAccessibility().run(
        dispatcher, tracker_factory(text="我视力不好", intent="declare_accessibility", slots=slots), domain)
    assert responses(dispatcher) == ["utter_ask_accessibility_visual"]
    asked = slot_events(events)
    assert asked[names.ACCESSIBILITY] == "visual" and asked[names.ACCESSIBILITY_ASKED] is True
    assert store.get_profile("C000005").accessibility is None  # nothing saved before the yes
    dispatcher.messages.clear()
    events = await ActionRecordAccessibility(store).run(
        dispatcher, tracker_factory(text="好的", intent="affirm", slots={**slots, **asked}), domain)
    assert responses(dispatcher) == [names.UTTER_ACCESSIBILITY_SAVED]
    assert slot_events(events)[names.ACCESSIBILITY_ASKED] is False
    assert store.get_profile("C000005").accessibility == "visual"
    with seeded.begin() as s:
        change = s.scalars(sa.select(ConsentChange).where(ConsentChange.customer_id == "C000005")
                           .order_by(ConsentChange.id.desc())).first()
    assert (change.accessibility, change.source) == ("visual", "chat:rest")


async def test_accessibility_declined_is_not_saved(tracker_factory, dispatcher, domain, store):
    slots = {names.CUSTOMER_ID: "C000005", names.IS_GUEST: False, names.ACCESSIBILITY_PENDING: "hearing",
             names.ACCESSIBILITY_ASKED: True, names.ACCESSIBILITY: "hearing"}
    await ActionRecordAccessibility(store).run(dispatcher, tracker_factory(intent="deny", slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_ACCESSIBILITY_NOT_SAVED]
    assert store.get_profile("C000005").accessibility is None


async def test_accessibility_for_a_guest_and_when_the_kind_is_unclear(tracker_factory, dispatcher, domain):
    events = await ActionAskAccessibility().run(
        dispatcher, tracker_factory(text="I use a screen reader", intent="declare_accessibility",
                                    slots={names.IS_GUEST: True}), domain)
    assert slot_events(events)[names.ACCESSIBILITY] == "visual"
    await ActionAskAccessibility().run(
        dispatcher, tracker_factory(text="I have a disability", intent="declare_accessibility"), domain)
    events = await ActionAskAccessibility().run(dispatcher, tracker_factory(
        text="/declare_accessibility", intent="declare_accessibility",
        entities=[{"entity": "accessibility_need", "value": "motor"}],
        slots={names.CUSTOMER_ID: "C000005", names.IS_GUEST: False}), domain)
    assert responses(dispatcher) == [names.UTTER_ACCESSIBILITY_GUEST, names.UTTER_ASK_ACCESSIBILITY_KIND,
                                     "utter_ask_accessibility_motor"]
    assert slot_events(events)[names.ACCESSIBILITY_PENDING] == "motor"


async def test_free_returns_privilege_is_said_on_an_important_value_customers_return(
        seeded, tickets, tracker_factory, dispatcher, domain):
    from actions.shop import ActionWrongItemTicket
    from profiles.models import Order as OrderRow

    with seeded.begin() as s:
        order_id = s.scalars(sa.select(OrderRow.id).where(OrderRow.customer_id == "C000001",
                                                          OrderRow.status == "delivered")).first()
    base = {names.CUSTOMER_ID: "C000001", names.IS_GUEST: False, names.LANGUAGE: "zh", names.ORDER_ID: order_id,
            "shop_item": "-", "shop_problem": "damaged"}
    for segment, resolution, said in [("important_value", "return", True), ("important_value", "refund", False),
                                      ("potential", "return", False)]:
        dispatcher.messages.clear()
        slots = {**base, names.SEGMENT: segment, "shop_resolution": resolution}
        await ActionWrongItemTicket(tickets=tickets).run(dispatcher, tracker_factory(text="2", slots=slots), domain)
        assert (names.UTTER_PRIVILEGE_FREE_RETURNS in responses(dispatcher)) is said, (segment, resolution)


async def test_the_save_question_is_withdrawn_by_any_other_request(tracker_factory, dispatcher, domain):
    from actions.signals import ActionValidateSlotMappings
    from sentiment.lexicon import LexiconAnalyzer

    asked = {names.ACCESSIBILITY_ASKED: True, names.ACCESSIBILITY_PENDING: "visual", names.ACCESSIBILITY: "visual"}
    action = ActionValidateSlotMappings(analyzer=LexiconAnalyzer())
    events = await action.run(dispatcher, tracker_factory(text="where is my order", intent="order_status",
                                                          slots=asked), domain)
    changed = slot_events(events)
    assert changed[names.ACCESSIBILITY_ASKED] is False and changed[names.ACCESSIBILITY_PENDING] is None
    assert names.ACCESSIBILITY not in changed  # the need still applies to this chat
    events = await action.run(dispatcher, tracker_factory(text="yes", intent="affirm", slots=asked), domain)
    assert names.ACCESSIBILITY_ASKED not in slot_events(events)
