"""action_validate_slot_mappings: language, sentiment, emotion, trend and tone every turn."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions import names
from actions.signals import ActionValidateSlotMappings
from sentiment import SentimentResult
from sentiment.lexicon import LexiconAnalyzer
from sentiment.tone import HISTORY_LIMIT
from tests.utils import builders
from tests.utils.builders import FakeAnalyzer

SENTIMENT_SLOTS = {
    names.SENTIMENT, names.SENTIMENT_SCORE, names.EMOTION, names.SENTIMENT_HISTORY, names.TREND, names.TONE,
    names.LANGUAGE,
}  # fmt: skip
LEXICON = LexiconAnalyzer()
VIP = {names.TIER: "vip", names.SEGMENT: "important_value", names.PERSONALIZED: True, names.IS_GUEST: False}
ELDERLY = {names.SEGMENT: "potential", names.ELDERLY: True, names.PERSONALIZED: True, names.IS_GUEST: False}


class Events(list):
    """The action's events plus ``state``: the slot values after applying them to the tracker."""

    state: dict


def slot_events(events: list) -> dict:
    """Slot values after the turn (the action only sets slots whose value changed)."""
    return events.state if isinstance(events, Events) else builders.slot_events(events)


async def _run(tracker_factory, dispatcher, domain, *, analyzer=LEXICON, **kwargs):
    tracker = tracker_factory(**kwargs)
    events = Events(await ActionValidateSlotMappings(analyzer=analyzer).run(dispatcher, tracker, domain))
    assert dispatcher.messages == []
    events.state = {**tracker.slots, **builders.slot_events(events)}
    return events


async def test_only_changed_slots_are_set(tracker_factory, dispatcher, domain):
    first = await _run(tracker_factory, dispatcher, domain, text="hello", intent="greet")
    again = await ActionValidateSlotMappings(analyzer=LEXICON).run(
        dispatcher, tracker_factory(text="hello again", intent="greet", slots=first.state), domain
    )
    changed = set(builders.slot_events(again))
    assert names.LANGUAGE not in changed and names.TONE not in changed
    assert names.SENTIMENT_HISTORY in changed  # the history grows every turn


@pytest.mark.parametrize(
    "text, language",
    [("你们怎么回事，太差劲了！", "zh"), ("This is ridiculous, I'm so angry", "en"), ("我很生气", "zh")],
)
async def test_anger_gets_empathetic_tone(tracker_factory, dispatcher, domain, text, language):
    slots = slot_events(await _run(tracker_factory, dispatcher, domain, text=text, intent="complain"))
    assert slots[names.EMOTION] == "anger"
    assert slots[names.SENTIMENT] == "negative"
    assert slots[names.TONE] == "empathetic"
    assert slots[names.LANGUAGE] == language


@pytest.mark.parametrize("text", ["急死了，三天了还没到", "I've been waiting for days, where is it"])
async def test_anxiety(tracker_factory, dispatcher, domain, text):
    slots = slot_events(await _run(tracker_factory, dispatcher, domain, text=text, intent="complain", slots=VIP))
    assert slots[names.EMOTION] == "anxiety"
    assert slots[names.TONE] == "empathetic"  # feelings come before the VIP's concise tone


@pytest.mark.parametrize(
    "slots, tone",
    [
        (ELDERLY, "elder_friendly"),
        ({**ELDERLY, names.PERSONALIZED: False}, "neutral"),
        (VIP, "concise"),
        ({names.SEGMENT: "guest", names.IS_GUEST: True}, "neutral"),
        ({names.SEGMENT: "new", names.PERSONALIZED: True}, "warm"),
        ({**VIP, names.ACCESSIBILITY: "cognitive"}, "elder_friendly"),
    ],
    ids=["elderly", "elderly-opted-out", "important-value", "guest", "new", "accessibility-need"],
)
async def test_calm_text_tone_by_profile(tracker_factory, dispatcher, domain, slots, tone):
    events = await _run(tracker_factory, dispatcher, domain, text="你好，我想查一下订单", intent="order_status", slots=slots)
    result = slot_events(events)
    assert result[names.SENTIMENT] == "neutral"
    assert result[names.EMOTION] == "none"
    assert result[names.TONE] == tone


