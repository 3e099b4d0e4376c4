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
