"""Dashboard figures against hand-computed values, and the interval maths."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from desk import metrics
from desk.metrics import ConversationRecord as R
from desk.metrics import Filters, HandoffFacts

D1, D2 = datetime(2026, 11, 19, 10), datetime(2026, 11, 20, 10)
S = timedelta(seconds=1)


def _h(reason: str, at: datetime, answered_after_s: int, status: str = "resolved") -> HandoffFacts:
    return HandoffFacts(reason=reason, status=status, created_at=at, first_response_at=at + answered_after_s * S)


# six sessions of five senders (web-A comes back on day 2: c1 and c3 are two sessions of one sender), by hand:
#   ratings 5, 4 | 2, 1 (c3 was rated after each of its two handoffs)
#     → 4 ratings, avg (5+4+2+1)/4 = 3.0, satisfied 2/4 = 0.5
#     day 1: 5, 4 → avg 4.5, 100 %; day 2: 2, 1 → avg 1.5, 0 %
#   rating requests 1 + 1 + 2 + 1 + 0 + 0 = 5 (c4: resolved, not rated; c5: still with the agent)
#     → response rate 4/5 = 0.8
#   handed off: c3 (refund, then negative_sentiment), c4 (refund), c5 (negative_sentiment) → 3 of 6 sessions
#     containment 3/6, handoff rate 3/6; by reason: refund {c3, c4} 2/6, negative_sentiment {c3, c5} 2/6
#   first responses, every handoff: 30, 120 (c3), 90 (c4), 600 (c5) → sorted 30, 90, 120, 600
#     median (90 + 120)/2 = 105, p90 nearest rank ceil(0.9·4) = 4th = 600
#   sentiment pairs: c1 (-0.5 → 0.5), c3 (-0.9 → -0.1) → start (-0.5 - 0.9)/2 = -0.7, end (0.5 - 0.1)/2 = 0.2
RECORDS = [
    R(id="web-A", session_id=1, started_at=D1, ended_at=D2, channel="web", language="zh", segment="vip", tone="warm",
      arm="adaptive", ratings=(5,), rating_requests=1, sentiment_start=-0.5, sentiment_end=0.5),
    R(id="web-B", session_id=2, started_at=D1, channel="web", language="en", segment="new", tone="neutral",
      arm="neutral", ratings=(4,), rating_requests=1),
    R(id="web-A", session_id=3, started_at=D2, channel="wechat", language="zh", segment="vip", tone="empathetic",
      arm="adaptive", ratings=(2, 1), rating_requests=2,
      handoffs=(_h("refund", D2, 30), _h("negative_sentiment", D2 + 3600 * S, 120)),
      sentiment_start=-0.9, sentiment_end=-0.1),
    R(id="web-C", session_id=4, started_at=D2, channel="web", language="zh", segment="regular", arm="neutral",
      rating_requests=1, handoffs=(_h("refund", D2, 90),)),
    R(id="web-D", session_id=5, started_at=D2, channel="web", language="en", segment="at_risk", arm="adaptive",
      handoffs=(_h("negative_sentiment", D2, 600, status="assigned"),)),
    R(id="rest-E", session_id=6, started_at=D2, channel="rest", language="en", segment="regular", arm="neutral"),
]


def _sessions(records: list[R]) -> list[int | None]:
    return [r.session_id for r in records]


def test_dashboard_matches_hand_computed_values() -> None:
    d = metrics.dashboard(RECORDS, arms=["adaptive", "neutral"])
    assert d.conversations == 6 and d.ratings == 4 and d.rating_requests == 5 and d.handoffs == 4
    assert d.csat_average == pytest.approx(3.0)
    assert d.satisfied == pytest.approx(0.5)
    assert d.response_rate == pytest.approx(0.8)
    assert d.containment == pytest.approx(0.5) and d.handoff_rate == pytest.approx(0.5)
    assert d.handoff_rate_by_reason == pytest.approx({"negative_sentiment": 2 / 6, "refund": 2 / 6})
    assert d.first_response_median_s == 105 and d.first_response_p90_s == 600 and d.first_responses == 4
    assert d.sentiment_start == pytest.approx(-0.7) and d.sentiment_end == pytest.approx(0.2)
    assert d.sentiment_pairs == 2
    assert [(x.day, x.ratings, x.average, x.satisfied) for x in d.csat_by_day] == [
        (date(2026, 11, 19), 2, 4.5, 1.0), (date(2026, 11, 20), 2, 1.5, 0.0)]


def test_a_session_reads_its_first_handoff_and_latest_rating() -> None:
    c3 = RECORDS[2]
    assert c3.rating == 1 and c3.handoff_reason == "refund" and c3.reasons == {"refund", "negative_sentiment"}
    assert c3.handoff_status == "resolved" and c3.handed_off and not RECORDS[0].handed_off
    assert RECORDS[5].rating is None and RECORDS[5].handoff_reason is None


def test_rating_requests_count_ratings_and_unrated_resolved_handoffs() -> None:
    # bot's ask rated (None) + handoff 7 rated + handoff 8 resolved unrated → 1 + 1 + 1 = 3
    assert metrics.rating_requests([None, 7], [7, 8]) == 3
    assert metrics.rating_requests([], [9]) == 1 and metrics.rating_requests([None], []) == 1
    assert metrics.rating_requests([], []) == 0


def test_arms_are_compared_with_intervals() -> None:
    d = metrics.dashboard(RECORDS, arms=["adaptive", "neutral"])
    adaptive, neutral = d.arms
    # adaptive: sessions 1, 3, 5 → ratings 5, 2, 1 → 1/3 satisfied, avg 8/3; contained: session 1 → 1/3
    assert (adaptive.conversations, adaptive.ratings, adaptive.satisfied_count, adaptive.contained_count) == (3, 3, 1, 1)
    assert adaptive.csat_average == pytest.approx(8 / 3)
    # neutral: sessions 2, 4, 6 → rating 4 → 1/1 satisfied; contained: sessions 2, 6 → 2/3
    assert (neutral.conversations, neutral.ratings, neutral.satisfied_count, neutral.contained_count) == (3, 1, 1, 2)
    assert adaptive.containment.estimate == pytest.approx(1 / 3)
    assert d.arm_difference_containment.estimate == pytest.approx(1 / 3 - 2 / 3)
    se = math.sqrt((1 / 3) * (2 / 3) / 3 + (2 / 3) * (1 / 3) / 3)
    assert d.arm_difference_containment.low == pytest.approx(-1 / 3 - 1.959964 * se, abs=1e-5)
    assert d.arm_difference_satisfied.estimate == pytest.approx(1 / 3 - 1.0)


def test_filters_slice_by_segment_channel_language_tone_and_date() -> None:
    assert _sessions(metrics.select(RECORDS, Filters(segment="vip"))) == [1, 3]
    assert _sessions(metrics.select(RECORDS, Filters(channel="web", language="en"))) == [2, 5]
    assert _sessions(metrics.select(RECORDS, Filters(tone="empathetic"))) == [3]
    assert _sessions(metrics.select(RECORDS, Filters(date_from=date(2026, 11, 20)))) == [3, 4, 5, 6]
    assert _sessions(metrics.select(RECORDS, Filters(date_to=date(2026, 11, 19)))) == [1, 2]
    vip = metrics.dashboard(metrics.select(RECORDS, Filters(segment="vip")))
    # sessions 1 and 3: ratings 5, 2, 1 → 8/3; contained: session 1 of 2
    assert vip.csat_average == pytest.approx(8 / 3) and vip.containment == pytest.approx(0.5)


def test_empty_input_gives_no_figures() -> None:
    d = metrics.dashboard([], arms=["adaptive", "neutral"])
    assert d.conversations == 0 and d.csat_average is None and d.containment is None and d.response_rate is None
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


def test_breakdown_by_language_matches_hand_computed_values_per_group() -> None:
    b = metrics.breakdown(RECORDS, "language", order=("zh", "en"))
    assert b.by == "language" and [g.value for g in b.groups] == ["zh", "en"]
    zh, en = (g.figures for g in b.groups)
    # zh: sessions 1, 3, 4
    #   ratings 5 | 2, 1 → 3 ratings, avg (5+2+1)/3 = 8/3, satisfied 1/3; requests 1 + 2 + 1 = 4 → 3/4
    #   handed off: 3, 4 → containment 1/3, handoff rate 2/3
    #   first responses 30, 120 (3), 90 (4) → sorted 30, 90, 120: median 90, p90 ceil(0.9·3) = 3rd = 120
    #   sentiment pairs: 1 (-0.5 → 0.5), 3 (-0.9 → -0.1) → start -0.7, end 0.2
    assert (zh.conversations, zh.ratings, zh.rating_requests, zh.handoffs) == (3, 3, 4, 3)
    assert zh.csat_average == pytest.approx(8 / 3) and zh.satisfied == pytest.approx(1 / 3)
    assert zh.response_rate == pytest.approx(3 / 4)
    assert zh.containment == pytest.approx(1 / 3) and zh.handoff_rate == pytest.approx(2 / 3)
    assert zh.first_response_median_s == 90 and zh.first_response_p90_s == 120
    assert zh.sentiment_start == pytest.approx(-0.7) and zh.sentiment_end == pytest.approx(0.2)
    # en: sessions 2, 5, 6
    #   ratings 4 → avg 4.0, satisfied 1/1; requests 1 + 0 + 0 = 1 → 1/1
    #   handed off: 5 → containment 2/3, handoff rate 1/3; first responses 600 → median 600, p90 600
    #   no sentiment pairs → None
    assert (en.conversations, en.ratings, en.rating_requests, en.handoffs) == (3, 1, 1, 1)
    assert en.csat_average == 4 and en.satisfied == 1 and en.response_rate == 1
    assert en.containment == pytest.approx(2 / 3) and en.handoff_rate == pytest.approx(1 / 3)
    assert en.first_response_median_s == 600 and en.first_response_p90_s == 600
    assert en.sentiment_start is None and en.sentiment_end is None
    # the all row is the whole dashboard (see test_dashboard_matches_hand_computed_values)
    assert b.all.conversations == 6 and b.all.csat_average == pytest.approx(3.0) and b.all.response_rate == 0.8


def test_breakdown_orders_groups_and_keeps_sessions_without_a_value() -> None:
    # tone: 1 warm, 2 neutral, 3 empathetic, 4–6 none; the given order first, then the rest, none last
    b = metrics.breakdown(RECORDS, "tone", order=("neutral", "empathetic"))
    assert [(g.value, g.figures.conversations) for g in b.groups] == [
        ("neutral", 1), ("empathetic", 1), ("warm", 1), (None, 3)]
    # a group reads exactly as the dashboard filtered to that value
    vip = next(g.figures for g in metrics.breakdown(RECORDS, "segment").groups if g.value == "vip")
    assert vip == metrics.dashboard(metrics.select(RECORDS, Filters(segment="vip")))
    assert metrics.breakdown([], "channel").groups == [] and metrics.breakdown([], "channel").all.conversations == 0
    with pytest.raises(ValueError):
        metrics.breakdown(RECORDS, "arm")


def test_resolution_counts_sessions_not_left_waiting_and_not_returned_to_on_the_same_topic() -> None:
    # by hand: web-D's handoff is still with the agent → not resolved; the other five are → 5/6
    assert metrics.resolution(RECORDS) == (5, 6)
    assert metrics.dashboard(RECORDS).resolution_rate == pytest.approx(5 / 6)
    back = [
        R(id="web-F", customer_id="C9", started_at=D1, handoffs=(_h("refund", D1, 30),)),
        # the same customer on another channel, 3 days later, again about a refund: the first was not resolved
        R(id="wechat:o-f", customer_id="C9", started_at=D1 + timedelta(days=3), handoffs=(_h("refund", D1, 30),)),
        # a different topic within the window, or the same topic after it, leaves a session resolved
        R(id="web-G", customer_id="C8", started_at=D1),
        R(id="web-G", customer_id="C8", started_at=D1 + timedelta(days=1), handoffs=(_h("refund", D1, 30),)),
        R(id="web-G", customer_id="C8", started_at=D1 + timedelta(days=9), handoffs=(_h("refund", D1, 30),)),
        # a guest is followed by conversation id; a timed-out handoff never counts as resolved
        R(id="rest-H", started_at=D1), R(id="rest-H", started_at=D1 + timedelta(hours=2)),
        R(id="rest-I", started_at=D1, handoffs=(_h("user_request", D1, 30, status="timed_out"),)),
    ]
    assert metrics.resolution(back, window_days=7) == (5, 8)
    assert metrics.resolution(back, window_days=1) == (6, 8)  # web-F's return is outside one day; rest-H's is in


def test_targets_come_from_the_business_rules_file_and_say_met_or_not() -> None:
    targets = metrics.Targets.load()
    assert (targets.csat_average, targets.resolution_rate, targets.return_window_days) == (4.5, 0.95, 7)
    assert targets.met("csat_average", 4.5) is True and targets.met("csat_average", 4.49) is False
    assert targets.met("resolution_rate", None) is None
