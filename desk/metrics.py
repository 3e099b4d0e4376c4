"""Satisfaction dashboards: pure computations over conversation records (no clock; the one file read is
the targets, ``desk/targets.yml``).

``desk.review.ReviewStore.records`` loads one ``ConversationRecord`` per conversation *session* (a Rasa
session: a returning customer keeps the sender id but each visit after the session expiry is a new one),
with every handoff and every rating that happened in that session; everything here is arithmetic on
those, so the figures are tested against hand-computed values.

Definitions (also shown on the dashboard):

* Conversations: sessions.
* CSAT average: mean of all ratings given in the sessions (a session rated by the bot's ask and again
  after a handoff counts both ratings).
* % satisfied: share of ratings that are 4 or 5.
* CSAT response rate: ratings / rating requests. A request is recorded as a resolved handoff (resolving
  asks in the channel) or a feedback row (one per session and handoff: written when the survey is asked,
  without a rating until the customer gives one). A survey the customer ignored, declined or left with
  another request is a row without a rating: a request, not a rating; a handoff handed back to the bot
  (no ask) is a request too.
* Containment: sessions without a handoff / sessions.
* Resolution rate: resolved sessions / sessions. A session is resolved (by the bot or an agent) when its
  last handoff was not left waiting or timed out and the customer did not come back on the same topic
  (a handoff reason; "self service" for a session the bot served alone) within ``return_window_days``
  (7, ``desk/targets.yml``) of its start. Targets: CSAT average and resolution rate, ``Targets``.
* Handoff rate: sessions with at least one handoff / sessions; by reason: sessions with a handoff for
  that reason / sessions (a session handed off twice for two reasons counts under both).
* Human first-response time: the agent's first line − the handoff request, for every handoff (median,
  p90 by nearest rank).
* Sentiment at start vs end: mean score of the session's first and of its latest scored customer line.
* CSAT over time: the ratings by the day their session started.
* Breakdown: every figure above (but the arms) for each value of one dimension (segment, channel,
  language or tone) side by side, over the same filtered sessions; each row is ``dashboard`` of that
  group's sessions (sessions without a value form their own group), and the "all" row is ``dashboard``
  of them all.
* Arms: % satisfied and containment per arm with a 95 % Wilson interval, and the difference between two
  arms with a 95 % normal-approximation (Wald) interval. The arm follows the sender id, so one
  customer's sessions share an arm; the intervals treat sessions as independent.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

Z95 = 1.959963984540054
TARGETS_FILE = Path(__file__).with_name("targets.yml")
SATISFIED = 4  # a rating of 4 or 5 is "satisfied"
NEGATIVE_BELOW = -0.25  # sentiment labels for filtering by score
POSITIVE_ABOVE = 0.25


@dataclass(frozen=True)
class HandoffFacts:
    """One handoff of a session."""

    reason: str
    status: str | None = None
    agent_id: str | None = None
    created_at: datetime | None = None
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None


@dataclass(frozen=True)
class ConversationRecord:
    id: str  # the Rasa conversation (sender id): what transcripts, reviews and tickets refer to
    started_at: datetime  # of this session
    session_id: int | None = None
    ended_at: datetime | None = None  # None: the sender's latest session
    customer_id: str | None = None
    status: str | None = None
    channel: str | None = None
    language: str | None = None
    segment: str | None = None
    tone: str | None = None
    arm: str | None = None
    ratings: tuple[int, ...] = ()  # every rating given in this session, oldest first
    rating_requests: int = 0  # recorded requests for a rating (see the module's definitions)
    handoffs: tuple[HandoffFacts, ...] = ()  # every handoff of this session, oldest first
    sentiment_start: float | None = None
    sentiment_end: float | None = None

    @property
    def rating(self) -> int | None:
        """The session's latest rating."""
        return self.ratings[-1] if self.ratings else None

    @property
    def handed_off(self) -> bool:
        return bool(self.handoffs)

    def _first(self, name: str) -> object:
        return getattr(self.handoffs[0], name) if self.handoffs else None

    @property
    def handoff_reason(self) -> str | None:  # of the session's first handoff
        return self._first("reason")  # type: ignore[return-value]

    @property
    def handoff_status(self) -> str | None:
        return self.handoffs[-1].status if self.handoffs else None

    @property
    def agent_id(self) -> str | None:  # who answered the session's last handoff
        return next((h.agent_id for h in reversed(self.handoffs) if h.agent_id), None)

    @property
    def agents(self) -> set[str]:
        return {h.agent_id for h in self.handoffs if h.agent_id}

    @property
    def reasons(self) -> set[str]:
        return {h.reason for h in self.handoffs}


def rating_requests(rated_handoffs: Iterable[int | None], resolved_handoffs: Iterable[int]) -> int:
    """Recorded requests for a rating in one session: each rating given answered one request (the
    ``handoff_id`` of each rating, None for the bot's ask), and each resolved handoff without a rating
    asked once more."""
    rated = list(rated_handoffs)
    answered = {h for h in rated if h is not None}
    return len(rated) + len({h for h in resolved_handoffs if h not in answered})


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

    def without_empty(self) -> Filters:
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
    conversations: int  # sessions
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
    rating_requests: int = 0
    handoffs: int = 0
    resolution_rate: float | None = None
    resolved: int = 0


