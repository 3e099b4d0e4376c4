"""Satisfaction dashboards: pure computations over conversation records (no I/O, no clock).

``desk.review.ReviewStore.records`` loads one ``ConversationRecord`` per conversation; everything here is
arithmetic on those, so the figures are tested against hand-computed values.

Definitions (also shown on the dashboard):

* CSAT average: mean of the conversations' ratings (the latest rating of each conversation).
* % satisfied: share of ratings that are 4 or 5.
* CSAT response rate: rated conversations / conversations.
* Containment: conversations that never went to a human (no handoff) / conversations.
* Handoff rate by reason: conversations handed off for that reason / conversations.
* Human first-response time: the agent's first line − the handoff request (median, p90 by nearest rank).
* Sentiment at start vs end: mean score of the first and of the latest scored customer line.
* Arms: % satisfied and containment per arm with a 95 % Wilson interval, and the difference between two
  arms with a 95 % normal-approximation (Wald) interval.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Iterable, Sequence

Z95 = 1.959963984540054
SATISFIED = 4  # a rating of 4 or 5 is "satisfied"
NEGATIVE_BELOW = -0.25  # sentiment labels for filtering by score
POSITIVE_ABOVE = 0.25


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    started_at: datetime
    customer_id: str | None = None
    status: str | None = None
    channel: str | None = None
    language: str | None = None
    segment: str | None = None
    tone: str | None = None
    arm: str | None = None
    rating: int | None = None  # latest CSAT of the conversation
    handoff_reason: str | None = None  # of the conversation's first handoff
    handoff_status: str | None = None
    agent_id: str | None = None
    handoff_at: datetime | None = None
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None
    sentiment_start: float | None = None
    sentiment_end: float | None = None

    @property
    def handed_off(self) -> bool:
        return self.handoff_reason is not None


def sentiment_label(score: float | None) -> str | None:
    if score is None:
        return None
    if score < NEGATIVE_BELOW:
        return "negative"
    if score > POSITIVE_ABOVE:
        return "positive"
    return "neutral"


@dataclass(frozen=True)
class Filters:
    """Slicing for the dashboards (None = any)."""

    segment: str | None = None
    channel: str | None = None
    language: str | None = None
    tone: str | None = None
    arm: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    def matches(self, r: ConversationRecord) -> bool:
        day = r.started_at.date()
        return (
            (self.segment is None or r.segment == self.segment)
            and (self.channel is None or r.channel == self.channel)
            and (self.language is None or r.language == self.language)
            and (self.tone is None or r.tone == self.tone)
            and (self.arm is None or r.arm == self.arm)
            and (self.date_from is None or day >= self.date_from)
            and (self.date_to is None or day <= self.date_to)
        )

    def without_empty(self) -> "Filters":
        return replace(self, **{k: None for k, v in self.__dict__.items() if v == ""})


def select(records: Iterable[ConversationRecord], filters: Filters) -> list[ConversationRecord]:
    return [r for r in records if filters.matches(r)]


# ---------------------------------------------------------------------------- small statistics


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in (0, 1]): the ceil(q·n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    n: int


def wilson(successes: int, n: int, z: float = Z95) -> Interval | None:
    """Wilson score interval for a proportion (good at small n and near 0 or 1)."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(estimate=p, low=max(0.0, centre - half), high=min(1.0, centre + half), n=n)


def difference(a_successes: int, a_n: int, b_successes: int, b_n: int, z: float = Z95) -> Interval | None:
    """p_a − p_b with a normal-approximation (Wald) interval."""
    if a_n <= 0 or b_n <= 0:
        return None
    pa, pb = a_successes / a_n, b_successes / b_n
    se = math.sqrt(pa * (1 - pa) / a_n + pb * (1 - pb) / b_n)
    d = pa - pb
    return Interval(estimate=d, low=d - z * se, high=d + z * se, n=a_n + b_n)


def mean_interval(values: Sequence[float], z: float = Z95) -> Interval | None:
    """Mean with a normal-approximation interval (sample standard deviation; one value: zero width)."""
    if not values:
        return None
    m = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    half = z * sd / math.sqrt(len(values))
    return Interval(estimate=m, low=m - half, high=m + half, n=len(values))


# ---------------------------------------------------------------------------- the dashboard figures


