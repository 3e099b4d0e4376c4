"""Model + lexicon cues: each emotion is the stronger of the two."""

from __future__ import annotations

from sentiment import NEGATIVE, NEUTRAL, POSITIVE, SentimentResult
from sentiment.ensemble import EnsembleAnalyzer, Fusion, combine, features
from sentiment.transformer import Reading


def result(label, score, confidence=0.9, anger=0.0, anxiety=0.0):
    return SentimentResult(label=label, score=score, confidence=confidence, emotions={"anger": anger, "anxiety": anxiety})


def test_a_listed_cue_raises_the_emotion_and_makes_the_message_negative():
    combined = combine(result(NEUTRAL, 0.1, anxiety=0.2), result(NEGATIVE, -0.6, anxiety=0.9))
    assert combined.emotion == "anxiety"
    assert combined.label == NEGATIVE and combined.score <= -0.9


def test_the_model_keeps_an_emotion_the_lexicon_misses():
    combined = combine(result(NEGATIVE, -0.7, anger=0.8), result(NEUTRAL, 0.0))
    assert combined.emotion == "anger" and combined.label == NEGATIVE


def test_calm_messages_stay_as_the_model_reads_them():
    assert combine(result(POSITIVE, 0.8), result(POSITIVE, 0.5)).label == POSITIVE
    assert combine(result(NEUTRAL, 0.0, confidence=0.9), result(NEGATIVE, -0.3, confidence=0.6)).label == NEUTRAL


def test_a_positive_message_keeps_its_polarity_and_reports_the_emotion():
    combined = combine(result(POSITIVE, 0.6), result(NEUTRAL, 0.0, anxiety=0.8))
    assert combined.label == POSITIVE and combined.emotion == "anxiety"


class FixedModel:
    def __init__(self, reading):
        self.reading = reading

    def readings(self, texts, batch_size=32):
        return [self.reading if isinstance(t, str) and t.strip() else None for t in texts]


class FixedCues:
    def __init__(self, value):
        self.value = value

    def analyze(self, text):
        return self.value


class FixedNgram:
    def __init__(self, logit):
        self.logit = logit

    def negative_logit(self, texts):
        return [self.logit for _ in texts]


CALM = Reading({NEGATIVE: 0.3, NEUTRAL: 0.4, POSITIVE: 0.3}, {"anger": 0.1, "anxiety": 0.1})
NO_CUES = result(NEUTRAL, 0.0, confidence=1.0)
FUSION = Fusion({"zh": ((0.0, 0.0, 1.0), 0.0), "en": ((0.0, 0.0, 1.0), 0.0)})  # the n-gram model decides


def test_ensemble_keeps_order_and_length_and_blank_text_is_neutral():
    ensemble = EnsembleAnalyzer(FixedModel(CALM), FixedCues(result(NEGATIVE, -0.9, anger=1.0)))
    out = ensemble.analyze_many(["a", "", "c"])
    assert len(out) == 3 and all(r.emotion == "anger" for r in out)
    assert ensemble.analyze("x").label == NEGATIVE


def test_the_fusion_decides_negative_against_positive_and_the_model_decides_neutral():
    negative = EnsembleAnalyzer(FixedModel(CALM), FixedCues(NO_CUES), FixedNgram(4.0), FUSION).analyze("差评")
    positive = EnsembleAnalyzer(FixedModel(CALM), FixedCues(NO_CUES), FixedNgram(-4.0), FUSION).analyze("好评")
    assert negative.label == NEGATIVE and negative.score < 0
    assert positive.label == POSITIVE and positive.score > 0
    sure_neutral = Reading({NEGATIVE: 0.05, NEUTRAL: 0.9, POSITIVE: 0.05}, {"anger": 0.0, "anxiety": 0.0})
    calm = EnsembleAnalyzer(FixedModel(sure_neutral), FixedCues(NO_CUES), FixedNgram(4.0), FUSION).analyze("运费多少")
    assert calm.label == NEUTRAL


def test_features_read_the_models_margins():
    x = features(Reading({NEGATIVE: 0.8, NEUTRAL: 0.1, POSITIVE: 0.1}, {}), 1.5)
    assert x[0] > 0 and x[1] < 0 and x[2] == 1.5


class BrokenNgram:
    def negative_logit(self, texts):
        raise ValueError("bad file")


def test_a_failing_ngram_model_leaves_the_transformer_to_answer(caplog):
    out = EnsembleAnalyzer(FixedModel(CALM), FixedCues(NO_CUES), BrokenNgram(), FUSION).analyze("hello")
    assert out.label == NEUTRAL and "n-gram polarity failed" in caplog.text


def test_the_shipped_fusion_file_has_both_languages():
    fusion = Fusion.load()
    assert set(fusion.weights) >= {"zh", "en"}
    assert 0.0 < fusion.negative_probability("en", [0.0, 0.0, 0.0]) < 1.0
