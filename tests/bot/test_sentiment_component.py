"""The NLU component that puts each message's sentiment in the parse data."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.components.sentiment import SENTIMENT, SentimentComponent
from sentiment import SentimentResult
from sentiment.lexicon import LexiconAnalyzer


def test_every_message_gets_a_reading_in_its_output():
    component = SentimentComponent(LexiconAnalyzer())
    messages = [Message(data={"text": "急死了，三天了还没到"}), Message(data={"text": "thanks, great service"})]
    component.process(messages)
    first, second = (m.get(SENTIMENT) for m in messages)
    assert first["emotion"] == "anxiety" and first["label"] == "negative"
    assert second["label"] == "positive"
    assert SENTIMENT in messages[0].as_dict(only_output_properties=True)  # reaches latest_message
    assert SentimentResult.from_dict(first).emotion == "anxiety"


def test_button_payloads_are_not_read():
    message = Message(data={"text": "/affirm"})
    SentimentComponent(LexiconAnalyzer()).process([message])
    assert message.get(SENTIMENT) is None


class Exploding:
    def analyze_many(self, texts, batch_size=32):
        raise RuntimeError("model gone")


def test_a_failing_analyzer_leaves_the_turn_alone(caplog):
    message = Message(data={"text": "hello"})
    assert SentimentComponent(Exploding()).process([message]) == [message]
    assert message.get(SENTIMENT) is None
    assert "falls back to the lexicon" in caplog.text


class Angry:
    """Reads everything as anger: what a model can make of hashed n-grams of keyboard mash."""

    def analyze_many(self, texts, batch_size=32):
        return [SentimentResult(label="negative", score=-0.8, confidence=0.9,
                                emotions={"anger": 0.8, "anxiety": 0.0}) for _ in texts]


def test_keyboard_mash_is_not_read_as_a_feeling():
    from bot.components.normalise_text import TEXT_MASH, TextNormaliser

    mash, plain = Message(data={"text": "zzkq bnnm ttrw"}), Message(data={"text": "this is the third time I ask"})
    TextNormaliser.create({}, None, None, None).process([mash, plain])  # type: ignore[arg-type]
    assert mash.get(TEXT_MASH) is True and not plain.get(TEXT_MASH)
    SentimentComponent(Angry()).process([mash, plain])
    assert mash.get(SENTIMENT) is None  # the action server reads it with the lexicon: no cue, neutral
    assert plain.get(SENTIMENT)["emotion"] == "anger"