@dataclass(frozen=True)
class DayCsat:
    day: date
    ratings: int
    average: float
    satisfied: float  # share 0..1


@dataclass(frozen=True)
class ArmFigures:
    arm: str
    conversations: int
    ratings: int
    csat_average: float | None
    satisfied: Interval | None
    containment: Interval | None
    satisfied_count: int = 0
    contained_count: int = 0


@dataclass(frozen=True)
class Dashboard:
    conversations: int
    ratings: int
    csat_average: float | None
    satisfied: float | None
    response_rate: float | None
    containment: float | None
    handoff_rate: float | None
    handoff_rate_by_reason: dict[str, float]
    first_response_median_s: float | None
    first_response_p90_s: float | None
    first_responses: int
    sentiment_start: float | None
    sentiment_end: float | None
    sentiment_pairs: int
    csat_by_day: list[DayCsat]
    arms: list[ArmFigures] = field(default_factory=list)
    arm_difference_satisfied: Interval | None = None
    arm_difference_containment: Interval | None = None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def csat_by_day(records: Sequence[ConversationRecord]) -> list[DayCsat]:
    days: dict[date, list[int]] = defaultdict(list)
    for r in records:
        if r.rating is not None:
            days[r.started_at.date()].append(r.rating)
    return [
        DayCsat(day=d, ratings=len(v), average=statistics.fmean(v), satisfied=sum(x >= SATISFIED for x in v) / len(v))
        for d, v in sorted(days.items())
    ]


def first_response_seconds(records: Sequence[ConversationRecord]) -> list[float]:
    return [
        (r.first_response_at - r.handoff_at).total_seconds()
        for r in records
        if r.handoff_at is not None and r.first_response_at is not None
    ]


def arm_figures(records: Sequence[ConversationRecord], arm: str) -> ArmFigures:
    mine = [r for r in records if r.arm == arm]
    ratings = [r.rating for r in mine if r.rating is not None]
    satisfied = sum(x >= SATISFIED for x in ratings)
    contained = sum(not r.handed_off for r in mine)
    return ArmFigures(
        arm=arm,
        conversations=len(mine),
        ratings=len(ratings),
        csat_average=statistics.fmean(ratings) if ratings else None,
        satisfied=wilson(satisfied, len(ratings)),
        containment=wilson(contained, len(mine)),
        satisfied_count=satisfied,
        contained_count=contained,
    )


def dashboard(records: Iterable[ConversationRecord], arms: Sequence[str] = ()) -> Dashboard:
    rows = list(records)
    n = len(rows)
    ratings = [r.rating for r in rows if r.rating is not None]
    handed = [r for r in rows if r.handed_off]
    reasons = Counter(r.handoff_reason for r in handed)
    responses = first_response_seconds(rows)
    pairs = [(r.sentiment_start, r.sentiment_end) for r in rows
             if r.sentiment_start is not None and r.sentiment_end is not None]
    arm_rows = [arm_figures(rows, a) for a in arms]
    diff_sat = diff_con = None
    if len(arm_rows) >= 2:
        a, b = arm_rows[0], arm_rows[1]
        diff_sat = difference(a.satisfied_count, a.ratings, b.satisfied_count, b.ratings)
        diff_con = difference(a.contained_count, a.conversations, b.contained_count, b.conversations)
    return Dashboard(
        conversations=n,
        ratings=len(ratings),
        csat_average=statistics.fmean(ratings) if ratings else None,
        satisfied=_share(sum(x >= SATISFIED for x in ratings), len(ratings)),
        response_rate=_share(len(ratings), n),
        containment=_share(n - len(handed), n),
        handoff_rate=_share(len(handed), n),
        handoff_rate_by_reason={reason: count / n for reason, count in sorted(reasons.items())},
        first_response_median_s=median(responses),
        first_response_p90_s=percentile(responses, 0.9),
        first_responses=len(responses),
        sentiment_start=statistics.fmean(p[0] for p in pairs) if pairs else None,
        sentiment_end=statistics.fmean(p[1] for p in pairs) if pairs else None,
        sentiment_pairs=len(pairs),
        csat_by_day=csat_by_day(rows),
        arms=arm_rows,
        arm_difference_satisfied=diff_sat,
        arm_difference_containment=diff_con,
    )
