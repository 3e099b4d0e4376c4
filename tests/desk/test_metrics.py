"""Dashboard figures against hand-computed values, and the interval maths."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from desk import metrics
from desk.metrics import ConversationRecord as R
from desk.metrics import Filters

D1, D2 = datetime(2026, 11, 19, 10), datetime(2026, 11, 20, 10)
S = timedelta(seconds=1)

# six conversations, by hand:
#   ratings 5, 4, 2 (day 1: 5, 4 → avg 4.5, 100 % satisfied; day 2: 2 → avg 2, 0 %) → avg 11/3, 2/3 satisfied
#   rated 3 of 6 → response rate 0.5; handed off: c3 (refund), c4 (refund), c5 (negative_sentiment) → 3/6
#   containment 3/6; handoff rate by reason: refund 2/6, negative_sentiment 1/6
#   first responses: c3 30 s, c4 90 s, c5 600 s → median 90, p90 (nearest rank: ceil(2.7) = 3rd) 600
#   sentiment pairs: c1 (-0.5 → 0.5), c3 (-0.9 → -0.1) → start -0.7, end 0.2
RECORDS = [
    R(id="c1", started_at=D1, channel="web", language="zh", segment="vip", tone="warm", arm="adaptive", rating=5,
      sentiment_start=-0.5, sentiment_end=0.5),
    R(id="c2", started_at=D1, channel="web", language="en", segment="new", tone="neutral", arm="neutral", rating=4),
    R(id="c3", started_at=D2, channel="wechat", language="zh", segment="vip", tone="empathetic", arm="adaptive",
      rating=2, handoff_reason="refund", handoff_at=D2, first_response_at=D2 + 30 * S,
      sentiment_start=-0.9, sentiment_end=-0.1),
    R(id="c4", started_at=D2, channel="web", language="zh", segment="regular", arm="neutral",
      handoff_reason="refund", handoff_at=D2, first_response_at=D2 + 90 * S),
    R(id="c5", started_at=D2, channel="web", language="en", segment="at_risk", arm="adaptive",
      handoff_reason="negative_sentiment", handoff_at=D2, first_response_at=D2 + 600 * S),
    R(id="c6", started_at=D2, channel="rest", language="en", segment="regular", arm="neutral"),
]


def test_dashboard_matches_hand_computed_values() -> None:
    d = metrics.dashboard(RECORDS, arms=["adaptive", "neutral"])
    assert d.conversations == 6 and d.ratings == 3
    assert d.csat_average == pytest.approx(11 / 3)
    assert d.satisfied == pytest.approx(2 / 3)
    assert d.response_rate == pytest.approx(0.5)
    assert d.containment == pytest.approx(0.5) and d.handoff_rate == pytest.approx(0.5)
    assert d.handoff_rate_by_reason == pytest.approx({"negative_sentiment": 1 / 6, "refund": 2 / 6})
    assert d.first_response_median_s == 90 and d.first_response_p90_s == 600 and d.first_responses == 3
    assert d.sentiment_start == pytest.approx(-0.7) and d.sentiment_end == pytest.approx(0.2)
    assert d.sentiment_pairs == 2
    assert [(x.day, x.ratings, x.average, x.satisfied) for x in d.csat_by_day] == [
        (date(2026, 11, 19), 2, 4.5, 1.0), (date(2026, 11, 20), 1, 2.0, 0.0)]


def test_arms_are_compared_with_intervals() -> None:
    d = metrics.dashboard(RECORDS, arms=["adaptive", "neutral"])
    adaptive, neutral = d.arms
    # adaptive: c1, c3, c5 → ratings 5, 2 → 1/2 satisfied; contained: c1 → 1/3
    assert (adaptive.conversations, adaptive.ratings, adaptive.satisfied_count, adaptive.contained_count) == (3, 2, 1, 1)
    assert adaptive.csat_average == pytest.approx(3.5)
    # neutral: c2, c4, c6 → rating 4 → 1/1 satisfied; contained: c2, c6 → 2/3
    assert (neutral.conversations, neutral.ratings, neutral.satisfied_count, neutral.contained_count) == (3, 1, 1, 2)
    assert adaptive.containment.estimate == pytest.approx(1 / 3)
    assert d.arm_difference_containment.estimate == pytest.approx(1 / 3 - 2 / 3)
    se = math.sqrt((1 / 3) * (2 / 3) / 3 + (2 / 3) * (1 / 3) / 3)
    assert d.arm_difference_containment.low == pytest.approx(-1 / 3 - 1.959964 * se, abs=1e-5)
    assert d.arm_difference_satisfied.estimate == pytest.approx(0.5 - 1.0)


def test_filters_slice_by_segment_channel_language_tone_and_date() -> None:
    assert [r.id for r in metrics.select(RECORDS, Filters(segment="vip"))] == ["c1", "c3"]
    assert [r.id for r in metrics.select(RECORDS, Filters(channel="web", language="en"))] == ["c2", "c5"]
    assert [r.id for r in metrics.select(RECORDS, Filters(tone="empathetic"))] == ["c3"]
    assert [r.id for r in metrics.select(RECORDS, Filters(date_from=date(2026, 11, 20)))] == ["c3", "c4", "c5", "c6"]
    assert [r.id for r in metrics.select(RECORDS, Filters(date_to=date(2026, 11, 19)))] == ["c1", "c2"]
    vip = metrics.dashboard(metrics.select(RECORDS, Filters(segment="vip")))
    assert vip.csat_average == pytest.approx(3.5) and vip.containment == pytest.approx(0.5)


def test_empty_input_gives_no_figures() -> None:
    d = metrics.dashboard([], arms=["adaptive", "neutral"])
    assert d.conversations == 0 and d.csat_average is None and d.containment is None
    assert d.first_response_median_s is None and d.arms[0].satisfied is None and d.arm_difference_satisfied is None


def test_wilson_interval_known_values() -> None:
    # 8 of 10, z = 1.96: the textbook Wilson interval is [0.4902, 0.9433]
    ci = metrics.wilson(8, 10)
    assert ci.estimate == 0.8
    assert ci.low == pytest.approx(0.4902, abs=1e-4) and ci.high == pytest.approx(0.9433, abs=1e-4)
    # the edges stay inside [0, 1] and are not degenerate
    zero, full = metrics.wilson(0, 10), metrics.wilson(10, 10)
    assert zero.low == 0.0 and zero.high == pytest.approx(0.2775, abs=1e-4)
    assert full.high == pytest.approx(1.0) and full.low == pytest.approx(0.7225, abs=1e-4)
    assert metrics.wilson(0, 0) is None


def test_difference_and_mean_intervals() -> None:
    ci = metrics.difference(60, 100, 40, 100)  # 0.2 ± 1.96·sqrt(.24/100 + .24/100) = 0.2 ± 0.1358
    assert ci.estimate == pytest.approx(0.2)
    assert ci.low == pytest.approx(0.0642, abs=1e-4) and ci.high == pytest.approx(0.3358, abs=1e-4)
    mean = metrics.mean_interval([1, 2, 3, 4, 5])  # sd = 1.5811, half = 1.96·1.5811/√5 = 1.3859
    assert mean.estimate == 3 and mean.low == pytest.approx(1.6141, abs=1e-4)


def test_percentiles_use_nearest_rank() -> None:
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert metrics.percentile(values, 0.9) == 90 and metrics.percentile(values, 0.95) == 100
    assert metrics.median(values) == 55 and metrics.percentile([], 0.9) is None
    assert metrics.sentiment_label(-0.3) == "negative" and metrics.sentiment_label(0.3) == "positive"
    assert metrics.sentiment_label(0.0) == "neutral" and metrics.sentiment_label(None) is None
