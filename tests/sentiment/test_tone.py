"""Tone and escalation policy (pure functions)."""

from __future__ import annotations

import pytest

from sentiment.tone import (
    HISTORY_LIMIT,
    Escalation,
    Tone,
    Trend,
    choose_tone,
    escalation,
    fallback_threshold,
    push_history,
    trend,
)


@pytest.mark.parametrize(
    "sentiment, emotion, trend_, segment, elderly, personalized, tone",
    [
        ("negative", "none", "steady", "regular", False, True, Tone.EMPATHETIC),
        ("neutral", "anger", "steady", "important_value", False, True, Tone.EMPATHETIC),
        ("neutral", "anxiety", "steady", "regular", True, True, Tone.EMPATHETIC),
        ("neutral", "none", "worsening", "important_value", False, True, Tone.EMPATHETIC),
        ("negative", "anger", "steady", "regular", False, False, Tone.EMPATHETIC),  # feelings before consent
        ("neutral", "none", "steady", "regular", True, True, Tone.ELDER_FRIENDLY),
        ("neutral", "none", "steady", "important_value", True, True, Tone.ELDER_FRIENDLY),
        ("neutral", "none", "steady", "regular", True, False, Tone.NEUTRAL),
        ("neutral", "none", "steady", "important_value", False, True, Tone.CONCISE),
        ("neutral", "none", "steady", "important_value", False, False, Tone.NEUTRAL),
        ("neutral", "none", "steady", "at_risk", False, True, Tone.WARM),
        ("neutral", "none", "steady", "new", False, True, Tone.WARM),
        ("positive", "none", "steady", "regular", False, True, Tone.WARM),
        ("positive", "none", "improving", "guest", False, False, Tone.NEUTRAL),
        ("neutral", "none", "steady", "regular", False, True, Tone.NEUTRAL),
        ("neutral", "none", "improving", None, False, True, Tone.NEUTRAL),
        ("neutral", "none", Trend.STEADY, "potential", False, True, Tone.NEUTRAL),
    ],
)
def test_choose_tone(sentiment, emotion, trend_, segment, elderly, personalized, tone):
    assert (
        choose_tone(sentiment=sentiment, emotion=emotion, trend=trend_, segment=segment, elderly=elderly,
                    personalized=personalized)
        is tone
    )


def test_choose_tone_rejects_unknown_trend():
    with pytest.raises(ValueError):
        choose_tone(sentiment="neutral", emotion="none", trend="sideways", segment=None, elderly=False, personalized=True)


@pytest.mark.parametrize(
    "history, expected",
    [
        ([], Trend.STEADY),
        ([-0.9], Trend.STEADY),
        ([0.2, -0.1, -0.5], Trend.WORSENING),
        ([0.0, -0.3], Trend.WORSENING),
        ([0.0, -0.29], Trend.STEADY),
        ([-0.8, -0.2], Trend.IMPROVING),
        ([-0.5, -0.5, -0.5, 0.0], Trend.IMPROVING),
        ([0.9, 0.0, 0.0, 0.0, 0.0], Trend.STEADY),  # only the last three before the latest count
        ([0.5, None, -0.5], Trend.WORSENING),
    ],
)
def test_trend(history, expected):
    assert trend(history) is expected


def test_push_history_caps_and_rounds():
    history: list[float] = []
    for i in range(HISTORY_LIMIT + 5):
        history = push_history(history, i / 3)
    assert len(history) == HISTORY_LIMIT
    assert history[-1] == round((HISTORY_LIMIT + 4) / 3, 3)
    assert push_history(None, -0.12345) == [-0.123]


@pytest.mark.parametrize(
    "emotion, trend_, sentiment, history, priority, expected",
    [
        ("anger", "steady", "negative", [-0.9], False, Escalation.HANDOFF),
        ("anxiety", "improving", "neutral", [], False, Escalation.HANDOFF),
        ("none", "worsening", "negative", [0.0, -0.5], False, Escalation.OFFER),
        ("none", "steady", "negative", [-0.4, -0.4], False, Escalation.OFFER),  # two negative turns in a row
        ("none", "steady", "negative", [0.0, -0.4], False, Escalation.NONE),
        ("none", "steady", "negative", [0.0, -0.4], True, Escalation.OFFER),  # VIP/elderly: first negative turn
        ("none", "improving", "negative", [-0.9, -0.4], True, Escalation.NONE),  # calming down: left alone
        ("none", "improving", "negative", [-0.9, -0.5], False, Escalation.NONE),
        ("none", "worsening", "neutral", [0.8, 0.2], True, Escalation.NONE),
        ("none", "steady", "neutral", [], True, Escalation.NONE),
        ("none", "steady", "positive", [0.5, 0.6], False, Escalation.NONE),
    ],
    ids=["anger", "anxiety", "worsening", "two-negative", "one-negative", "priority-negative", "calms-down-priority",
         "calms-down", "worsening-but-neutral", "priority-neutral", "positive"],
)
def test_escalation(emotion, trend_, sentiment, history, priority, expected):
    assert (
        escalation(emotion=emotion, trend=trend_, sentiment=sentiment, history=history, priority_customer=priority)
        is expected
    )


@pytest.mark.parametrize("priority, threshold", [(True, 1), (False, 2)])
def test_fallback_threshold(priority, threshold):
    assert fallback_threshold(priority_customer=priority) == threshold


@pytest.mark.parametrize(
    ("segment", "elderly", "intensity", "tone"),
    [("important_value", False, "low", "neutral"), ("at_risk", False, "low", "neutral"),
     ("important_value", False, "high", "concise"), (None, True, "low", "elder_friendly")],
)  # fmt: skip
def test_low_intensity_keeps_only_the_accessibility_tone(segment, elderly, intensity, tone):
    assert choose_tone(sentiment="neutral", emotion="none", trend="steady", segment=segment, elderly=elderly,
                       personalized=True, intensity=intensity).value == tone
