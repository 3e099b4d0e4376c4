"""ReviewStore: what the supervisor pages read and write.

Conversation records for search and the dashboards (``desk.metrics.ConversationRecord``), QA reviews,
low-CSAT follow-ups (tickets of topic ``feedback_followup``, due 24 h after the rating) and the audited
reveal of one masked personal field (the audit row is written before the value is read).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from common.masking import mask_name, mask_text
from desk._unit import unit_of_work
from desk.metrics import ConversationRecord, HandoffFacts, rating_requests, sentiment_label
from desk.models import (
    Conversation,
    ConversationSession,
    ConversationStatus,
    Feedback,
    FollowupClosure,
    Handoff,
    HandoffResponse,
    HandoffStatus,
    PiiReveal,
    Ticket,
    TicketStatus,
    TicketTopic,
    TranscriptReview,
)
from profiles.models import Customer
from profiles.vault import FIELDS, PiiVault

CRITERIA = ("accuracy", "empathy", "resolution")
NOTE_MAX = 2000


class ReviewError(ValueError):
    """A review, closure or reveal request that cannot be accepted. ``key`` names the console's zh/en
    wording (``desk/console/i18n.yml``) filled in with ``values``; ``str()`` is the English text for logs."""

    NOT_FOUND = frozenset({"review_error_no_conversation", "review_error_no_followup"})

    def __init__(self, key: str, message: str, **values: str) -> None:
        super().__init__(message)
        self.key = key
        self.values = values

    @property
    def not_found(self) -> bool:
        return self.key in self.NOT_FOUND


@dataclass(frozen=True)
class TranscriptQuery:
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    channel: str | None = None
    language: str | None = None
    reason: str | None = None  # handoff reason; "none" = never handed off
    sentiment: str | None = None  # negative | neutral | positive (at the end)
    csat: int | None = None
    segment: str | None = None
    agent: str | None = None
    tone: str | None = None
    arm: str | None = None
    customer: str | None = None
    # only these conversations (full-text search, labels, QA scores: desk.search, desk.labels, desk.reports)
    conversation_ids: frozenset[str] | None = None

    def matches(self, r: ConversationRecord) -> bool:
        day = r.started_at.date()
        return (
            (self.date_from is None or day >= self.date_from)
            and (self.date_to is None or day <= self.date_to)
            and (self.channel is None or r.channel == self.channel)
            and (self.language is None or r.language == self.language)
            and (self.reason is None or (self.reason in r.reasons if self.reason != "none" else not r.handed_off))
            and (self.sentiment is None or sentiment_label(r.sentiment_end) == self.sentiment)
            and (self.csat is None or self.csat in r.ratings)
            and (self.segment is None or r.segment == self.segment)
            and (self.agent is None or self.agent in r.agents)
            and (self.tone is None or r.tone == self.tone)
            and (self.arm is None or r.arm == self.arm)
            and (self.customer is None or r.customer_id == self.customer)
            and (self.conversation_ids is None or r.id in self.conversation_ids)
        )


@dataclass(frozen=True)
class ReviewView:
    id: int
    conversation_id: str
    reviewer: str
    accuracy: int
    empathy: int
    resolution: int
    notes: str | None
    created_at: datetime


@dataclass(frozen=True)
class FollowupView:
    ticket_id: int
    conversation_id: str | None
    customer_id: str | None
    rating: int | None
    comment: str | None
    created_at: datetime
    due_at: datetime | None
    status: str
    overdue: bool
    closed_by: str | None = None
    note: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class RevealView:
    id: int
    supervisor: str
    customer_id: str
    field: str
    reason: str
    conversation_id: str | None
    created_at: datetime


class ReviewStore:
    def __init__(
        self, session_factory: sessionmaker, *, vault: PiiVault, clock: Callable[[], datetime] = datetime.utcnow
    ) -> None:
        self._session_factory = session_factory
        self._vault = vault
        self._clock = clock

    # --------------------------------------------------------------- conversations

    def records(self, *, date_from: date | None = None, date_to: date | None = None) -> list[ConversationRecord]:
        """One record per conversation session started between the two days (inclusive), newest first."""
        with unit_of_work(self._session_factory) as session:
            return _records(session, date_from=date_from, date_to=date_to)

    def search(self, query: TranscriptQuery) -> list[ConversationRecord]:
        return [r for r in self.records(date_from=query.date_from, date_to=query.date_to) if query.matches(r)]

    def sessions_of(self, conversation_id: str) -> list[ConversationRecord]:
        """The sessions of one conversation (sender id), newest first; reads only that conversation."""
        with unit_of_work(self._session_factory) as session:
            return _records(session, conversation_id=conversation_id)

    def record(self, conversation_id: str, session_id: int | None = None) -> ConversationRecord | None:
        """One session of a conversation (the latest when ``session_id`` is None)."""
        sessions = self.sessions_of(conversation_id)
        if session_id is None:
            return sessions[0] if sessions else None
        return next((r for r in sessions if r.session_id == session_id), None)

    def note_first_response(self, handoff_id: int, agent_id: str) -> bool:
        """An agent line was stored on the handoff: keep the first one's time (first-response metric)."""
        return record_first_response(self._session_factory, handoff_id, agent_id, self._clock())

    # --------------------------------------------------------------- QA reviews

    def add_review(
        self, *, conversation_id: str, reviewer: str, scores: dict[str, int], notes: str | None
    ) -> ReviewView:
        for criterion in CRITERIA:
            value = scores.get(criterion)
            if not isinstance(value, int) or not 1 <= value <= 5:
                raise ReviewError("review_error_score", f"{criterion} must be a score from 1 to 5",
                                  criterion=criterion)
        notes = mask_text(notes.strip())[:NOTE_MAX] if notes and notes.strip() else None
        with unit_of_work(self._session_factory) as session:
            if session.get(Conversation, conversation_id) is None:
                raise ReviewError("review_error_no_conversation", "no such conversation")
            row = TranscriptReview(conversation_id=conversation_id, reviewer=reviewer, notes=notes,
                                   created_at=self._clock(), **{c: scores[c] for c in CRITERIA})
            session.add(row)
            session.flush()
            return _review(row)

    def reviews_for(self, conversation_id: str) -> list[ReviewView]:
        with unit_of_work(self._session_factory) as session:
            rows = session.scalars(
                select(TranscriptReview).where(TranscriptReview.conversation_id == conversation_id)
                .order_by(TranscriptReview.id)
            ).all()
            return [_review(r) for r in rows]

    # --------------------------------------------------------------- low-CSAT follow-ups

    def followups(self, *, open_only: bool = False) -> list[FollowupView]:
        """Follow-ups, the ones due first first; ``overdue`` = still open after the due time."""
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            tickets = session.scalars(
                select(Ticket).where(Ticket.topic == TicketTopic.FEEDBACK_FOLLOWUP.value)
            ).all()
            feedback = {f.followup_ticket_id: f for f in session.scalars(
                select(Feedback).where(Feedback.followup_ticket_id.is_not(None))).all()}
            closures = {c.ticket_id: c for c in session.scalars(select(FollowupClosure)).all()}
            out = []
            for t in tickets:
                is_open = TicketStatus(t.status).is_open
                if open_only and not is_open:
                    continue
                f = feedback.get(t.id)
                c = closures.get(t.id)
                out.append(FollowupView(
                    ticket_id=t.id, conversation_id=t.conversation_id, customer_id=t.customer_id,
                    rating=f.rating if f else None, comment=f.comment if f else None, created_at=t.created_at,
                    due_at=t.due_at, status=t.status, overdue=bool(is_open and t.due_at and t.due_at < now),
                    closed_by=c.closed_by if c else None, note=c.note if c else None,
                    closed_at=c.closed_at if c else None,
                ))
            out.sort(key=lambda v: (not TicketStatus(v.status).is_open, v.due_at or v.created_at, v.ticket_id))
            return out

    def close_followup(self, ticket_id: int, *, supervisor: str, note: str) -> FollowupView:
        note = mask_text(note.strip())[:NOTE_MAX] if note else ""
        if not note:
            raise ReviewError("review_error_note_needed", "a closing note is needed")
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.topic != TicketTopic.FEEDBACK_FOLLOWUP.value:
                raise ReviewError("review_error_no_followup", "no such follow-up")
            if not TicketStatus(ticket.status).is_open:
                raise ReviewError("review_error_closed_already", "this follow-up is closed already")
            ticket.status = TicketStatus.CLOSED.value
            ticket.resolved_at = now
            ticket.updated_at = now
            session.add(FollowupClosure(ticket_id=ticket_id, closed_by=supervisor, note=note, closed_at=now))
        return next(f for f in self.followups() if f.ticket_id == ticket_id)

    # --------------------------------------------------------------- audited reveal

    def reveal(
        self, *, supervisor: str, customer_id: str, field: str, reason: str, conversation_id: str | None = None
    ) -> str:
        """The raw value of one field; the audit row (who, when, customer, field, reason) is committed first."""
        reason = (reason or "").strip()
        if field not in FIELDS:
            raise ReviewError("review_error_field", f"field must be one of {', '.join(FIELDS)}",
                              fields=", ".join(FIELDS))
        if len(reason) < 3:
            raise ReviewError("review_error_reason_needed", "a reason is needed to reveal personal data")
        if not customer_id:
            raise ReviewError("review_error_no_customer", "no customer")
        with unit_of_work(self._session_factory) as session:
            session.add(PiiReveal(supervisor=supervisor, customer_id=customer_id, field=field,
                                  reason=mask_text(reason)[:500], conversation_id=conversation_id,
                                  created_at=self._clock()))
        return self._vault.reveal(customer_id, field)

    def masked_fields(self, customer_id: str | None) -> dict[str, str | None]:
        """The masked display forms of the fields a supervisor may reveal (as profiles keeps them)."""
        if not customer_id:
            return {}
        with unit_of_work(self._session_factory) as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                return {}
            return {"phone": customer.phone_masked, "id_number": customer.id_number_masked,
                    "name": mask_name(customer.name)}

    def audit_log(self, *, supervisor: str | None = None, customer_id: str | None = None,
                  field: str | None = None) -> list[RevealView]:
        with unit_of_work(self._session_factory) as session:
            query = select(PiiReveal).order_by(PiiReveal.created_at.desc(), PiiReveal.id.desc())
            if supervisor:
                query = query.where(PiiReveal.supervisor == supervisor)
            if customer_id:
                query = query.where(PiiReveal.customer_id == customer_id)
            if field:
                query = query.where(PiiReveal.field == field)
            return [
                RevealView(id=r.id, supervisor=r.supervisor, customer_id=r.customer_id, field=r.field,
                           reason=r.reason, conversation_id=r.conversation_id, created_at=r.created_at)
                for r in session.scalars(query).all()
            ]


