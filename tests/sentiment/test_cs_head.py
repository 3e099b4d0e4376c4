"""The customer-service head: cue counts, per-language thresholds, and the shipped head on support messages."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from sentiment import ANGER, ANXIETY, EMOTION_THRESHOLD, NEGATIVE, NEUTRAL, POSITIVE, SentimentResult
from sentiment.cs_head import (
    CUES,
    DEFAULT_HEAD,
    HASH_FEATURES,
    HEADS,
    CsHead,
    _strength,
    clip,
    cue_counts,
    dense_features,
    hashed_text,
)
from sentiment.ensemble import EnsembleAnalyzer, Fusion
from sentiment.transformer import Reading

CUE_NAMES = list(CUES)


def cue(text: str, name: str) -> int:
    return int(cue_counts(text)[CUE_NAMES.index(name)])


@pytest.mark.parametrize("text, name", [
    ("You promised a refund by Friday", "promise"),
    ("说好的今天发货", "promise"),
    ("Third time I'm asking", "repeat"),
    ("same problem again", "repeat"),
    ("又坏了", "repeat"),
    ("还是没人处理", "repeat"),
    ("3 hours on hold", "wait"),
    ("等了半个月", "wait"),
    ("I want a manager", "escalate"),
    ("再不处理我就投诉", "escalate"),
    ("the flight is tomorrow", "deadline"),
    ("后天就要用", "deadline"),
    ("is it lost?", "fear"),
    ("会不会丢件", "fear"),
])
def test_cue_families_find_an_unhappy_customer_without_negative_words(text, name):
    assert cue(text, name) >= 1


def test_a_plain_question_has_no_complaint_cues():
    for name in ("repeat", "promise", "wait", "escalate", "fear"):
        assert cue("Do you ship to Canada?", name) == 0
        assert cue("可以修改收货地址吗", name) == 0


def test_the_company_addressed_and_links_do_not_change_the_reading():
    # the hashed n-grams see one token for any @handle and any link, so the company a tweet is
    # addressed to cannot stand in for how the customer feels
    assert hashed_text("@AmazonHelp parcel 5 days late https://t.co/AbC") == \
        hashed_text("@UPSHelp parcel 5 days late http://x.co/zz")
    assert hashed_text("说好的今天发货") == "说好的今天发货"
    assert "@user" in hashed_text("@Tesco where is my order")


def test_emotion_strength_puts_the_fitted_threshold_at_the_reporting_threshold():
    assert _strength(0.3, 0.3) == EMOTION_THRESHOLD
    assert _strength(0.299, 0.3) < EMOTION_THRESHOLD
    assert _strength(0.9, 0.3) > _strength(0.5, 0.3) > EMOTION_THRESHOLD
    assert 0.0 <= _strength(0.0, 0.7) < _strength(0.2, 0.7) < _strength(0.69, 0.7) < EMOTION_THRESHOLD
    assert _strength(1.0, 0.7) == 1.0


def fixed_head(probabilities: list[float], thresholds: dict[str, dict[str, float]]) -> CsHead:
    """A head whose outputs are ``probabilities`` for every text (all weights zero, biases set)."""
    n = len(dense_features(reading(), 0.0, "x"))
    logits = [float(np.log(p / (1 - p))) for p in probabilities]
    return CsHead(mean=np.zeros(n, np.float32), scale=np.ones(n, np.float32),
                  dense=np.zeros((len(HEADS), n), np.float32), sparse=np.zeros((len(HEADS), 2 * HASH_FEATURES), np.float32),
                  bias=np.array(logits, np.float32), thresholds=thresholds)


THRESHOLDS = {"zh": {"negative": 0.3, "positive": 0.5, "anger": 0.4, "anxiety": 0.6},
              "en": {"negative": 0.5, "positive": 0.5, "anger": 0.4, "anxiety": 0.6}}


def reading():
    return Reading({NEGATIVE: 0.3, NEUTRAL: 0.4, POSITIVE: 0.3}, {ANGER: 0.1, ANXIETY: 0.1}, np.zeros(4, np.float32))


def test_the_neutral_band_is_per_language():
    head = fixed_head([0.4, 0.2, 0.1, 0.1], THRESHOLDS)
    zh, en = head.results(["快递还没到", "the parcel has not arrived"], [reading(), reading()], [0.0, 0.0])
    assert zh.label == NEGATIVE and zh.score <= -0.25
    assert en.label == NEUTRAL and -0.25 < en.score < 0.25


def test_positive_needs_its_own_threshold_and_scores_agree_with_labels():
    happy = fixed_head([0.05, 0.8, 0.05, 0.05], THRESHOLDS).results(["thanks"], [reading()], [0.0])[0]
    calm = fixed_head([0.05, 0.3, 0.05, 0.05], THRESHOLDS).results(["ok"], [reading()], [0.0])[0]
    assert happy.label == POSITIVE and happy.score >= 0.25
    assert calm.label == NEUTRAL and abs(calm.score) < 0.25


def test_anger_and_anxiety_are_read_against_their_own_thresholds():
    result = fixed_head([0.9, 0.1, 0.45, 0.55], THRESHOLDS).results(["又没发货"], [reading()], [0.0])[0]
    assert result.emotions[ANGER] >= EMOTION_THRESHOLD > result.emotions[ANXIETY]
    assert result.emotion == ANGER


class FixedModel:
    def __init__(self, reading):
        self.reading = reading

    def readings(self, texts, batch_size=32):
        return [self.reading if isinstance(t, str) and t.strip() else None for t in texts]


class NoCues:
    def analyze(self, text):
        return SentimentResult.neutral()


class FixedNgram:
    def negative_logit(self, texts):
        return [0.0 for _ in texts]


class BrokenHead:
    def results(self, texts, readings, logits):
        raise RuntimeError("bad weights")


FUSION = Fusion({"zh": ((0.0, 0.0, 0.0), 0.0), "en": ((0.0, 0.0, 0.0), 0.0)})


def test_the_ensemble_reads_polarity_and_emotions_from_the_head():
    head = fixed_head([0.9, 0.1, 0.8, 0.1], THRESHOLDS)
    analyzer = EnsembleAnalyzer(FixedModel(reading()), NoCues(), FixedNgram(), FUSION, head)
    result = analyzer.analyze("说好的退款呢")
    assert result.label == NEGATIVE and result.emotion == ANGER
    assert analyzer.analyze_many(["", "说好的退款呢"])[0] == SentimentResult.neutral()


def test_a_failing_head_falls_back_to_the_fusion_and_logs(caplog):
    analyzer = EnsembleAnalyzer(FixedModel(reading()), NoCues(), FixedNgram(), FUSION, BrokenHead())
    with caplog.at_level(logging.ERROR):
        result = analyzer.analyze("where is my parcel")
    assert result.label == NEUTRAL  # the fusion's reading of the fixed model: neutral is the largest
    assert "customer-service head failed" in caplog.text


def test_a_reading_without_a_vector_is_not_sent_to_the_head():
    calm = Reading({NEGATIVE: 0.3, NEUTRAL: 0.4, POSITIVE: 0.3}, {ANGER: 0.1, ANXIETY: 0.1})
    analyzer = EnsembleAnalyzer(FixedModel(calm), NoCues(), FixedNgram(), FUSION, BrokenHead())
    assert analyzer.analyze("hello").label == NEUTRAL


# --- the shipped head, through the bot's own analyzer -------------------------------------------------


@pytest.fixture(scope="module")
def analyzer():
    from common.settings import get_settings
    from sentiment.factory import build_analyzer

    built = build_analyzer(get_settings())
    if not isinstance(built, EnsembleAnalyzer):
        pytest.skip("SENTIMENT_BACKEND is not the shipped model")
    return built


def test_the_shipped_analyzer_uses_the_head(analyzer):
    assert analyzer.head is not None
    assert analyzer.model.readings(["退款 refund"])[0].vector.shape == (768,)


def test_the_head_says_what_it_was_trained_on():
    meta = json.loads(DEFAULT_HEAD.with_suffix(".json").read_text(encoding="utf-8"))
    assert "cs_complaints_en" in meta["trained_on"] and meta["trained_on"]["cs_complaints_en"]["split"] == "train"
    assert "Automatically Identifying Complaints in Social Media" in meta["cs_complaints_en_citation"]
    assert meta["test_splits_read"] is False
    assert set(meta["thresholds"]) == {"zh", "en"}
    readme = (DEFAULT_HEAD.parent / "README.md").read_text(encoding="utf-8")
    assert "Preoţiuc-Pietro" in readme and "cs_complaints_en" in readme


@pytest.mark.parametrize("text", [
    # plain statements of a problem, written for this test (no negative word in them)
    "Ordered a size M on the 2nd, still showing 'preparing' today.",
    "Second time the courier skipped my building.",
    "You said the technician would come Tuesday. It's Thursday.",
    "订单说好48小时发货，现在第五天了",
    "客服说今天回电话，到现在也没人打来",
    "同一个问题我已经反映三次了",
])
def test_a_broken_promise_or_a_repeated_contact_reads_negative(analyzer, text):
    assert analyzer.analyze(text).label == NEGATIVE


@pytest.mark.parametrize("text", [
    "Do you deliver on Sundays?",
    "How do I change the email on my account?",
    "请问有发票吗",
    "这个颜色还有货吗",
])
def test_plain_questions_stay_neutral(analyzer, text):
    assert analyzer.analyze(text).label == NEUTRAL


@pytest.mark.parametrize("text, emotion", [
    ("Third email about the same refund and still no answer. Enough.", ANGER),
    ("你们上周就保证过会处理，又拖了一周，我要投诉", ANGER),
    ("My sister's wedding is on Saturday and the dress is still in transit, will it arrive?", ANXIETY),
    ("明天一早的飞机，充电器今晚能送到吗，好担心", ANXIETY),
])
def test_anger_and_anxiety_are_told_apart(analyzer, text, emotion):
    assert analyzer.analyze(text).emotion == emotion


def test_everyday_messages_to_a_support_account_are_rarely_read_as_anger_or_anxiety(analyzer):
    """Anger or anxiety hands the customer to a person at once (``sentiment.tone.escalation``). On real
    tweets to support accounts that are not complaints (cs_complaints_en validation: order numbers,
    "within 48 hours", thanks; never trained on) at most one in twenty may be read so."""
    from sentiment_training.cs_head import complaint_rows
    from sentiment_training.data import ROOT

    datasets = ROOT.parent / "shared" / "datasets"
    if not (datasets / "cs_complaints_en").exists():
        pytest.skip(f"{datasets} has no cs_complaints_en")
    texts = [r.text for r in complaint_rows(datasets, "validation") if r.targets[0] == 0]
    flagged = [t for t, r in zip(texts, analyzer.analyze_many(texts)) if r.emotion != "none"]
    assert len(texts) > 200 and len(flagged) <= 0.05 * len(texts), flagged[:10]


def test_a_tweet_that_is_not_a_complaint_teaches_no_anger_and_no_anxiety(tmp_path):
    from sentiment_training.cs_head import U, complaint_rows

    (tmp_path / "cs_complaints_en").mkdir()
    (tmp_path / "cs_complaints_en" / "data.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"text": "@Shop where is my order?? 3 weeks!", "label": "complaint", "split": "train"},
        {"text": "@Shop thanks, got it", "label": "not_complaint", "split": "train"},
        {"text": "@Shop other split", "label": "not_complaint", "split": "validation"}]), encoding="utf-8")
    rows = complaint_rows(tmp_path, "train", weight=2.0)
    assert [(r.text, r.targets, r.weight) for r in rows] == [
        ("@Shop where is my order?? 3 weeks!", (1, U, U, U), 2.0), ("@Shop thanks, got it", (0, U, 0, 0), 2.0)]


def test_inside_the_neutral_band_the_score_leans_the_way_the_probabilities_do():
    # a review read as mildly positive must not score below zero because the positive threshold is high
    thresholds = {"zh": {"negative": 0.3, "positive": 0.86, "anger": 0.5, "anxiety": 0.5}}
    leaning = fixed_head([0.2, 0.3, 0.05, 0.05], thresholds).results(["还行吧"], [reading()], [0.0])[0]
    assert leaning.label == NEUTRAL and 0 < leaning.score < 0.25
    souring = fixed_head([0.25, 0.1, 0.05, 0.05], thresholds).results(["还行吧"], [reading()], [0.0])[0]
    assert souring.label == NEUTRAL and -0.25 < souring.score < 0


def test_a_very_long_message_is_read_on_its_start_and_end():
    head = fixed_head([0.9, 0.1, 0.1, 0.1], THRESHOLDS)
    text = "“" + "'还是 again " * 50_000 + "说好的退款呢"
    [result] = head.results([text], [reading()], [0.0])
    assert result.label == NEGATIVE
    assert clip(text) == text[:2000] + text[-2000:] and len(clip("short")) == 5


def test_training_targets_of_a_calm_problem_statement_follow_its_files_rule(tmp_path, monkeypatch):
    """A calmly stated problem is an example of no anxiety in every file; of no anger only in the files
    written under that rule (cs_more_train.jsonl leaves anger unknown: the older files count a calmly
    stated repeated contact as anger)."""
    from sentiment_training import cs_head as training

    lines = {"old.jsonl": [{"text": "second time the parcel is late", "polarity": "negative", "emotion": "none"},
                           {"text": "where is my refund?!", "polarity": "negative", "emotion": "anger"}],
             "more.jsonl": [{"text": "the lid was missing", "polarity": "negative", "emotion": "none"},
                            {"text": "will it come before my flight", "polarity": "negative", "emotion": "anxiety"},
                            {"text": "thanks, all good", "polarity": "positive", "emotion": "none"}]}
    (tmp_path / "data").mkdir()
    for name, rows in lines.items():
        (tmp_path / "data" / name).write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert training.TEAM_FILES["cs_more_train.jsonl"] == ("anxiety",)
    monkeypatch.setattr(training, "HERE", tmp_path)
    monkeypatch.setattr(training, "TEAM_FILES", {"old.jsonl": ("anger", "anxiety"), "more.jsonl": ("anxiety",)})
    monkeypatch.setattr(training, "held_back", lambda text: False)
    targets = {r.text: r.targets for r in training.team_rows(validation=False)}
    U = training.U
    assert targets["second time the parcel is late"] == (1, U, 0, 0)
    assert targets["where is my refund?!"] == (1, U, 1, 0)
    assert targets["the lid was missing"] == (1, U, U, 0)
    assert targets["will it come before my flight"] == (1, U, 0, 1)
    assert targets["thanks, all good"] == (0, 1, 0, 0)


def test_chinese_reviews_are_read_as_well_as_a_support_message_needs(analyzer):
    """A customer who reviews a purchase in the chat ("房间陈旧，有些味道") is telling the bot how it went.
    ChnSentiCorp's validation reviews that online_shopping_10_cats does not also hold were never trained
    on by any part of the analyzer (the n-gram model read online_shopping's train split, which holds the
    others): at least 88 in 100 must lean the right way (a review not read as positive counts as negative,
    as in ``bench/sentiment.py``). The head once weighed the n-gram model's and the transformer's readings
    alike for both languages, fitted mostly on English tweets, and read 86 in 100."""
    from sentiment_training.data import ROOT, read_jsonl

    datasets = ROOT.parent / "shared" / "datasets"
    if not (datasets / "chnsenticorp").exists() or not (datasets / "online_shopping_10_cats").exists():
        pytest.skip(f"{datasets} lacks chnsenticorp or online_shopping_10_cats")
    seen = {r["text"] for r in read_jsonl(datasets / "online_shopping_10_cats" / "data.jsonl")}
    rows = [r for r in read_jsonl(datasets / "chnsenticorp" / "data.jsonl", "validation") if r["text"] not in seen]
    results = analyzer.analyze_many([r["text"] for r in rows])
    right = sum((result.score < 0) == (r["label"] == "negative") for result, r in zip(results, rows))
    assert len(rows) > 200 and right >= 0.88 * len(rows), f"{right} of {len(rows)}"
