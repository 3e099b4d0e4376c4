"""The cascade: the 12-layer teacher re-reads the polarity of the messages the student head is unsure of."""

from __future__ import annotations

import copy
import json
import logging

import numpy as np
import pytest

from common.settings import Settings, SettingsError
from sentiment import ANGER, ANXIETY, NEGATIVE, NEUTRAL, POSITIVE
from sentiment.ensemble import EnsembleAnalyzer
from sentiment.teacher import ENCODER, TUNED, Cascade, dequantize_q4, read_encoder
from sentiment.transformer import DEFAULT_MODEL
from tests.sentiment.test_cs_head import FUSION, THRESHOLDS, FixedModel, FixedNgram, NoCues, fixed_head, reading


def test_a_q4_block_expands_low_nibbles_first_then_high_with_offset_8():
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    values = dequantize_q4(scale + nibbles, 1, 32)[0]
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


class FakeEncoder:
    """A teacher that always reads ``P(negative)``, ``P(positive | not negative)`` as given."""

    loaded = True

    def __init__(self, p_negative: float = 0.9, p_positive: float = 0.1, fail: bool = False) -> None:
        self.polarity, self.fail, self.seen = [p_negative, p_positive], fail, []

    def read(self, texts, batch_size=32):
        if self.fail:
            raise RuntimeError("encoder gone")
        self.seen += list(texts)
        return np.array([self.polarity] * len(texts), np.float32).reshape(len(texts), 2)


def cascade(encoder: FakeEncoder, band: dict[str, float]) -> Cascade:
    thresholds = {lang: dict(t) for lang, t in THRESHOLDS.items()}
    return Cascade(encoder, thresholds, band)  # type: ignore[arg-type]


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


def test_the_band_of_a_language_is_the_share_that_helped_on_validation_and_none_where_the_teacher_did_not():
    from sentiment_training.tune_teacher import choose_band

    # ten messages per language, the student's margin 0.0 .. 0.9; the student errs on the three nearest its
    # threshold; the English teacher gets those right, the Chinese teacher errs everywhere
    margins = np.tile(np.arange(10) / 10, 2)
    gold = np.tile([1, 0] * 5, 2)
    student = gold.astype(bool).copy()
    student[[0, 1, 2, 10, 11, 12]] ^= True
    teacher = np.concatenate([gold[:10].astype(bool), ~gold[10:].astype(bool)])
    languages = np.array(["en"] * 10 + ["zh"] * 10)
    band, report = choose_band(student, teacher, margins, gold, languages)
    assert band["zh"] == 0.0  # sending none is best
    en = next(row for row in report["en"] if row["band"] == band["en"])
    assert en["macro_f1"] == 1.0 and 0.2 < band["en"] <= 0.3  # the three nearest, no more
    assert report["en"][0]["share"] == 0.0  # sending none is always a candidate


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


def test_the_tuned_teacher_says_what_it_was_trained_on_and_its_band():
    meta = json.loads(TUNED.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["trained_on"]["cs_complaints_en"]["split"] == "train" and meta["test_splits_read"] is False
    assert "Automatically Identifying Complaints in Social Media" in meta["cs_complaints_en_citation"]
    assert set(meta["band"]) == {"zh", "en"} and all(v >= 0 for v in meta["band"].values())
    assert any(v > 0 for v in meta["band"].values())  # the teacher is asked for at least one language
    assert set(meta["thresholds"]["en"]) == {"negative", "positive"}
    chosen = {lang: max(rows, key=lambda r: r["macro_f1"]) for lang, rows in meta["band_choice"].items()}
    assert {lang: row["band"] for lang, row in chosen.items()} == meta["band"]


def test_the_shipped_band_is_the_one_chosen_for_the_shipped_head(tmp_path):
    """The band is a distance from the head's negative threshold, so a head retrained after the teacher
    needs its band chosen again (``tune_teacher --band-only``); choosing it now must give the shipped one."""
    import shutil

    from sentiment_training.data import ROOT
    from sentiment_training.tune_teacher import band_again

    datasets = ROOT.parent / "shared" / "datasets"
    if not (datasets / "cs_complaints_en").exists():
        pytest.skip(f"{datasets} has no cs_complaints_en")
    tuned = tmp_path / TUNED.name
    shutil.copy(TUNED, tuned)
    shutil.copy(TUNED.with_suffix(".json"), tuned.with_suffix(".json"))
    assert band_again(datasets, tuned, None) == 0
    shipped = json.loads(TUNED.with_suffix(".json").read_text(encoding="utf-8"))["band"]
    assert json.loads(tuned.with_suffix(".json").read_text(encoding="utf-8"))["band"] == shipped
    assert Cascade.load(tuned).band == shipped


def test_the_tuned_layers_replace_the_top_of_the_released_encoder():
    meta = json.loads(TUNED.with_suffix(".json").read_text(encoding="utf-8"))
    _, released = read_encoder(ENCODER)
    _, tuned = read_encoder(ENCODER, TUNED)
    top, bottom = meta["tuned_layers"], min(meta["tuned_layers"])
    assert top == list(range(bottom, 12)) and bottom > 0
    assert np.array_equal(released["l0.q.w"], tuned["l0.q.w"])  # frozen as released
    assert np.array_equal(released["emb.word"], tuned["emb.word"])
    for i in top:
        assert tuned[f"l{i}.fo.w"].shape == released[f"l{i}.fo.w"].shape
        assert not np.array_equal(released[f"l{i}.fo.w"], tuned[f"l{i}.fo.w"])


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


_HELD_OUT = [json.loads(line) for line in (DEFAULT_MODEL.parent.parent / "tests" / "sentiment" / "cs_emotions.jsonl")
             .read_text(encoding="utf-8").splitlines()]
MESSAGES = ([r["text"] for r in _HELD_OUT if r["language"] == "en"][:30]
            + [r["text"] for r in _HELD_OUT if r["language"] != "en"][:30])  # the band is per language


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


def test_the_tuned_teacher_reads_a_plain_statement_of_a_problem_as_negative_and_thanks_as_not(analyzer):
    teacher = analyzer.teacher
    problems = ["I have been given a connection with 2 overnight layovers. No vouchers.",
                "3 hours to rebook and the same problem again", "说好的三天退款，现在一周了还没到账"]
    calm = ["thanks, that solved it", "how do I change my delivery address?", "谢谢，问题解决了", "请问怎么开发票"]
    readings = teacher.probabilities(problems + calm)
    results = [teacher.result(t, [*p, 0.0, 0.0]) for t, p in zip(problems + calm, readings)]
    assert [r.label for r in results[: len(problems)]] == [NEGATIVE] * len(problems)
    assert all(r.label != NEGATIVE for r in results[len(problems):])