def _review(r: TranscriptReview) -> ReviewView:
    return ReviewView(id=r.id, conversation_id=r.conversation_id, reviewer=r.reviewer, accuracy=r.accuracy,
                      empathy=r.empathy, resolution=r.resolution, notes=r.notes, created_at=r.created_at)


def record_first_response(session_factory: sessionmaker, handoff_id: int, agent_id: str, at: datetime) -> bool:
    """Keep the agent's first line on a handoff (later lines change nothing); True when this was the first."""
    try:
        with unit_of_work(session_factory) as session:
            if session.get(HandoffResponse, handoff_id) is not None:
                return False
            session.add(HandoffResponse(handoff_id=handoff_id, agent_id=agent_id, first_response_at=at))
        return True
    except IntegrityError:  # another line of the same handoff was first
        return False


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min)


def _records(
    session: Session, *, conversation_id: str | None = None, date_from: date | None = None,
    date_to: date | None = None,
) -> list[ConversationRecord]:
    """Sessions (and conversations with no session row: one implicit session from their start) in the
    range, each with the handoffs and ratings whose time falls in [started_at, ended_at). Only that range
    (or that one conversation) is read."""

    sessions_q = select(ConversationSession, Conversation).outerjoin(
        Conversation, Conversation.id == ConversationSession.conversation_id)
    bare_q = select(Conversation).where(~exists().where(ConversationSession.conversation_id == Conversation.id))
    if conversation_id is not None:
        sessions_q = sessions_q.where(ConversationSession.conversation_id == conversation_id)
        bare_q = bare_q.where(Conversation.id == conversation_id)
    if date_from is not None:
        sessions_q = sessions_q.where(ConversationSession.started_at >= _day_start(date_from))
        bare_q = bare_q.where(Conversation.started_at >= _day_start(date_from))
    if date_to is not None:
        sessions_q = sessions_q.where(ConversationSession.started_at < _day_start(date_to + timedelta(days=1)))
        bare_q = bare_q.where(Conversation.started_at < _day_start(date_to + timedelta(days=1)))
    spans: list[_Span] = [
        _Span(s.conversation_id, s.started_at, s.ended_at, s, c) for s, c in session.execute(sessions_q).all()
    ]
    spans += [_Span(c.id, c.started_at, None, None, c) for c in session.scalars(bare_q).all()]
    if not spans:
        return []
    earliest = min(span.start for span in spans)
    latest = None if any(span.end is None for span in spans) else max(span.end for span in spans)  # type: ignore[type-var]

    def window(query: Any, created: Any, owner: Any) -> Any:
        query = query.where(created >= earliest)
        if latest is not None:
            query = query.where(created < latest)
        if conversation_id is not None:
            query = query.where(owner == conversation_id)
        return query

    by_sender: dict[str, list[_Span]] = defaultdict(list)
    for span in spans:
        by_sender[span.sender].append(span)
    for own in by_sender.values():
        own.sort(key=lambda sp: sp.start)

    def owner_of(sender: str, at: datetime) -> _Span | None:
        own = by_sender.get(sender)
        if not own:
            return None
        i = bisect_right([sp.start for sp in own], at) - 1
        if i < 0 or (own[i].end is not None and at >= own[i].end):
            return None
        return own[i]

    handoff_q = window(select(Handoff, HandoffResponse).outerjoin(HandoffResponse, HandoffResponse.handoff_id == Handoff.id),
                       Handoff.created_at, Handoff.conversation_id).order_by(Handoff.created_at, Handoff.id)
    for h, response in session.execute(handoff_q).all():
        span = owner_of(h.conversation_id, h.created_at)
        if span is not None:
            span.handoffs.append((h, response))
    feedback_q = window(select(Feedback), Feedback.created_at, Feedback.conversation_id).order_by(
        Feedback.created_at, Feedback.id)
    for f in session.scalars(feedback_q).all():
        span = owner_of(f.conversation_id, f.created_at)
        if span is not None:
            span.feedback.append(f)

    out = [span.record() for span in spans]
    out.sort(key=lambda r: (r.started_at, r.session_id or 0, r.id), reverse=True)
    return out


