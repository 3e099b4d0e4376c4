"""What the desk holds about one customer, for the privacy office (``common.privacy.CustomerData``).

Four owners, one per group of tables: conversations (with their sessions, signals, QA reviews and the
audit log of reveals), tickets (with events, contacts and follow-up closures), handoffs (with notes
and first responses) and feedback. Rows count as the customer's when they carry the ``customer_id``
or one of the customer's conversation ids (a guest's handoff before signing in, a ticket written by
the outbox). On erasure they keep status, times, ratings and ids (dashboards and counts stay right)
but lose their free text, and a conversation id naming a WeChat openid is replaced by the subject's
``erased-…`` pseudonym in every column that keeps one, so the rows of one conversation still count
together.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from common.privacy import ERASED_TEXT, DataSubject, Identifiers, plain
from desk.models import (
    Conversation,
    ConversationLabel,
    ConversationSession,
    ConversationSignals,
    Feedback,
    FollowupClosure,
    Handoff,
    HandoffNote,
    HandoffTransfer,
    PiiReveal,
    Ticket,
    TicketContact,
    TicketEvent,
    TranscriptIndexState,
    TranscriptLine,
    TranscriptReview,
    WeeklyReportMessage,
)


def _rows(session: Session, model: Any, *where: Any) -> list[dict[str, Any]]:
    return [plain(r) for r in session.scalars(sa.select(model).where(*where))]


def _of_subject(model: Any, subject: DataSubject) -> Any:
    return sa.or_(model.customer_id == subject.customer_id, model.conversation_id.in_(subject.conversation_ids))


def _conversation_ids(session: Session, column: Any, customer_column: Any, customer_id: str) -> frozenset[str]:
    return frozenset(c for c in session.scalars(sa.select(column).where(customer_column == customer_id)) if c)


def _rename(session: Session, columns: tuple[Any, ...], renames: dict[str, str] | Any) -> None:
    for old, new in renames.items():
        for column in columns:
            session.execute(sa.update(column.table).where(column == old).values({column.key: new})
                            .execution_options(synchronize_session=False))


class ConversationData:
    tables = ("conversations", "conversation_sessions", "conversation_signals", "transcript_reviews", "pii_reveals")
    CONVERSATION_COLUMNS = (Conversation.id, ConversationSession.conversation_id,
                            ConversationSignals.conversation_id, TranscriptReview.conversation_id,
                            PiiReveal.conversation_id)

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers(_conversation_ids(session, Conversation.id, Conversation.customer_id, customer_id))

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        return {
            "conversations": _rows(session, Conversation, Conversation.id.in_(subject.conversation_ids)),
            "sessions": _rows(session, ConversationSession, _of_subject(ConversationSession, subject)),
            "reviews": _rows(session, TranscriptReview, TranscriptReview.conversation_id.in_(subject.conversation_ids)),
            "reveals": _rows(session, PiiReveal, _of_subject(PiiReveal, subject)),
        }

    def erase(self, session: Session, subject: DataSubject) -> None:
        session.execute(sa.update(TranscriptReview).where(TranscriptReview.conversation_id.in_(subject.conversation_ids))
                        .values(notes=None))
        _rename(session, self.CONVERSATION_COLUMNS, subject.renames)


class TicketData:
    tables = ("tickets", "ticket_events", "ticket_contacts", "followup_closures")

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers(
            _conversation_ids(session, Ticket.conversation_id, Ticket.customer_id, customer_id)
            | _conversation_ids(session, TicketContact.conversation_id, TicketContact.customer_id, customer_id))

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        tickets = _rows(session, Ticket, _of_subject(Ticket, subject))
        ticket_ids = [t["id"] for t in tickets]
        return {
            "tickets": tickets,
            "ticket_contacts": _rows(session, TicketContact, sa.or_(
                TicketContact.ticket_id.in_(ticket_ids), TicketContact.conversation_id.in_(subject.conversation_ids))),
            "ticket_events": _rows(session, TicketEvent, TicketEvent.ticket_id.in_(ticket_ids)),
            "followup_closures": _rows(session, FollowupClosure, FollowupClosure.ticket_id.in_(ticket_ids)),
        }

    def erase(self, session: Session, subject: DataSubject) -> None:
        ticket_ids = list(session.scalars(sa.select(Ticket.id).where(_of_subject(Ticket, subject))))
        session.execute(sa.update(Ticket).where(Ticket.id.in_(ticket_ids)).values(subject=ERASED_TEXT,
                                                                                  resolution_note=None))
        session.execute(sa.update(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.text.isnot(None))
                        .values(text=ERASED_TEXT))
        # the notes supervisors wrote when closing the customer's low-CSAT follow-ups
        session.execute(sa.update(FollowupClosure).where(FollowupClosure.ticket_id.in_(ticket_ids))
                        .values(note=ERASED_TEXT))
        _rename(session, (Ticket.conversation_id, TicketContact.conversation_id), subject.renames)


class HandoffData:
    # responses: an agent id and a time only; transfers: who passed the chat on, with a private note
    tables = ("handoffs", "handoff_notes", "handoff_responses", "handoff_transfers")

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers(_conversation_ids(session, Handoff.conversation_id, Handoff.customer_id, customer_id))

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        handoffs = _rows(session, Handoff, _of_subject(Handoff, subject))
        return {
            "handoffs": handoffs,
            "handoff_notes": _rows(session, HandoffNote, HandoffNote.handoff_id.in_([h["id"] for h in handoffs])),
            "handoff_transfers": _rows(session, HandoffTransfer,
                                       HandoffTransfer.handoff_id.in_([h["id"] for h in handoffs])),
        }

    def erase(self, session: Session, subject: DataSubject) -> None:
        handoff_ids = list(session.scalars(sa.select(Handoff.id).where(_of_subject(Handoff, subject))))
        session.execute(sa.update(Handoff).where(Handoff.id.in_(handoff_ids)).values(summary=ERASED_TEXT, package={}))
        session.execute(sa.update(HandoffNote).where(HandoffNote.handoff_id.in_(handoff_ids)).values(text=ERASED_TEXT))
        session.execute(sa.update(HandoffTransfer).where(HandoffTransfer.handoff_id.in_(handoff_ids),
                                                         HandoffTransfer.note.isnot(None)).values(note=ERASED_TEXT))
        _rename(session, (Handoff.conversation_id,), subject.renames)


class FeedbackData:
    tables = ("feedback",)

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers(_conversation_ids(session, Feedback.conversation_id, Feedback.customer_id, customer_id))

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        return {"feedback": _rows(session, Feedback, _of_subject(Feedback, subject))}

    def erase(self, session: Session, subject: DataSubject) -> None:
        session.execute(sa.update(Feedback).where(_of_subject(Feedback, subject)).values(comment=None))
        for old, new in subject.renames.items():
            # the idempotency key starts with the conversation id
            for feedback in session.scalars(sa.select(Feedback).where(Feedback.conversation_id == old)):
                if feedback.idempotency_key.startswith(old):
                    feedback.idempotency_key = new + feedback.idempotency_key[len(old):]
            session.flush()
        _rename(session, (Feedback.conversation_id,), subject.renames)


class WeeklyReportData:
    """The customer's lines listed as misunderstood in the weekly reports (the reports' counts stay)."""

    tables = ("weekly_report_messages", "weekly_reports")  # a report itself holds counts only

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers()  # the lines carry conversation ids only, found by the other owners

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        return {"weekly_report_messages": _rows(
            session, WeeklyReportMessage, WeeklyReportMessage.conversation_id.in_(subject.conversation_ids))}

    def erase(self, session: Session, subject: DataSubject) -> None:
        session.execute(sa.delete(WeeklyReportMessage)
                        .where(WeeklyReportMessage.conversation_id.in_(subject.conversation_ids)))


class SearchData:
    """Labels on the customer's conversations, and the search index's (masked) lines of them."""

    tables = ("conversation_labels", "transcript_lines", "transcript_index_state")

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers()  # conversation ids only, found by the other owners

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        ids = subject.conversation_ids
        return {
            "conversation_labels": _rows(session, ConversationLabel, ConversationLabel.conversation_id.in_(ids)),
            "transcript_lines": _rows(session, TranscriptLine, TranscriptLine.conversation_id.in_(ids)),
        }

    def erase(self, session: Session, subject: DataSubject) -> None:
        # the index holds the transcript's text: it goes with the transcript
        ids = subject.conversation_ids
        session.execute(sa.delete(TranscriptLine).where(TranscriptLine.conversation_id.in_(ids)))
        session.execute(sa.delete(TranscriptIndexState).where(TranscriptIndexState.conversation_id.in_(ids)))
        _rename(session, (ConversationLabel.conversation_id,), subject.renames)
