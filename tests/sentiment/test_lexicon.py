"""The zh+en lexicon analyzer."""

from __future__ import annotations

import pytest

from sentiment import EMOTION_THRESHOLD, SentimentResult
from sentiment.lexicon import Lexicon, LexiconAnalyzer

ANALYZER = LexiconAnalyzer()


@pytest.mark.parametrize(
    "text, label, emotion",
    [
        ("你们怎么回事，太差劲了！", "negative", "anger"),
        ("气死我了，什么垃圾服务", "negative", "anger"),
        ("This is ridiculous, I'm so angry", "negative", "anger"),
        ("terrible service, useless", "negative", "anger"),
        ("急死了，三天了还没到", "negative", "anxiety"),
        ("I've been waiting for days, where is it", "negative", "anxiety"),
        ("I'm worried about my parcel", "negative", "anxiety"),
        ("谢谢，非常满意", "positive", "none"),
        ("thanks, great service", "positive", "none"),
        ("你好，我想查一下订单", "neutral", "none"),
        ("where is my order", "neutral", "none"),
        ("我的order到哪了", "neutral", "none"),
    ],
)
def test_examples(text, label, emotion):
    result = ANALYZER.analyze(text)
    assert result.label == label
    assert result.emotion == emotion
    assert -1.0 <= result.score <= 1.0
    assert 0.0 <= result.confidence <= 1.0
    assert all(0.0 <= v <= 1.0 for v in result.emotions.values())


@pytest.mark.parametrize("text", ["not bad", "不差", "not terrible at all"])
def test_negated_negative_is_not_negative(text):
    result = ANALYZER.analyze(text)
    assert result.label != "negative"
    assert result.score >= 0.0


@pytest.mark.parametrize("text", ["不满意", "not good at all, not happy"])
def test_negated_positive_is_not_positive(text):
    result = ANALYZER.analyze(text)
    assert result.label != "positive"
    assert result.score < 0.0


def test_intensifier_strengthens():
    assert ANALYZER.analyze("太差了！！").score < ANALYZER.analyze("差劲").score


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\t", "好" * 5000, "a" * 5000, "🔥🌙🎈", "🎈🏻🔥", "\x00\x01\x02\x1b[31m", "\u200b\u200d", "12345"],
    ids=["empty", "spaces", "whitespace", "5000-zh", "5000-en", "emoji", "emoji-mods", "control", "zero-width", "digits"],
)
def test_odd_input_is_neutral(text):
    result = ANALYZER.analyze(text)
    assert result.label == "neutral"
    assert result.emotion == "none"
    assert result.score == 0.0


@pytest.mark.parametrize(
    ("text", "label", "emotion"),
    [("😡😡😡", "negative", "anger"), ("🤬", "negative", "anger"), ("😰😰 还没到", "negative", "anxiety"),
     ("👍👍", "positive", "none")],
)
def test_emoji_carry_feelings(text, label, emotion):
    result = ANALYZER.analyze(text)
    assert (result.label, result.emotion) == (label, emotion)


def test_long_angry_text_never_raises():
    result = ANALYZER.analyze("气死了" + "啊" * 10_000)
    assert result.emotion == "anger"


@pytest.mark.parametrize("value", [None, 123, b"bytes"])
def test_non_string_is_neutral(value):
    assert ANALYZER.analyze(value) == SentimentResult.neutral()  # type: ignore[arg-type]


def test_broken_lexicon_falls_back_to_neutral():
    broken = Lexicon(negative={"zh": {"差": "not-a-number"}}, positive={}, anger={}, anxiety={}, negation={},
                     intensifiers={})
    assert LexiconAnalyzer(broken).analyze("差") == SentimentResult.neutral()


@pytest.mark.parametrize(
    "emotions, expected",
    [({}, "none"), ({"anger": 0.4, "anxiety": 0.3}, "none"), ({"anger": EMOTION_THRESHOLD}, "anger"),
     ({"anger": 0.6, "anxiety": 0.9}, "anxiety")],
)
def test_dominant_emotion(emotions, expected):
    assert SentimentResult(label="neutral", score=0.0, confidence=1.0, emotions=emotions).emotion == expected
