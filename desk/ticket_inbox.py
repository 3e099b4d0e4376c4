"""The tickets and callbacks inbox: every ticket in one list, claimed, annotated and resolved by agents.

Who sees what follows the console's rules for handoffs: a supervisor sees every ticket and may act on
any; an agent sees the unassigned tickets and their own, claims an unassigned one, and notes on or
resolves only the tickets they own. Every claim, note and resolution is a ``ticket_events`` row (the
ticket's audit trail; notes are internal, never shown to the customer).

The due time and the overdue mark come from ``desk.ticket_status`` (what the chat tells the customer),
so the inbox and the customer's status lookup never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common.masking import mask_name, mask_text
from desk._unit import unit_of_work
from desk.errors import DeskError
from desk.models import Ticket, TicketEvent, TicketStatus, TicketTopic
from desk.ticket_status import due_of
from desk.tickets import OPEN_STATUSES, _summary
from profiles.models import Customer

RESOLUTION_REASONS = ("solved", "refunded", "replaced", "explained", "no_response", "duplicate", "other")
SCOPES = ("all", "mine", "unassigned")
LIST_LIMIT = 500
NOTE_MAX = 2000


class TicketInboxError(DeskError):
    def __init__(self, key: str, *, not_found: bool = False, forbidden: bool = False) -> None:
        super().__init__(key)
        self.key = key
        self.not_found = not_found
        self.forbidden = forbidden


@dataclass(frozen=True)
class Viewer:
    username: str
    supervisor: bool


@dataclass(frozen=True)
class InboxRow:
    id: int
    topic: str
    subject: str
    status: str
    priority: str
    channel: str | None
    customer: str  # masked display name, else the customer id, else "" for a guest
    conversation_id: str | None
    owner: str | None
    team: str | None
    created_at: datetime
    due_at: datetime
    overdue: bool
    resolution_reason: str | None
    resolution_note: str | None


@dataclass(frozen=True)
class InboxEvent:
    actor: str
    kind: str
    text: str | None
    created_at: datetime


def _customer_label(name: str | None, customer_id: str | None) -> str:
    if name:
        return mask_name(name) or ""
    return customer_id or ""


class TicketInbox:
    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._clock = clock

    # ------------------------------------------------------------------------------ reading
    def _row(self, ticket: Ticket, name: str | None, now: datetime) -> InboxRow:
        due = due_of(_summary(ticket))
        is_open = ticket.status in OPEN_STATUSES
        return InboxRow(
            id=ticket.id, topic=ticket.topic, subject=ticket.subject, status=ticket.status,
            priority=ticket.priority, channel=ticket.channel, customer=_customer_label(name, ticket.customer_id),
            conversation_id=ticket.conversation_id, owner=ticket.owner, team=ticket.team,
            created_at=ticket.created_at, due_at=due, overdue=is_open and due < now,
            resolution_reason=ticket.resolution_reason, resolution_note=ticket.resolution_note,
        )

    def list(
        self,
        viewer: Viewer,
        *,
        status: str | None = None,
        topic: str | None = None,
        scope: str = "all",
        overdue: bool = False,
        customer: str | None = None,
    ) -> list[InboxRow]:
        """The tickets ``viewer`` may see, newest first; ``status`` "open" means open or pending."""
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            query = select(Ticket, Customer.name).outerjoin(Customer, Customer.id == Ticket.customer_id)
            if not viewer.supervisor:
                query = query.where((Ticket.owner.is_(None)) | (Ticket.owner == viewer.username))
            if scope == "mine":
                query = query.where(Ticket.owner == viewer.username)
            elif scope == "unassigned":
                query = query.where(Ticket.owner.is_(None))
            if status == "open":
                query = query.where(Ticket.status.in_(OPEN_STATUSES))
            elif status:
                query = query.where(Ticket.status == TicketStatus(status).value)
            if topic:
                query = query.where(Ticket.topic == TicketTopic(topic).value)
            if overdue:
                query = query.where(Ticket.status.in_(OPEN_STATUSES))
            if customer:  # the handoff card's "earlier tickets" link
                query = query.where(Ticket.customer_id == customer)
            rows = [self._row(t, name, now) for t, name in
                    session.execute(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(LIST_LIMIT))]
        if overdue:
            rows = sorted((r for r in rows if r.overdue), key=lambda r: r.due_at)
        return rows

    def overdue_count(self, viewer: Viewer) -> int:
        return len(self.list(viewer, overdue=True))

    def get(self, ticket_id: int, viewer: Viewer) -> InboxRow:
        with unit_of_work(self._session_factory) as session:
            ticket, name = self._visible(session, ticket_id, viewer)
            return self._row(ticket, name, self._clock())

    def events(self, ticket_id: int, viewer: Viewer) -> list[InboxEvent]:
        with unit_of_work(self._session_factory) as session:
            self._visible(session, ticket_id, viewer)
            return [InboxEvent(actor=e.actor, kind=e.kind, text=e.text, created_at=e.created_at)
                    for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                             .order_by(TicketEvent.id))]

    # ------------------------------------------------------------------------------ acting
    def claim(self, ticket_id: int, viewer: Viewer) -> InboxRow:
        """The viewer takes an unassigned open ticket (a supervisor may also take one from a colleague)."""
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            ticket, name = self._visible(session, ticket_id, viewer, for_update=True)
            if ticket.status not in OPEN_STATUSES:
                raise TicketInboxError("ticket_closed")
            if ticket.owner and ticket.owner != viewer.username and not viewer.supervisor:
                raise TicketInboxError("ticket_taken", forbidden=True)
            if ticket.owner != viewer.username:
                ticket.owner = viewer.username
                ticket.updated_at = now
                session.add(TicketEvent(ticket_id=ticket.id, actor=viewer.username, kind="claim", created_at=now))
            session.flush()
            return self._row(ticket, name, now)

    def add_note(self, ticket_id: int, viewer: Viewer, text: str) -> InboxEvent:
        text = mask_text((text or "").strip())[:NOTE_MAX]
        if not text:
            raise TicketInboxError("ticket_note_empty")
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            ticket, _ = self._visible(session, ticket_id, viewer, for_update=True)
            self._must_own(ticket, viewer)
            session.add(TicketEvent(ticket_id=ticket.id, actor=viewer.username, kind="note", text=text,
                                    created_at=now))
            return InboxEvent(actor=viewer.username, kind="note", text=text, created_at=now)

    def resolve(self, ticket_id: int, viewer: Viewer, *, reason: str, note: str = "") -> InboxRow:
        if reason not in RESOLUTION_REASONS:
            raise TicketInboxError("ticket_reason_unknown")
        note = mask_text((note or "").strip())[:NOTE_MAX]
        if reason == "other" and not note:
            raise TicketInboxError("ticket_note_empty")
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            ticket, name = self._visible(session, ticket_id, viewer, for_update=True)
            if ticket.status not in OPEN_STATUSES:
                raise TicketInboxError("ticket_closed")
            self._must_own(ticket, viewer)
            ticket.owner = ticket.owner or viewer.username
            ticket.status = TicketStatus.RESOLVED.value
            ticket.resolution_reason = reason
            ticket.resolution_note = note or None
            ticket.resolved_at = now
            ticket.updated_at = now
            session.add(TicketEvent(ticket_id=ticket.id, actor=viewer.username, kind="resolve",
                                    text=f"{reason}: {note}" if note else reason, created_at=now))
            session.flush()
            return self._row(ticket, name, now)

    # ------------------------------------------------------------------------------ rules
    @staticmethod
    def _must_own(ticket: Ticket, viewer: Viewer) -> None:
        if viewer.supervisor:
            return
        if ticket.owner != viewer.username:
            raise TicketInboxError("ticket_claim_first", forbidden=True)

    @staticmethod
    def _visible(session, ticket_id: int, viewer: Viewer, *, for_update: bool = False):  # type: ignore[no-untyped-def]
        query = (select(Ticket, Customer.name).outerjoin(Customer, Customer.id == Ticket.customer_id)
                 .where(Ticket.id == ticket_id))
        if for_update:
            query = query.with_for_update(of=Ticket)
        found = session.execute(query).first()
        if found is None:
            raise TicketInboxError("ticket_not_found", not_found=True)
        ticket, name = found
        if not viewer.supervisor and ticket.owner not in (None, viewer.username):
            raise TicketInboxError("ticket_not_found", not_found=True)
        return ticket, name
