"""ReviewStore: what the supervisor pages read and write.

Conversation records for search and the dashboards (``desk.metrics.ConversationRecord``), QA reviews,
low-CSAT follow-ups (tickets of topic ``feedback_followup``, due 24 h after the rating) and the audited
reveal of one masked personal field (the audit row is written before the value is read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from common.masking import mask_name, mask_text
from desk._unit import unit_of_work
from desk.metrics import ConversationRecord, sentiment_label
from desk.models import (
    Conversation,
    ConversationSignals,
    Feedback,
    FollowupClosure,
    Handoff,
    HandoffResponse,
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
    """A review, closure or reveal request that cannot be accepted (the message says why)."""


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

    def matches(self, r: ConversationRecord) -> bool:
        day = r.started_at.date()
        return (
            (self.date_from is None or day >= self.date_from)
            and (self.date_to is None or day <= self.date_to)
            and (self.channel is None or r.channel == self.channel)
            and (self.language is None or r.language == self.language)
            and (self.reason is None or (r.handoff_reason or "none") == self.reason)
            and (self.sentiment is None or sentiment_label(r.sentiment_end) == self.sentiment)
            and (self.csat is None or r.rating == self.csat)
            and (self.segment is None or r.segment == self.segment)
            and (self.agent is None or r.agent_id == self.agent)
            and (self.tone is None or r.tone == self.tone)
            and (self.arm is None or r.arm == self.arm)
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

    def records(self) -> list[ConversationRecord]:
        """One record per conversation, newest first."""
        with unit_of_work(self._session_factory) as session:
            conversations = session.scalars(select(Conversation)).all()
            signals = {s.conversation_id: s for s in session.scalars(select(ConversationSignals)).all()}
            handoffs: dict[str, Handoff] = {}
            for h in session.scalars(select(Handoff).order_by(Handoff.id)).all():
                handoffs.setdefault(h.conversation_id, h)  # the first one
            responses = {r.handoff_id: r for r in session.scalars(select(HandoffResponse)).all()}
            ratings: dict[str, int] = {}
            tones: dict[str, str] = {}
            for f in session.scalars(select(Feedback).order_by(Feedback.created_at, Feedback.id)).all():
                ratings[f.conversation_id] = f.rating  # the latest
                if f.tone:
                    tones[f.conversation_id] = f.tone
            out = []
            for c in conversations:
                s = signals.get(c.id)
                h = handoffs.get(c.id)
                response = responses.get(h.id) if h is not None else None
                profile = ((h.package or {}).get("profile") or {}) if h is not None else {}
                out.append(
                    ConversationRecord(
                        id=c.id,
                        started_at=c.started_at,
                        customer_id=c.customer_id,
                        status=c.status,
                        channel=c.channel,
                        language=c.language,
                        segment=(s.segment if s else None) or profile.get("segment"),
                        tone=(s.tone if s else None) or tones.get(c.id),
                        arm=s.arm if s else None,
                        rating=ratings.get(c.id),
                        handoff_reason=h.reason if h else None,
                        handoff_status=h.status if h else None,
                        agent_id=h.agent_id if h else None,
                        handoff_at=h.created_at if h else None,
                        claimed_at=h.claimed_at if h else None,
                        first_response_at=response.first_response_at if response else None,
                        sentiment_start=s.sentiment_start if s else None,
                        sentiment_end=s.sentiment_end if s else None,
                    )
                )
            out.sort(key=lambda r: (r.started_at, r.id), reverse=True)
            return out

    def search(self, query: TranscriptQuery) -> list[ConversationRecord]:
        return [r for r in self.records() if query.matches(r)]

    def record(self, conversation_id: str) -> ConversationRecord | None:
        return next((r for r in self.records() if r.id == conversation_id), None)

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
                raise ReviewError(f"{criterion} must be a score from 1 to 5")
        notes = mask_text(notes.strip())[:NOTE_MAX] if notes and notes.strip() else None
        with unit_of_work(self._session_factory) as session:
            if session.get(Conversation, conversation_id) is None:
                raise ReviewError("no such conversation")
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
            raise ReviewError("a closing note is needed")
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.topic != TicketTopic.FEEDBACK_FOLLOWUP.value:
                raise ReviewError("no such follow-up")
            if not TicketStatus(ticket.status).is_open:
                raise ReviewError("this follow-up is closed already")
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
            raise ReviewError(f"field must be one of {', '.join(FIELDS)}")
        if len(reason) < 3:
            raise ReviewError("a reason is needed to reveal personal data")
        if not customer_id:
            raise ReviewError("no customer")
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