class _Span:
    """One session while its record is assembled."""

    def __init__(self, sender: str, start: datetime, end: datetime | None, row: ConversationSession | None,
                 conversation: Conversation | None) -> None:
        self.sender, self.start, self.end, self.row, self.conversation = sender, start, end, row, conversation
        self.handoffs: list[tuple[Handoff, HandoffResponse | None]] = []
        self.feedback: list[Feedback] = []

    def record(self) -> ConversationRecord:
        s, c = self.row, self.conversation
        first = self.handoffs[0][0] if self.handoffs else None
        profile = ((first.package or {}).get("profile") or {}) if first is not None else {}
        tones = [f.tone for f in self.feedback if f.tone]
        if self.end is None and c is not None:
            status = c.status
        else:  # an earlier session: how its last handoff ended, else the bot's
            status = self.handoffs[-1][0].status if self.handoffs else ConversationStatus.BOT.value
        return ConversationRecord(
            id=self.sender,
            started_at=self.start,
            session_id=s.id if s is not None else None,
            ended_at=self.end,
            customer_id=(s.customer_id if s else None) or (c.customer_id if c else None),
            status=status,
            channel=(s.channel if s else None) or (c.channel if c else None),
            language=(s.language if s else None) or (c.language if c else None),
            segment=(s.segment if s else None) or profile.get("segment"),
            tone=(s.tone if s else None) or (tones[-1] if tones else None),
            arm=s.arm if s else None,
            ratings=tuple(f.rating for f in self.feedback if f.rating is not None),  # NULL: not answered
            rating_requests=rating_requests(
                [f.handoff_id for f in self.feedback],
                [h.id for h, _ in self.handoffs if h.status == HandoffStatus.RESOLVED.value]),
            handoffs=tuple(
                HandoffFacts(reason=h.reason, status=h.status, agent_id=h.agent_id, created_at=h.created_at,
                             claimed_at=h.claimed_at, first_response_at=r.first_response_at if r else None)
                for h, r in self.handoffs),
            sentiment_start=s.sentiment_start if s else None,
            sentiment_end=s.sentiment_end if s else None,
        )
