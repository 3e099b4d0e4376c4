"""The cascade: the 12-layer teacher re-reads the polarity of the messages the student head is unsure of."""

from __future__ import annotations

import copy
import json
import logging

import numpy as np
import pytest

from common.settings import Settings, SettingsError
from sentiment import ANGER, ANXIETY, NEGATIVE, NEUTRAL, POSITIVE
from sentiment.cs_head import HASH_FEATURES, CsHead, dense_features
from sentiment.ensemble import EnsembleAnalyzer
from sentiment.teacher import ENCODER, TEACHER_HEAD, Cascade, dequantize_q4, read_encoder
from sentiment.transformer import DEFAULT_MODEL
from tests.sentiment.test_cs_head import FUSION, THRESHOLDS, FixedModel, FixedNgram, NoCues, fixed_head, reading


def test_a_q4_block_expands_low_nibbles_first_then_high_with_offset_8():
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    values = dequantize_q4(scale + nibbles, 1, 32)[0]
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


class FakeEncoder:
    loaded = True

    def __init__(self, width: int = 4, fail: bool = False) -> None:
        self.width, self.fail, self.seen = width, fail, []

    def embed(self, texts, batch_size=32):
        if self.fail:
            raise RuntimeError("encoder gone")
        self.seen += list(texts)
        return np.zeros((len(texts), self.width), np.float32)


def teacher_head(p_negative: float, p_positive: float) -> CsHead:
    """A two-output head over [dense | 4 teacher values] that always says ``p_negative``, ``p_positive``."""
    n = len(dense_features(reading(), 0.0, "x")) + 4
    bias = [float(np.log(p / (1 - p))) for p in (p_negative, p_positive)]
    thresholds = {lang: dict(t) for lang, t in THRESHOLDS.items()}
    return CsHead(mean=np.zeros(n, np.float32), scale=np.ones(n, np.float32), dense=np.zeros((2, n), np.float32),
                  sparse=np.zeros((2, 2 * HASH_FEATURES), np.float32), bias=np.array(bias, np.float32),
                  thresholds=thresholds)


def cascade(encoder: FakeEncoder, band: dict[str, float], p_negative: float = 0.9,
            p_positive: float = 0.1) -> Cascade:
    return Cascade(encoder, teacher_head(p_negative, p_positive), band)  # type: ignore[arg-type]


def test_the_band_is_per_language_and_unknown_languages_use_chinese():
    c = cascade(FakeEncoder(), {"zh": 2.0, "en": 0.5})
    assert c.unsure("en", 0.4) and not c.unsure("en", 0.6)
    assert c.unsure("zh", 1.9) and not c.unsure("zh", 2.1)
    assert c.unsure("fr", 1.0)


def test_only_messages_near_the_threshold_reach_the_teacher_and_emotions_stay_the_students():
    # en negative threshold 0.5: P 0.45 is 0.2 log-odds away (unsure), P 0.05 is 2.9 away (sure)
    encoder = FakeEncoder()
    near = EnsembleAnalyzer(FixedModel(reading()), NoCues(), FixedNgram(), FUSION,
                            fixed_head([0.45, 0.2, 0.35, 0.1], THRESHOLDS), cascade(encoder, {"en": 1.0, "zh": 1.0}))
    result = near.analyze("the parcel has not arrived")
    assert encoder.seen == ["the parcel has not arrived"] and near.teacher_reads == 1
    assert result.label == NEGATIVE and result.score <= -0.25  # the teacher's polarity
    alone = EnsembleAnalyzer(FixedModel(reading()), NoCues(), FixedNgram(), FUSION,
                             fixed_head([0.45, 0.2, 0.35, 0.1], THRESHOLDS))
    assert alone.analyze("the parcel has not arrived").label == NEUTRAL
    assert result.emotions == alone.analyze("the parcel has not arrived").emotions  # the student's emotions
    assert 0.4 < result.emotions[ANGER] < 0.5

    encoder = FakeEncoder()
    far = EnsembleAnalyzer(FixedModel(reading()), NoCues(), FixedNgram(), FUSION,
                           fixed_head([0.05, 0.9, 0.1, 0.1], THRESHOLDS), cascade(encoder, {"en": 1.0, "zh": 1.0}))
    assert far.analyze("thanks, all sorted").label == POSITIVE
    assert encoder.seen == [] and far.teacher_reads == 0


