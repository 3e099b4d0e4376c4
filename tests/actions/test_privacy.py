"""PIPL: switching personalised service off and on is recorded and obeyed at once."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select

from actions import names
from actions.privacy import ActionSetPersonalization
from profiles.models import Consent, ConsentChange
from tests.utils.builders import Unavailable, responses


def _changes(seeded, customer_id):
    with seeded.begin() as s:
        return s.scalars(
            select(ConsentChange).where(ConsentChange.customer_id == customer_id).order_by(ConsentChange.id)
        ).all()


async def test_off_then_on(tracker_factory, dispatcher, domain, store, seeded):
    action = ActionSetPersonalization(store=store)
    slots = {names.CUSTOMER_ID: "C000001", names.TONE: "concise", names.PERSONALIZED: True}
    before = len(_changes(seeded, "C000001"))

    off = tracker_factory(text="关闭个性化", intent="personalization_off", slots=slots, sender_id="pipl")
    events = await action.run(dispatcher, off, domain)
    assert events == [SlotSet(names.PERSONALIZED, False), SlotSet(names.TONE, "neutral")]
    assert responses(dispatcher) == [names.UTTER_PERSONALIZATION_OFF]
    with seeded.begin() as s:
        consent = s.get(Consent, "C000001")
        assert consent.personalization is False and consent.source == "chat:rest"
    change = _changes(seeded, "C000001")[-1]
    assert (change.personalization, change.conversation_id, change.source) == (False, "pipl", "chat:rest")
    assert store.get_profile("C000001").personalization is False

    dispatcher.messages.clear()
    on = tracker_factory(text="打开个性化推荐", intent="personalization_on",
                         slots={**slots, names.PERSONALIZED: False, names.TONE: "neutral"}, sender_id="pipl")
    assert await action.run(dispatcher, on, domain) == [SlotSet(names.PERSONALIZED, True)]
    assert responses(dispatcher) == [names.UTTER_PERSONALIZATION_ON]
    assert store.get_profile("C000001").personalization is True
    assert [c.personalization for c in _changes(seeded, "C000001")[before:]] == [False, True]


@pytest.mark.parametrize("tone, reset", [("empathetic", False), ("neutral", False), ("warm", True), ("elder_friendly", True)])
async def test_off_resets_profile_tones_only(tracker_factory, dispatcher, domain, store, tone, reset):
    tracker = tracker_factory(intent="personalization_off", slots={names.CUSTOMER_ID: "C000002", names.TONE: tone})
    events = await ActionSetPersonalization(store=store).run(dispatcher, tracker, domain)
    assert (SlotSet(names.TONE, "neutral") in events) is reset


async def test_guest_only_sets_the_slot(tracker_factory, dispatcher, domain, store, seeded):
    with seeded.begin() as s:
        before = len(s.scalars(select(ConsentChange)).all())
    tracker = tracker_factory(intent="personalization_off", slots={names.IS_GUEST: True})
    events = await ActionSetPersonalization(store=Unavailable()).run(dispatcher, tracker, domain)
    assert SlotSet(names.PERSONALIZED, False) in events
    assert responses(dispatcher) == [names.UTTER_PERSONALIZATION_OFF]
    with seeded.begin() as s:
        assert len(s.scalars(select(ConsentChange)).all()) == before


async def test_store_unavailable(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(intent="personalization_off", slots={names.CUSTOMER_ID: "C000001"})
    assert await ActionSetPersonalization(store=Unavailable()).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [names.UTTER_SERVICE_UNAVAILABLE]