async def test_history_grows(tracker_factory, dispatcher, domain):
    slots = slot_events(
        await _run(tracker_factory, dispatcher, domain, text="hello", slots={names.SENTIMENT_HISTORY: [0.1, 0.2]})
    )
    assert slots[names.SENTIMENT_HISTORY] == [0.1, 0.2, 0.0]
    assert slots[names.SENTIMENT_SCORE] == 0.0


async def test_history_is_capped(tracker_factory, dispatcher, domain):
    history = [round(i / 100, 3) for i in range(HISTORY_LIMIT)]
    analyzer = FakeAnalyzer(SentimentResult(label="positive", score=0.5, confidence=0.9, emotions={}))
    slots = slot_events(
        await _run(tracker_factory, dispatcher, domain, analyzer=analyzer, text="great",
                   slots={names.SENTIMENT_HISTORY: history})
    )
    assert len(slots[names.SENTIMENT_HISTORY]) == HISTORY_LIMIT
    assert slots[names.SENTIMENT_HISTORY] == [*history[1:], 0.5]


async def test_calm_then_angry_is_worsening(tracker_factory, dispatcher, domain):
    slots = slot_events(
        await _run(tracker_factory, dispatcher, domain, text="太差劲了，气死我了",
                   slots={names.SENTIMENT_HISTORY: [0.0, 0.0]})
    )
    assert slots[names.TREND] == "worsening"
    assert slots[names.TONE] == "empathetic"


async def test_first_turn_is_steady(tracker_factory, dispatcher, domain):
    slots = slot_events(await _run(tracker_factory, dispatcher, domain, text="hello"))
    assert slots[names.TREND] == "steady"
    assert slots[names.SENTIMENT_HISTORY] == [0.0]


async def test_analyzer_failure_is_neutral(tracker_factory, dispatcher, domain):
    analyzer = FakeAnalyzer(RuntimeError("model crashed"))
    slots = slot_events(
        await _run(tracker_factory, dispatcher, domain, analyzer=analyzer, text="气死了", slots=VIP)
    )
    assert analyzer.texts == ["气死了"]
    assert slots[names.SENTIMENT] == "neutral"
    assert slots[names.EMOTION] == "none"
    assert slots[names.SENTIMENT_SCORE] == 0.0
    assert slots[names.TONE] == "concise"


@pytest.mark.parametrize("text, intent", [('/affirm', "affirm"), ('/inform{"order_id":"E20261117001"}', "inform"),
                                          ("", "EXTERNAL_conversation_resolved")])
async def test_payloads_carry_no_feelings(tracker_factory, dispatcher, domain, text, intent):
    analyzer = FakeAnalyzer(SentimentResult(label="negative", score=-0.9, confidence=0.9, emotions={"anger": 1.0}))
    events = await _run(
        tracker_factory, dispatcher, domain, analyzer=analyzer, text=text, intent=intent,
        slots={names.FALLBACK_COUNT: 1.0, names.HUMAN_OFFERED: True},
    )
    assert analyzer.texts == []
    assert not SENTIMENT_SLOTS & set(builders.slot_events(events))
    expected = [] if intent == "affirm" else [SlotSet(names.HUMAN_OFFERED, False)]
    assert events == [SlotSet(names.FALLBACK_COUNT, 0.0), *expected]


@pytest.mark.parametrize(
    "intent, count, reset",
    [("greet", 2.0, True), ("nlu_fallback", 2.0, False), ("greet", 0.0, False), (None, 1.0, True)],
)
async def test_fallback_count_reset(tracker_factory, dispatcher, domain, intent, count, reset):
    events = await _run(tracker_factory, dispatcher, domain, text="hmm what", intent=intent,
                        slots={names.FALLBACK_COUNT: count})
    assert (SlotSet(names.FALLBACK_COUNT, 0.0) in events) is reset


@pytest.mark.parametrize(
    "intent, reset",
    [("affirm", False), ("deny", False), ("request_human", False), ("order_status", True), ("nlu_fallback", True)],
)
async def test_human_offer_withdrawn_by_other_intents(tracker_factory, dispatcher, domain, intent, reset):
    events = await _run(tracker_factory, dispatcher, domain, text="ok", intent=intent,
                        slots={names.HUMAN_OFFERED: True})
    assert (SlotSet(names.HUMAN_OFFERED, False) in events) is reset


