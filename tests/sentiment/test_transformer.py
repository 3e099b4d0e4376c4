"""The shipped sentiment model, loaded through ``transformers`` exactly as the bot loads it."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from sentiment import ANGER, ANXIETY, EMOTION_THRESHOLD, NEGATIVE, NEUTRAL, POSITIVE
from sentiment.transformer import DEFAULT_MODEL, LabelPlan, TransformerAnalyzer, head_tail


@pytest.fixture(scope="module")
def shipped() -> TransformerAnalyzer:
    return TransformerAnalyzer(DEFAULT_MODEL).load()


def test_the_shipped_model_is_a_plain_transformers_model():
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(DEFAULT_MODEL)
    assert config.model_type == "bert"
    assert [config.id2label[i] for i in range(5)] == [NEGATIVE, NEUTRAL, POSITIVE, ANGER, ANXIETY]
    assert config.sentiment_heads == {"polarity": [NEGATIVE, NEUTRAL, POSITIVE], "emotions": [ANGER, ANXIETY]}
    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_MODEL)
    ids = tokenizer("退款 refund")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.unk_token_id not in ids
    weights = sum(p.stat().st_size for p in DEFAULT_MODEL.iterdir())
    assert weights < 50 * 1024 * 1024  # small enough to ship in the repository


@pytest.mark.parametrize(
    "text, emotion",
    [
        ("你们这服务也太差了，气死我了！", ANGER),
        ("再不给我处理我就去消协投诉你们", ANGER),
        ("This is unacceptable, you people are useless!", ANGER),
        ("I'm fed up with your excuses, give me my money back now", ANGER),
        ("明天就要出发了，东西还没到，急死了", ANXIETY),
        ("钱扣了两次，我好担心，会不会退不回来", ANXIETY),
        ("I'm really worried, my mom needs this medicine by tomorrow", ANXIETY),
        ("please hurry, the flight is in three hours and I still have no ticket", ANXIETY),
    ],
)
def test_routing_emotions(shipped, text, emotion):
    result = shipped.analyze(text)
    assert result.emotions[emotion] >= EMOTION_THRESHOLD, result
    assert result.label == NEGATIVE
    assert result.score < 0


@pytest.mark.parametrize(
    "text, label",
    [
        ("谢谢你，问题解决了，非常满意", POSITIVE),
        ("Thanks a lot, that was really helpful!", POSITIVE),
        ("请问运费怎么算", NEUTRAL),
        ("How do I change my delivery address?", NEUTRAL),
        ("质量很差，用了一天就坏了，非常失望", NEGATIVE),
        ("The product broke after one day, very disappointing.", NEGATIVE),
    ],
)
def test_polarity(shipped, text, label):
    result = shipped.analyze(text)
    assert result.label == label, result
    if label != NEGATIVE:  # a disappointed review may read as annoyed; calm and happy ones carry no emotion
        assert result.emotion == "none", result


def test_batches_match_single_messages(shipped):
    texts = ["谢谢", "where is my parcel?", "气死了" * 50, "ok"]
    one_by_one = [shipped.analyze(t) for t in texts]
    batched = shipped.analyze_many(texts, batch_size=3)
    for a, b in zip(one_by_one, batched):
        assert a.label == b.label
        assert a.score == pytest.approx(b.score, abs=0.02)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\t", "😡😡😡🤬", "👍", "x" * 50_000, "退款" * 5000, "order E20240101001 到底到哪了??? wtf",
     "\u200b\u200b", "<script>alert(1)</script>", "ñ ü 😀 中 𠀋 \x00"],
)
def test_odd_input_never_raises(shipped, text):
    result = shipped.analyze(text)
    assert result.label in (NEGATIVE, NEUTRAL, POSITIVE)
    assert -1 <= result.score <= 1 and 0 <= result.confidence <= 1
    assert set(result.emotions) == {ANGER, ANXIETY}


def test_blank_and_non_text_are_neutral(shipped):
    for value in ("", "   ", None, 42):
        assert shipped.analyze(value).label == NEUTRAL  # type: ignore[arg-type]


def test_a_model_that_fails_yields_neutral_and_logs(shipped, caplog):
    broken = TransformerAnalyzer(DEFAULT_MODEL)
    broken._loaded = (shipped._loaded[0], lambda ids, mask: 1 / 0, shipped._loaded[2])
    with caplog.at_level("ERROR"):
        assert broken.analyze("气死了").label == NEUTRAL
    assert "sentiment model failed" in caplog.text


def test_a_missing_model_raises_a_clear_error(tmp_path):
    with pytest.raises(OSError):
        TransformerAnalyzer(tmp_path / "nothing-here").load()


def test_any_binary_hub_style_model_loads_through_the_same_code(tmp_path, shipped):
    """A model with hub-style labels (NEGATIVE/POSITIVE, no emotions, no sentiment_heads)."""
    from transformers import AutoTokenizer, BertConfig, TFBertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_MODEL)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, id2label={0: "NEGATIVE", 1: "POSITIVE"},
                        label2id={"NEGATIVE": 0, "POSITIVE": 1})
    model = TFBertForSequenceClassification(config)
    model(model.dummy_inputs)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    analyzer = TransformerAnalyzer(tmp_path).load()
    for result in analyzer.analyze_many(["好评", "差评", "meh"]):
        assert result.label in (NEGATIVE, NEUTRAL, POSITIVE)
        assert result.emotions == {ANGER: 0.0, ANXIETY: 0.0}
    assert json.loads((tmp_path / "config.json").read_text())["id2label"]["0"] == "NEGATIVE"


@pytest.mark.parametrize(
    "id2label, polarity, emotions",
    [
        ({0: "LABEL_0", 1: "LABEL_1"}, {NEGATIVE: 0, POSITIVE: 1}, {}),
        ({0: "negative", 1: "neutral", 2: "positive"}, {NEGATIVE: 0, NEUTRAL: 1, POSITIVE: 2}, {}),
        ({0: "joy", 1: "anger", 2: "fear", 3: "neutral"}, {NEUTRAL: 3}, {ANGER: 1, ANXIETY: 2}),
        ({0: "1 star", 1: "3 stars", 2: "5 stars"}, {NEGATIVE: 0, NEUTRAL: 1, POSITIVE: 2}, {}),
    ],
)
def test_label_names_of_other_models_are_understood(id2label, polarity, emotions):
    plan = LabelPlan.from_config(SimpleNamespace(id2label=id2label))
    assert plan.polarity == polarity and plan.emotions == emotions and not plan.emotion_sigmoid


def test_a_model_with_unknown_labels_is_refused():
    with pytest.raises(ValueError, match="cannot map"):
        LabelPlan.from_config(SimpleNamespace(id2label={0: "sports", 1: "politics"}))


def test_long_texts_keep_their_start_and_end():
    ids = [0, *range(10, 30), 2]
    kept = head_tail(ids, 8)
    assert kept == [0, 10, 11, 12, 27, 28, 29, 2]
    assert head_tail(ids[:5], 8) == ids[:5]
