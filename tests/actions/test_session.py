"""action_session_start resolves who the customer is; action_greet greets them."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from sqlalchemy import select

from actions import names
from actions.session import ActionGreet, ActionSessionStart
from desk.models import Conversation
from profiles.models import ChannelIdentity
from tests.utils.builders import Unavailable, responses, slot_events


async def _start(tracker, dispatcher, domain, store, conversations):
    return await ActionSessionStart(store=store, conversations=conversations).run(dispatcher, tracker, domain)


async def test_vip_is_resolved_to_their_profile(tracker_factory, dispatcher, domain, store, conversations, seeded):
    events = await _start(tracker_factory(sender_id="demo-vip-zh"), dispatcher, domain, store, conversations)
    slots = slot_events(events)
    assert slots[names.CUSTOMER_ID] == "C000001"
    assert slots[names.CUSTOMER_NAME] == "陈静"
    assert slots[names.TIER] == "vip"
    assert slots[names.SEGMENT] == "important_value"
    assert slots[names.LANGUAGE] == "zh"
    assert slots[names.IS_GUEST] is False
    assert slots[names.PERSONALIZED] is True
    assert slots[names.RECENT_ORDER_IDS] == [o.order_id for o in store.recent_orders("C000001")]
    assert dispatcher.messages == []
    with seeded.begin() as s:
        row = s.get(Conversation, "demo-vip-zh")
        assert (row.customer_id, row.channel, row.language) == ("C000001", "rest", "zh")


async def test_unknown_sender_is_a_guest(tracker_factory, dispatcher, domain, store, conversations):
    events = await _start(tracker_factory(sender_id="someone-new"), dispatcher, domain, store, conversations)
    slots = slot_events(events)
    assert slots[names.IS_GUEST] is True
    assert slots[names.SEGMENT] == "guest"
    assert slots[names.CUSTOMER_ID] is None
    assert slots[names.RECENT_ORDER_IDS] == []


async def test_wechat_sender_uses_the_wechat_identity(tracker_factory, dispatcher, domain, store, conversations, seeded):
    with seeded.begin() as s:
        openid = s.scalars(
            select(ChannelIdentity.external_id).where(
                ChannelIdentity.channel == "wechat", ChannelIdentity.customer_id == "C000002"
            )
        ).one()
    tracker = tracker_factory(sender_id=f"wechat:{openid}", metadata={"channel": "wechat"})
    slots = slot_events(await _start(tracker, dispatcher, domain, store, conversations))
    assert slots[names.CUSTOMER_ID] == "C000002"
    assert slots[names.ELDERLY] is True
    with seeded.begin() as s:
        assert s.get(Conversation, f"wechat:{openid}").channel == "wechat"


async def test_wechat_openid_is_not_looked_up_on_other_channels(tracker_factory, dispatcher, domain, store, conversations):
    # a web identity name sent over WeChat is not the same customer
    tracker = tracker_factory(sender_id="wechat:demo-vip-zh", metadata={"channel": "wechat"})
    slots = slot_events(await _start(tracker, dispatcher, domain, store, conversations))
    assert slots[names.IS_GUEST] is True


async def test_store_unavailable_gives_a_guest(tracker_factory, dispatcher, domain, conversations):
    events = await _start(tracker_factory(sender_id="demo-vip-zh"), dispatcher, domain, Unavailable(), conversations)
    slots = slot_events(events)
    assert slots[names.IS_GUEST] is True
    assert slots[names.SEGMENT] == "guest"


async def test_conversation_log_unavailable_still_starts(tracker_factory, dispatcher, domain, store):
    events = await _start(tracker_factory(sender_id="demo-vip-zh"), dispatcher, domain, store, Unavailable())
    assert slot_events(events)[names.CUSTOMER_ID] == "C000001"


async def test_event_order_and_metadata_carried(tracker_factory, dispatcher, domain, store, conversations):
    tracker = tracker_factory(sender_id="demo-vip-zh", slots={"session_started_metadata": {"channel": "web"}})
    events = await _start(tracker, dispatcher, domain, store, conversations)
    assert events[0] == SessionStarted()
    assert events[-1] == ActionExecuted("action_listen")
    assert SlotSet("session_started_metadata", {"channel": "web"}) in events


async def test_no_metadata_slot_when_none(tracker_factory, dispatcher, domain, store, conversations):
    events = await _start(tracker_factory(sender_id="demo-vip-zh"), dispatcher, domain, store, conversations)
    assert "session_started_metadata" not in slot_events(events)


@pytest.mark.parametrize(
    "slots, expected",
    [
        ({names.CUSTOMER_NAME: "陈静", names.PERSONALIZED: True, names.IS_GUEST: False}, names.UTTER_GREET_NAMED),
        ({names.CUSTOMER_NAME: None, names.PERSONALIZED: True, names.IS_GUEST: True}, names.UTTER_GREET),
        ({names.CUSTOMER_NAME: "李建国", names.PERSONALIZED: False, names.IS_GUEST: False}, names.UTTER_GREET),
        ({names.CUSTOMER_NAME: "陈静", names.PERSONALIZED: True, names.IS_GUEST: False,
          names.PERSONALIZATION_INTENSITY: "low"}, names.UTTER_GREET),
    ],
    ids=["personalized-known", "guest", "opted-out", "low-intensity"],
)
async def test_greet(tracker_factory, dispatcher, domain, slots, expected):
    assert await ActionGreet().run(dispatcher, tracker_factory(text="你好", intent="greet", slots=slots), domain) == []
    assert responses(dispatcher) == [expected]
    if expected == names.UTTER_GREET_NAMED:
        assert dispatcher.messages[0]["name"] == "陈静"
    else:
        assert "name" not in dispatcher.messages[0]


async def test_greet_after_session_start_uses_resolved_slots(tracker_factory, dispatcher, domain, store, conversations,
                                                            offer_store):
    slots = slot_events(await _start(tracker_factory(sender_id="demo-optout-zh"), dispatcher, domain, store, conversations))
    await ActionGreet(offer_store, conversations).run(dispatcher, tracker_factory(text="你好", intent="greet", slots=slots), domain)
    assert responses(dispatcher) == [names.UTTER_GREET]