async def test_no_bookkeeping_when_nothing_to_reset(tracker_factory, dispatcher, domain):
    events = await _run(tracker_factory, dispatcher, domain, text="hello", intent="greet")
    assert names.FALLBACK_COUNT not in builders.slot_events(events)
    assert names.HUMAN_OFFERED not in builders.slot_events(events)


@pytest.mark.parametrize(
    "text, previous, language",
    [("我的order到哪了", "en", "zh"), ("where is my order", "zh", "en"), ("12345", "en", "en"),
     ("12345", "zh", "zh"), ("12345", None, "zh"), ("😀", "en", "en")],
)
async def test_language(tracker_factory, dispatcher, domain, text, previous, language):
    slots = slot_events(await _run(tracker_factory, dispatcher, domain, text=text, intent="order_status",
                                   slots={names.LANGUAGE: previous}))
    assert slots[names.LANGUAGE] == language


@pytest.mark.parametrize(
    ("text", "intent", "loop", "expected"),
    [("我给5分", "rate_service", None, "5"), ("I'd give you 4 stars", "rate_service", None, "4"),
     ("服务很好", "rate_service", "feedback_form", None), ("5", "rate_service", "feedback_form", None),
     ("很满意", "rate_service", None, None), ("我要退款", "request_refund", None, None)],
)  # fmt: skip
async def test_unprompted_rating_is_taken_from_the_text(tracker_factory, dispatcher, domain, text, intent, loop, expected):
    tracker = tracker_factory(text=text, intent=intent)
    if loop:
        tracker.active_loop = {"name": loop}
    events = await ActionValidateSlotMappings(analyzer=LEXICON).run(dispatcher, tracker, domain)
    assert builders.slot_events(events).get(names.FEEDBACK_RATING) == expected


async def test_the_nlu_pipelines_reading_is_used_when_present(tracker_factory, dispatcher, domain):
    """The Rasa server's sentiment component puts its reading in the parse data."""
    tracker = tracker_factory(text="呵呵，又让我等", intent="complain")
    tracker.latest_message["sentiment"] = SentimentResult(
        label="negative", score=-0.7, confidence=0.9, emotions={"anger": 0.8, "anxiety": 0.1}).as_dict()
    fallback = FakeAnalyzer(SentimentResult.neutral())
    events = await ActionValidateSlotMappings(analyzer=fallback).run(dispatcher, tracker, domain)
    slots = builders.slot_events(events)
    assert slots[names.EMOTION] == "anger" and slots[names.SENTIMENT_SCORE] == -0.7
    assert slots[names.TONE] == "empathetic"


@pytest.mark.parametrize("carried", [None, {}, {"label": "furious"}, {"label": "negative", "score": "x"}, "negative"])
async def test_a_missing_or_malformed_reading_falls_back_to_the_analyzer(tracker_factory, dispatcher, domain, carried):
    tracker = tracker_factory(text="急死了，三天了还没到", intent="order_status")
    if carried is not None:
        tracker.latest_message["sentiment"] = carried
    slots = builders.slot_events(await ActionValidateSlotMappings(analyzer=LEXICON).run(dispatcher, tracker, domain))
    assert slots[names.EMOTION] == "anxiety"


class RecordingLog:
    def __init__(self) -> None:
        self.notes: list[dict] = []

    def note_signals(self, **kwargs) -> None:
        self.notes.append(kwargs)


async def test_the_dashboards_note_is_written_after_the_turn(tracker_factory, dispatcher, domain):
    import asyncio

    from actions import signals

    log = RecordingLog()
    action = ActionValidateSlotMappings(analyzer=LEXICON, conversations=log)
    await action.run(dispatcher, tracker_factory(text="急死了，三天了还没到", intent="order_status"), domain)
    loop = asyncio.get_running_loop()
    await asyncio.gather(*(task for task in signals._pending if task.get_loop() is loop))
    [note] = log.notes
    assert note["conversation_id"] == "test-conversation" and note["score"] < 0 and note["tone"] == "empathetic"
