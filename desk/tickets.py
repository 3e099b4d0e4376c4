"""TicketStore: open or update the ticket for the customer's current issue and recall past ones.

A *contact* is one conversation in which the customer raised an issue; several mentions in one
conversation count once. "This is your third contact about this refund in 30 days" is the number
of contacts about the same topic (and order, when known) inside the window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from desk._unit import unit_of_work
from desk.models import Priority, Ticket, TicketContact, TicketStatus, TicketTopic
from desk.schemas import ContactRecord, TicketSummary, TopicHistory
from desk.teams import team_for_topic

OPEN_STATUSES = (TicketStatus.OPEN.value, TicketStatus.PENDING.value)
COMPLAINT_DUE = timedelta(hours=24)  # a complaint is followed up within 24 h, whatever its priority


def _summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary(
        id=ticket.id,
        topic=ticket.topic,
        order_id=ticket.order_id,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        due_at=ticket.due_at,
    )


class TicketStore:
    def __init__(
        self,
        session_factory: sessionmaker,
        *,
        window_days: int = 30,
        clock: Callable[[], datetime] = datetime.utcnow,
    ) -> None:
        self._session_factory = session_factory
        self._window = timedelta(days=window_days)
        self._clock = clock

    def record_contact(
        self,
        *,
        customer_id: str | None,
        conversation_id: str,
        channel: str,
        topic: TicketTopic | str,
        order_id: str | None = None,
        subject: str = "",
        priority: Priority | str = Priority.MEDIUM,
        team: str | None = None,
    ) -> ContactRecord:
        """Add this conversation as a contact on the open ticket for the issue, opening one if needed."""
        topic = TicketTopic(topic).value
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            query = select(Ticket).where(Ticket.topic == topic, Ticket.status.in_(OPEN_STATUSES))
            if customer_id:
                query = query.where(Ticket.customer_id == customer_id)
            else:
                query = query.where(Ticket.conversation_id == conversation_id)
            if order_id:
                query = query.where((Ticket.order_id == order_id) | (Ticket.order_id.is_(None)))
            ticket = session.scalars(query.order_by(Ticket.updated_at.desc()).limit(1)).first()
            created = ticket is None
            if ticket is None:
                ticket = Ticket(
                    customer_id=customer_id,
                    conversation_id=conversation_id,
                    topic=topic,
                    order_id=order_id,
                    subject=mask_text(subject or topic)[:300],
                    status=TicketStatus.OPEN.value,
                    priority=Priority(priority).value,
                    channel=channel,
                    created_at=now,
                    updated_at=now,
                    due_at=now + COMPLAINT_DUE if topic == TicketTopic.COMPLAINT.value else None,
                    team=team or team_for_topic(topic),
                )
                session.add(ticket)
                session.flush()
            else:
                if order_id and not ticket.order_id:
                    ticket.order_id = order_id
                if team and ticket.team != team and not ticket.owner:  # routed: the routed team's
                    ticket.team = team
                ticket.updated_at = now
            already = session.scalars(
                select(TicketContact.id).where(
                    TicketContact.ticket_id == ticket.id,
                    TicketContact.conversation_id == conversation_id,
                )
            ).first()
            if already is None:
                session.add(
                    TicketContact(
                        ticket_id=ticket.id,
                        customer_id=customer_id,
                        conversation_id=conversation_id,
                        channel=channel,
                        created_at=now,
                    )
                )
                session.flush()
            contacts = self._contacts_in_window(session, customer_id, topic, order_id, ticket.id, now)
            return ContactRecord(ticket=_summary(ticket), created=created, contacts_in_window=contacts)

    def _contacts_in_window(self, session, customer_id, topic, order_id, ticket_id, now) -> int:  # type: ignore[no-untyped-def]
        since = now - self._window
        # one contact per conversation; contacts recorded outside a chat (imported, by an agent)
        # have no conversation id and count one each
        contact_key = func.coalesce(
            TicketContact.conversation_id, literal("contact:") + cast(TicketContact.id, String)
        )
        query = (
            select(func.count(func.distinct(contact_key)))
            .join(Ticket, Ticket.id == TicketContact.ticket_id)
            .where(TicketContact.created_at >= since, Ticket.topic == topic)
        )
        if customer_id:
            query = query.where(Ticket.customer_id == customer_id)
            if order_id:
                query = query.where((Ticket.order_id == order_id) | (Ticket.order_id.is_(None)))
        else:
            query = query.where(Ticket.id == ticket_id)
        return int(session.scalar(query) or 0)

    def topic_history(
        self, *, customer_id: str, topic: TicketTopic | str, exclude_conversation: str | None = None
    ) -> TopicHistory:
        """How many tickets about ``topic`` the customer had before (any time), and the latest date."""
        topic = TicketTopic(topic).value
        with unit_of_work(self._session_factory) as session:
            query = select(func.count(Ticket.id), func.max(Ticket.created_at)).where(
                Ticket.customer_id == customer_id, Ticket.topic == topic
            )
            if exclude_conversation:
                query = query.where(
                    (Ticket.conversation_id.is_(None)) | (Ticket.conversation_id != exclude_conversation)
                )
            count, last_at = session.execute(query).one()
            return TopicHistory(count=int(count or 0), last_at=last_at)

    def recent_for(self, customer_id: str, *, limit: int = 5) -> list[TicketSummary]:
        with unit_of_work(self._session_factory) as session:
            rows = session.scalars(
                select(Ticket)
                .where(Ticket.customer_id == customer_id)
                .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                .limit(limit)
            ).all()
            return [_summary(t) for t in rows]

    def open_followup(
        self,
        *,
        customer_id: str | None,
        conversation_id: str,
        channel: str,
        subject: str,
        due_in: timedelta,
    ) -> TicketSummary:
        """A follow-up a supervisor must close by ``due_at`` (low CSAT, callback requests)."""
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            ticket = Ticket(
                customer_id=customer_id,
                conversation_id=conversation_id,
                topic=TicketTopic.FEEDBACK_FOLLOWUP.value,
                subject=mask_text(subject)[:300],
                status=TicketStatus.OPEN.value,
                priority=Priority.HIGH.value,
                channel=channel,
                created_at=now,
                updated_at=now,
                due_at=now + due_in,
            )
            session.add(ticket)
            session.flush()
            return _summary(ticket)

    def open_request(
        self,
        *,
        customer_id: str | None,
        conversation_id: str,
        channel: str,
        topic: TicketTopic | str,
        subject: str,
        order_id: str | None = None,
        priority: Priority | str = Priority.MEDIUM,
        due_in: timedelta | None = None,
    ) -> ContactRecord:
        """A request a person must handle (after-sales, payment, privacy...): the open ticket for it, with a due time."""
        record = self.record_contact(customer_id=customer_id, conversation_id=conversation_id, channel=channel,
                                     topic=topic, order_id=order_id, subject=subject, priority=priority)
        if due_in is None:
            return record
        with unit_of_work(self._session_factory) as session:
            ticket = session.get(Ticket, record.ticket.id)
            if ticket.due_at is None:
                ticket.due_at = ticket.created_at + due_in
            session.flush()
            return ContactRecord(ticket=_summary(ticket), created=record.created,
                                 contacts_in_window=record.contacts_in_window)

    def get(self, ticket_id: int) -> TicketSummary | None:
        with unit_of_work(self._session_factory) as session:
            ticket = session.get(Ticket, ticket_id)
            return _summary(ticket) if ticket else None

    def open_for(
        self, customer_id: str, *, order_id: str | None = None, topic: TicketTopic | str | None = None
    ) -> list[TicketSummary]:
        """The customer's open (open or pending) tickets, newest first; only an order's or a topic's when given."""
        with unit_of_work(self._session_factory) as session:
            query = select(Ticket).where(Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_STATUSES))
            if order_id:
                query = query.where(Ticket.order_id == order_id)
            if topic:
                query = query.where(Ticket.topic == TicketTopic(topic).value)
            rows = session.scalars(query.order_by(Ticket.updated_at.desc(), Ticket.id.desc())).all()
            return [_summary(t) for t in rows]

    def note_refund_withdrawn(
        self, *, customer_id: str | None, conversation_id: str, order_id: str | None, note: str
    ) -> TicketSummary | None:
        """The customer no longer wants the refund (said while waiting for an agent): the open refund
        ticket (this order's when known) is closed with ``note`` added to its subject; None when
        there is no open refund ticket.
        """
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            query = select(Ticket).where(
                Ticket.topic == TicketTopic.REFUND.value, Ticket.status.in_(OPEN_STATUSES)
            )
            if customer_id:
                query = query.where(Ticket.customer_id == customer_id)
            else:
                query = query.where(Ticket.conversation_id == conversation_id)
            if order_id:
                query = query.where((Ticket.order_id == order_id) | (Ticket.order_id.is_(None)))
            ticket = session.scalars(query.order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(1)).first()
            if ticket is None:
                return None
            suffix = " | " + mask_text(note)
            ticket.subject = (ticket.subject[: 300 - len(suffix)] + suffix)[:300]
            ticket.status = TicketStatus.CLOSED.value
            ticket.updated_at = now
            ticket.resolved_at = now
            return _summary(ticket)
