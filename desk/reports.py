"""Agent and QA reports for supervisors.

Per agent, over the handoffs created between two days (inclusive) that the agent took:

- ``handled``: handoffs the agent claimed; ``resolved``: the ones that ended resolved;
- first-response time: from the customer's request for a person (``handoffs.created_at``) to the agent's
  first line (``handoff_responses``), median and mean seconds;
- resolution time: from the request to ``resolved_at`` of the resolved ones, median and mean seconds;
- CSAT: the mean of the ratings given on the agent's handoffs (``feedback.handoff_id``), with their count;
- QA: the mean of each criterion of the supervisors' reviews (``transcript_reviews``) of the conversations
  the agent handled, a review counting for the agent of the conversation's latest handoff before it.

QA over time: the means per criterion per ISO week (Monday to Sunday) of the reviews written in the
range, for everyone or one agent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import mean, median

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from desk._unit import unit_of_work
from desk.models import Feedback, Handoff, HandoffResponse, HandoffStatus, TranscriptReview

CRITERIA = ("accuracy", "empathy", "resolution")


@dataclass
class AgentReport:
    agent: str
    handled: int = 0
    resolved: int = 0
    first_response_s: list[float] = field(default_factory=list)
    resolution_s: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    qa: dict[str, list[int]] = field(default_factory=lambda: {c: [] for c in CRITERIA})

    @property
    def first_response_median(self) -> float | None:
        return median(self.first_response_s) if self.first_response_s else None

    @property
    def first_response_mean(self) -> float | None:
        return mean(self.first_response_s) if self.first_response_s else None

    @property
    def resolution_median(self) -> float | None:
        return median(self.resolution_s) if self.resolution_s else None

    @property
    def resolution_mean(self) -> float | None:
        return mean(self.resolution_s) if self.resolution_s else None

    @property
    def csat(self) -> float | None:
        return mean(self.ratings) if self.ratings else None

    @property
    def reviews(self) -> int:
        return len(self.qa[CRITERIA[0]])

    def qa_mean(self, criterion: str) -> float | None:
        scores = self.qa[criterion]
        return mean(scores) if scores else None

    def row(self) -> dict[str, object]:
        def r(v: float | None) -> float | None:
            return round(v, 2) if v is not None else None

        return {
            "agent": self.agent, "handled": self.handled, "resolved": self.resolved,
            "first_response_median_s": r(self.first_response_median), "first_response_mean_s": r(self.first_response_mean),
            "resolution_median_s": r(self.resolution_median), "resolution_mean_s": r(self.resolution_mean),
            "csat": r(self.csat), "ratings": len(self.ratings), "reviews": self.reviews,
            **{f"qa_{c}": r(self.qa_mean(c)) for c in CRITERIA},
        }


@dataclass(frozen=True)
class QaWeek:
    week: date  # the Monday
    reviews: int
    means: dict[str, float]


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min) if day else None


def _end(day: date | None) -> datetime | None:
    return datetime.combine(day + timedelta(days=1), time.min) if day else None


def _within(column, date_from: date | None, date_to: date | None) -> list:  # type: ignore[no-untyped-def]
    out = []
    if date_from:
        out.append(column >= _start(date_from))
    if date_to:
        out.append(column < _end(date_to))
    return out


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


class Reports:
    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory

    def customer_conversations(self, customer_id: str) -> list[str]:
        return customer_conversations(self._session_factory, customer_id)

    def holds_conversation(self, conversation_id: str, username: str) -> bool:
        return holds_conversation(self._session_factory, conversation_id, username)

    def _reviewed_agent(self, session, reviews: Iterable[TranscriptReview]) -> dict[int, str | None]:  # type: ignore[no-untyped-def]
        """The agent each review counts for: the latest handoff of its conversation before the review."""
        reviews = list(reviews)
        ids = {r.conversation_id for r in reviews}
        handoffs: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        if ids:
            for cid, created, agent in session.execute(
                select(Handoff.conversation_id, Handoff.created_at, Handoff.agent_id)
                .where(Handoff.conversation_id.in_(ids), Handoff.agent_id.is_not(None))
                .order_by(Handoff.created_at)
            ):
                handoffs[cid].append((created, agent))
        out: dict[int, str | None] = {}
        for review in reviews:
            before = [agent for created, agent in handoffs.get(review.conversation_id, []) if created <= review.created_at]
            out[review.id] = before[-1] if before else None
        return out

    def agents(self, *, date_from: date | None = None, date_to: date | None = None) -> list[AgentReport]:
        """One report per agent who took a handoff created in the range, busiest first."""
        reports: dict[str, AgentReport] = {}

        def of(agent: str) -> AgentReport:
            return reports.setdefault(agent, AgentReport(agent=agent))

        with unit_of_work(self._session_factory) as session:
            rows = session.execute(
                select(Handoff, HandoffResponse).outerjoin(HandoffResponse, HandoffResponse.handoff_id == Handoff.id)
                .where(Handoff.agent_id.is_not(None), *_within(Handoff.created_at, date_from, date_to))
            ).all()
            handoff_agent: dict[int, str] = {}
            for h, response in rows:
                report = of(h.agent_id)
                handoff_agent[h.id] = h.agent_id
                report.handled += 1
                if response is not None:
                    report.first_response_s.append(max(0.0, (response.first_response_at - h.created_at).total_seconds()))
                if h.status == HandoffStatus.RESOLVED.value:
                    report.resolved += 1
                    if h.resolved_at is not None:
                        report.resolution_s.append(max(0.0, (h.resolved_at - h.created_at).total_seconds()))
            if handoff_agent:
                for handoff_id, rating in session.execute(
                    select(Feedback.handoff_id, Feedback.rating)
                    .where(Feedback.handoff_id.in_(handoff_agent), Feedback.rating.is_not(None))
                ):
                    of(handoff_agent[handoff_id]).ratings.append(int(rating))
            reviews = session.scalars(select(TranscriptReview).where(
                *_within(TranscriptReview.created_at, date_from, date_to))).all()
            owners = self._reviewed_agent(session, reviews)
            for review in reviews:
                agent = owners.get(review.id)
                if agent is None or agent not in reports:
                    continue
                for c in CRITERIA:
                    reports[agent].qa[c].append(int(getattr(review, c)))
        return sorted(reports.values(), key=lambda r: (-r.handled, r.agent))

    def qa_weekly(self, *, date_from: date | None = None, date_to: date | None = None,
                  agent: str | None = None) -> list[QaWeek]:
        """Mean QA score per criterion per week (oldest first), of all reviews or one agent's."""
        weeks: dict[date, dict[str, list[int]]] = defaultdict(lambda: {c: [] for c in CRITERIA})
        with unit_of_work(self._session_factory) as session:
            reviews = session.scalars(select(TranscriptReview).where(
                *_within(TranscriptReview.created_at, date_from, date_to)).order_by(TranscriptReview.created_at)).all()
            owners = self._reviewed_agent(session, reviews) if agent else {}
            for review in reviews:
                if agent and owners.get(review.id) != agent:
                    continue
                bucket = weeks[monday(review.created_at.date())]
                for c in CRITERIA:
                    bucket[c].append(int(getattr(review, c)))
        return [QaWeek(week=w, reviews=len(s[CRITERIA[0]]), means={c: round(mean(s[c]), 2) for c in CRITERIA})
                for w, s in sorted(weeks.items())]

    def qa_matching(self, *, criterion: str | None = None, minimum: int | None = None,
                    maximum: int | None = None) -> set[str]:
        """Conversations with a review whose score (on ``criterion``, else the mean of the criteria) is
        between ``minimum`` and ``maximum`` (inclusive)."""
        if criterion is not None and criterion not in CRITERIA:
            raise ValueError(f"criterion is one of {', '.join(CRITERIA)}")
        out: set[str] = set()
        with unit_of_work(self._session_factory) as session:
            for review in session.scalars(select(TranscriptReview)):
                score = (getattr(review, criterion) if criterion
                         else mean(getattr(review, c) for c in CRITERIA))
                if (minimum is None or score >= minimum) and (maximum is None or score <= maximum):
                    out.add(review.conversation_id)
        return out


def customer_conversations(session_factory: sessionmaker, customer_id: str) -> list[str]:
    """Every conversation (sender id) of a customer: theirs by the conversation, a session or a handoff."""
    from desk.models import Conversation, ConversationSession

    with unit_of_work(session_factory) as session:
        ids: set[str] = set()
        for column, owner in ((Conversation.id, Conversation.customer_id),
                              (ConversationSession.conversation_id, ConversationSession.customer_id),
                              (Handoff.conversation_id, Handoff.customer_id)):
            ids.update(session.scalars(select(column).where(owner == customer_id).distinct()))
        return sorted(ids)


def holds_conversation(session_factory: sessionmaker, conversation_id: str, username: str) -> bool:
    """The agent has an open (assigned) handoff of this conversation now."""
    with unit_of_work(session_factory) as session:
        return session.scalar(select(Handoff.id).where(
            Handoff.conversation_id == conversation_id, Handoff.agent_id == username,
            Handoff.status == HandoffStatus.ASSIGNED.value).limit(1)) is not None
