"""Transparency report and personalisation intensity in chat: real stores on the seeded demo data."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select

from actions import names
from actions.personalisation import ActionMyDataReport, ActionSetIntensity
from actions.session import ActionGreet
from profiles.models import Consent, ConsentChange
from sentiment.tone import choose_tone
from tests.utils.builders import Unavailable, load_domain, message, responses

RESPONSES = set(load_domain()["responses"])


async def test_guest_gets_the_short_explanation(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="what do you know about me", intent="ask_my_data",
                              slots={names.IS_GUEST: True, names.LANGUAGE: "en"})
    action = ActionMyDataReport(store=Unavailable(), conversations=Unavailable())
    assert await action.run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_my_data_guest"]


async def test_vip_report_names_the_data_its_effects_and_the_controls(
    tracker_factory, dispatcher, domain, store, conversations, offer_store
):
    for n in range(3):
        conversations.touch(conversation_id=f"web:vip-{n}", channel="web", customer_id="C000001", language="zh")
    tracker = tracker_factory(text="你们用了我哪些信息？", intent="ask_my_data",
                              slots={names.CUSTOMER_ID: "C000001", names.IS_GUEST: False})
    assert await ActionMyDataReport(store=store, conversations=conversations, offers=offer_store).run(
        dispatcher, tracker, domain) == []
    said = responses(dispatcher)
    assert said == ["utter_my_data_tier_vip", "utter_my_data_segment_important_value", "utter_my_data_last_order",
                    f"utter_my_data_lifecycle_{store.get_profile('C000001').lifecycle}", "utter_my_data_history",
                    "utter_my_data_effects_high", "utter_my_data_priority", "utter_my_data_controls"]
    assert set(said) <= RESPONSES
    facts = store.get_facts("C000001")
    segment = message(dispatcher, "utter_my_data_segment_important_value")
    assert (segment["orders"], segment["spend"], segment["window"]) == (
        facts.orders_365d, f"{facts.monetary_365d:.0f}", 365)
    assert message(dispatcher, "utter_my_data_history")["contacts"] >= 3
    # nothing personal travels in the variables
    profile = store.get_profile("C000001")
    for m in dispatcher.messages:
        for value in m.values():
            assert profile.name not in str(value) and str(profile.phone_masked) not in str(value)


async def test_opted_out_customer_is_told_personalisation_is_off(tracker_factory, dispatcher, domain, store,
                                                                 conversations, offer_store):
    tracker = tracker_factory(intent="ask_my_data", slots={names.CUSTOMER_ID: "C000006", names.IS_GUEST: False})
    await ActionMyDataReport(store=store, conversations=conversations, offers=offer_store).run(dispatcher, tracker, domain)
    assert "utter_my_data_effects_off" in responses(dispatcher)
    assert "utter_my_data_priority" not in responses(dispatcher)


async def test_report_store_unavailable(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(intent="ask_my_data", slots={names.CUSTOMER_ID: "C000001"})
    assert await ActionMyDataReport(store=Unavailable(), conversations=Unavailable()).run(
        dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]


async def test_report_lists_the_offers_made_this_month_with_their_basis(tracker_factory, dispatcher, domain, store,
                                                                       conversations, seeded, movable_clock):
    from profiles.offers import OfferStore, load_offer_rules

    store.set_intensity(customer_id="C000005", intensity="high", source="test", conversation_id=None)
    offers = OfferStore(seeded, rules=load_offer_rules(), clock=movable_clock)
    movable_clock.advance(days=-30)  # last month: not listed
    offers.offer(customer_id="C000005", segment="potential", lifecycle="growing", trigger="contact", channel="web",
                 conversation_id=None)
    movable_clock.advance(days=30)
    _, issued = offers.offer(customer_id="C000005", segment="regular", lifecycle="growing", trigger="leaving",
                             channel="web", conversation_id=None)
    tracker = tracker_factory(intent="ask_my_data", slots={names.CUSTOMER_ID: "C000005", names.IS_GUEST: False})
    await ActionMyDataReport(store=store, conversations=conversations, offers=offers).run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert said.count("utter_my_data_offer_retention") == 1 and "utter_my_data_offer_points_boost" not in said
    assert said.index("utter_my_data_effects_high") < said.index("utter_my_data_offer_retention")
    assert message(dispatcher, "utter_my_data_offer_retention")["date"] == issued.issued_at.strftime("%Y-%m-%d")
    assert issued.code not in str(dispatcher.messages)  # the report names the offer, not its code


def _changes(seeded, customer_id):
    with seeded.begin() as s:
        return s.scalars(
            select(ConsentChange).where(ConsentChange.customer_id == customer_id).order_by(ConsentChange.id)
        ).all()


@pytest.mark.parametrize(
    ("intent", "intensity"),
    [("personalization_less", "low"), ("personalization_standard", "medium"), ("personalization_more", "high")],
)
async def test_intensity_is_recorded_with_an_audit_row(tracker_factory, dispatcher, domain, store, seeded,
                                                       intent, intensity):
    before = len(_changes(seeded, "C000005"))
    tracker = tracker_factory(intent=intent, slots={names.CUSTOMER_ID: "C000005"}, sender_id="intensity")
    events = await ActionSetIntensity(store=store).run(dispatcher, tracker, domain)
    assert SlotSet(names.PERSONALIZATION_INTENSITY, intensity) in events
    assert SlotSet(names.PERSONALIZED, True) in events
    assert responses(dispatcher) == [f"utter_intensity_{intensity}"]
    with seeded.begin() as s:
        consent = s.get(Consent, "C000005")
        assert (consent.intensity, consent.personalization, consent.source) == (intensity, True, "chat:rest")
    changes = _changes(seeded, "C000005")
    assert len(changes) == before + 1
    assert (changes[-1].intensity, changes[-1].personalization, changes[-1].conversation_id) == (
        intensity, True, "intensity")
    assert store.get_profile("C000005").intensity == intensity


async def test_choosing_an_intensity_switches_personalisation_back_on(tracker_factory, dispatcher, domain, store):
    tracker = tracker_factory(intent="personalization_more",
                              slots={names.CUSTOMER_ID: "C000006", names.PERSONALIZED: False})
    await ActionSetIntensity(store=store).run(dispatcher, tracker, domain)
    profile = store.get_profile("C000006")
    assert (profile.personalization, profile.intensity) == (True, "high")


@pytest.mark.parametrize(("tone", "reset"), [("warm", True), ("concise", True), ("empathetic", False),
                                             ("elder_friendly", False), ("neutral", False)])
async def test_low_stops_profile_tones_at_once(tracker_factory, dispatcher, domain, store, tone, reset):
    tracker = tracker_factory(intent="personalization_less", slots={names.CUSTOMER_ID: "C000005", names.TONE: tone})
    events = await ActionSetIntensity(store=store).run(dispatcher, tracker, domain)
    assert (SlotSet(names.TONE, "neutral") in events) is reset


async def test_guest_only_sets_the_slot(tracker_factory, dispatcher, domain, seeded):
    with seeded.begin() as s:
        before = len(s.scalars(select(ConsentChange)).all())
    tracker = tracker_factory(intent="personalization_less", slots={names.IS_GUEST: True})
    events = await ActionSetIntensity(store=Unavailable()).run(dispatcher, tracker, domain)
    assert SlotSet(names.PERSONALIZATION_INTENSITY, "low") in events
    with seeded.begin() as s:
        assert len(s.scalars(select(ConsentChange)).all()) == before


async def test_intensity_store_unavailable(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(intent="personalization_more", slots={names.CUSTOMER_ID: "C000001"})
    assert await ActionSetIntensity(store=Unavailable()).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]


async def test_greeting_and_tone_follow_the_new_intensity(tracker_factory, dispatcher, domain, store, offer_store,
                                                          conversations):
    """After "only the essentials" the greeting drops the name and the tone drops the profile."""
    tracker = tracker_factory(intent="personalization_less", slots={names.CUSTOMER_ID: "C000001"})
    events = await ActionSetIntensity(store=store).run(dispatcher, tracker, domain)
    slots = {names.CUSTOMER_ID: "C000001", names.CUSTOMER_NAME: "陈静", names.IS_GUEST: False,
             **{e["name"]: e["value"] for e in events}}
    dispatcher.messages.clear()
    await ActionGreet(offer_store, conversations).run(dispatcher, tracker_factory(intent="greet", slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_GREET]
    assert choose_tone(sentiment="neutral", emotion="none", trend="steady", segment="important_value",
                       elderly=False, personalized=True, intensity=slots[names.PERSONALIZATION_INTENSITY]).value \
        == "neutral"