@dataclass(frozen=True)
class Targets:
    """The business's service targets (``desk/targets.yml``)."""

    csat_average: float = 4.5
    resolution_rate: float = 0.95
    return_window_days: int = 7

    @classmethod
    def load(cls, path: Path = TARGETS_FILE) -> Targets:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(csat_average=float(data["csat_average"]), resolution_rate=float(data["resolution_rate"]),
                   return_window_days=int(data["return_window_days"]))

    def met(self, name: str, value: float | None) -> bool | None:
        """Whether ``value`` reaches the target ``name`` (None: no figure yet)."""
        return None if value is None else value >= getattr(self, name)


UNRESOLVED_HANDOFF = {"queued", "assigned", "timed_out"}  # still waiting, or the customer never reached a person


def topics(record: ConversationRecord) -> set[str]:
    """What a session was about: its handoff reasons, or "self_service" for a session the bot served alone."""
    return record.reasons or {"self_service"}


def resolution(records: Sequence[ConversationRecord], window_days: int = 7) -> tuple[int, int]:
    """(resolved, sessions). A session is resolved when its last handoff (if any) was not left waiting or timed
    out, and the same customer (the conversation, for guests) did not start another session on the same topic
    within ``window_days`` of this one's start. Sessions of every date in ``records`` count as returns."""
    by_customer: dict[str, list[ConversationRecord]] = defaultdict(list)
    for r in records:
        by_customer[r.customer_id or r.id].append(r)
    window = timedelta(days=window_days)
    resolved = 0
    for r in records:
        if r.handoff_status in UNRESOLVED_HANDOFF:
            continue
        mine = topics(r)
        returned = any(
            other is not r and r.started_at < other.started_at <= r.started_at + window and topics(other) & mine
            for other in by_customer[r.customer_id or r.id]
        )
        resolved += not returned
    return resolved, len(records)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _all_ratings(records: Iterable[ConversationRecord]) -> list[int]:
    return [x for r in records for x in r.ratings]


def csat_by_day(records: Sequence[ConversationRecord]) -> list[DayCsat]:
    days: dict[date, list[int]] = defaultdict(list)
    for r in records:
        days[r.started_at.date()].extend(r.ratings)
    return [
        DayCsat(day=d, ratings=len(v), average=statistics.fmean(v), satisfied=sum(x >= SATISFIED for x in v) / len(v))
        for d, v in sorted(days.items()) if v
    ]


def first_response_seconds(records: Sequence[ConversationRecord]) -> list[float]:
    return [
        (h.first_response_at - h.created_at).total_seconds()
        for r in records
        for h in r.handoffs
        if h.created_at is not None and h.first_response_at is not None
    ]


def arm_figures(records: Sequence[ConversationRecord], arm: str) -> ArmFigures:
    mine = [r for r in records if r.arm == arm]
    ratings = _all_ratings(mine)
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


def dashboard(records: Iterable[ConversationRecord], arms: Sequence[str] = (), *,
              return_window_days: int = 7) -> Dashboard:
    rows = list(records)
    resolved, _ = resolution(rows, return_window_days)
    n = len(rows)
    ratings = _all_ratings(rows)
    requests = sum(r.rating_requests for r in rows)
    handed = [r for r in rows if r.handed_off]
    reasons = Counter(reason for r in handed for reason in r.reasons)
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
        response_rate=_share(len(ratings), requests),
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
        rating_requests=requests,
        handoffs=sum(len(r.handoffs) for r in rows),
        resolution_rate=_share(resolved, n),
        resolved=resolved,
    )


# ---------------------------------------------------------------------------- side by side by group

BREAKDOWNS = ("segment", "channel", "language", "tone")  # the dimensions a breakdown groups by


@dataclass(frozen=True)
class GroupFigures:
    value: str | None  # the group's value of the dimension (None: sessions without one)
    figures: Dashboard


@dataclass(frozen=True)
class Breakdown:
    by: str
    groups: list[GroupFigures]
    all: Dashboard


def breakdown(records: Iterable[ConversationRecord], by: str, order: Sequence[str] = ()) -> Breakdown:
    """The dashboard's figures per value of ``by`` (one of ``BREAKDOWNS``), plus all the sessions together.

    Groups are the values present in ``records``: those named in ``order`` first in that order, then the
    others alphabetically, and the sessions without a value last. Every figure comes from ``dashboard``,
    so a group's row reads exactly as the dashboard filtered to that value would.
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"a breakdown is by one of {', '.join(BREAKDOWNS)}, not {by!r}")
    rows = list(records)
    groups: dict[str | None, list[ConversationRecord]] = defaultdict(list)
    for r in rows:
        groups[getattr(r, by) or None].append(r)
    rank = {v: i for i, v in enumerate(order)}

    def position(value: str | None) -> tuple[int, int, str]:
        if value is None:
            return (2, 0, "")
        return (0, rank[value], value) if value in rank else (1, 0, value)

    return Breakdown(
        by=by,
        groups=[GroupFigures(value=v, figures=dashboard(groups[v])) for v in sorted(groups, key=position)],
        all=dashboard(rows),
    )