def test_a_failing_teacher_leaves_the_students_reading_and_logs(caplog):
    analyzer = EnsembleAnalyzer(FixedModel(reading()), NoCues(), FixedNgram(), FUSION,
                                fixed_head([0.45, 0.2, 0.1, 0.1], THRESHOLDS),
                                cascade(FakeEncoder(fail=True), {"en": 1.0, "zh": 1.0}))
    with caplog.at_level(logging.ERROR):
        result = analyzer.analyze("the parcel has not arrived")
    assert result.label == NEUTRAL and analyzer.teacher_reads == 0
    assert "sentiment teacher failed" in caplog.text


def test_a_teacher_that_cannot_load_is_left_out(tmp_path, caplog):
    broken = Cascade.load(encoder_path=tmp_path / "missing.npz")
    with caplog.at_level(logging.ERROR):
        assert not broken.start().ready
    assert "the student answers alone" in caplog.text


def test_settings_refuse_an_unknown_teacher_mode():
    with pytest.raises(SettingsError, match="SENTIMENT_TEACHER"):
        Settings(sentiment_teacher="always").check()


def test_the_stored_encoder_is_all_12_layers_on_the_students_vocabulary():
    config, tensors = read_encoder(ENCODER)
    vocab = json.loads((DEFAULT_MODEL / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    assert config["layers"] == 12 and config["vocab_size"] == len(vocab)
    assert tensors["emb.word"].shape == (len(vocab), config["hidden"])
    assert tensors["l11.fo.w"].shape == (config["hidden"], config["intermediate"])
    assert "multilingual-e5-small" in config["source"]


def test_the_teacher_head_says_what_it_was_trained_on_and_its_band():
    meta = json.loads(TEACHER_HEAD.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["trained_on"]["cs_complaints_en"]["split"] == "train" and meta["test_splits_read"] is False
    assert "Automatically Identifying Complaints in Social Media" in meta["cs_complaints_en_citation"]
    assert set(meta["band"]) == {"zh", "en"} and all(v > 0 for v in meta["band"].values())
    assert set(meta["thresholds"]["en"]) == {"negative", "positive"}


# --- the shipped cascade, through the bot's own analyzer ---------------------------------------------------


@pytest.fixture(scope="module")
def analyzer():
    from common.settings import get_settings
    from sentiment.factory import build_analyzer

    built = build_analyzer(get_settings())
    if not isinstance(built, EnsembleAnalyzer) or built.teacher is None:
        pytest.skip("SENTIMENT_BACKEND is not the shipped model with its teacher")
    return built


def test_the_shipped_analyzer_has_a_ready_teacher_and_off_turns_it_off(analyzer):
    from sentiment.factory import build_analyzer

    assert analyzer.teacher.ready
    assert build_analyzer(Settings(sentiment_teacher="off")).teacher is None


MESSAGES = [json.loads(line)["text"] for line in
            (DEFAULT_MODEL.parent.parent / "tests" / "sentiment" / "cs_emotions.jsonl").read_text(
                encoding="utf-8").splitlines()[:60]]


def test_some_messages_reach_the_teacher_and_only_their_polarity_changes(analyzer):
    student = copy.copy(analyzer)
    student.teacher = None
    before = analyzer.teacher_reads
    cascaded, alone = analyzer.analyze_many(MESSAGES), student.analyze_many(MESSAGES)
    reads = analyzer.teacher_reads - before
    assert 0 < reads < len(MESSAGES)
    assert [r.emotions for r in cascaded] == [r.emotions for r in alone]
    assert sum(a.label != b.label for a, b in zip(cascaded, alone)) <= reads


def test_one_message_at_a_time_reads_as_a_batch_does(analyzer):
    batch = analyzer.analyze_many(MESSAGES[:12])
    single = [analyzer.analyze(text) for text in MESSAGES[:12]]
    assert [r.label for r in single] == [r.label for r in batch]
    assert [r.emotions for r in single] == [r.emotions for r in batch]
    assert {ANGER, ANXIETY} <= set(single[0].emotions)
