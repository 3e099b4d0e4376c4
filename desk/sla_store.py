"""The facts the SLA needs, read from the application database (the rules are in ``desk.sla``).

* chats: handoffs with the agent's first line (``handoff_responses``);
* tickets: with the customer's tier and birth year (VIP, elderly), the first agent event on the ticket
  (claim, note or resolution: ``ticket_events``) and the due time told to the customer.

The team of a handoff or a ticket is read from a ``team`` column where the table has one; without one
the item has no team (the report lists it under "no team").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from desk._unit import unit_of_work
from desk.models import Handoff, HandoffResponse, HandoffStatus, Ticket, TicketEvent, TicketStatus
from desk.sla import Evaluated, Item, Policy, classify_handoff, classify_ticket, default_policy, evaluate
from desk.ticket_status import due_of
from desk.tickets import _summary
from profiles.models import Customer
from profiles.segmentation import Thresholds, is_elderly

ENDED_UNRESOLVED = (HandoffStatus.ABANDONED.value, HandoffStatus.TIMED_OUT.value, HandoffStatus.CANCELLED.value)
CLOSED_TICKETS = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


def _team(row: Any) -> str | None:
    value = getattr(row, "team", None)
    return str(value) if value else None


def handoff_item(h: Handoff, first_response_at: datetime | None) -> Item:
    ended = h.resolved_at if h.status in ENDED_UNRESOLVED else None
    return Item(kind="chat", id=h.id, sla_class=classify_handoff(h.priority), created_at=h.created_at,
                reason=h.reason, team=_team(h), agent=h.agent_id,
                first_response_at=first_response_at,
                resolved_at=h.resolved_at if h.status == HandoffStatus.RESOLVED.value else None,
                ended_at=ended)


def ticket_item(t: Ticket, *, tier: str | None, birth_year: int | None, first_event_at: datetime | None,
                today: date, thresholds: Thresholds) -> Item:
    done = (t.resolved_at or t.updated_at) if t.status in CLOSED_TICKETS else None
    return Item(kind="ticket", id=t.id,
                sla_class=classify_ticket(topic=t.topic, priority=t.priority, tier=tier,
                                          elderly=is_elderly(birth_year, today, thresholds)),
                created_at=t.created_at, reason=t.topic, team=_team(t), agent=t.owner,
                first_response_at=first_event_at, resolved_at=done, promised_at=due_of(_summary(t)))


class SlaStore:
    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow,
                 policy: Policy | None = None, thresholds: Thresholds | None = None) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self.policy = policy or default_policy()
        self._thresholds = thresholds or Thresholds()

    # ------------------------------------------------------------------------------ live views
    def for_handoffs(self, handoffs: Iterable[Any]) -> dict[int, Evaluated]:
        """The SLA of open handoffs (``HandoffView``s from the queue), by id."""
        handoffs = list(handoffs)
        if not handoffs:
            return {}
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            rows = session.scalars(select(Handoff).where(Handoff.id.in_([h.id for h in handoffs]))).all()
            firsts = self._first_responses(session, [h.id for h in rows])
            return {h.id: evaluate(handoff_item(h, firsts.get(h.id)), now, self.policy) for h in rows}

    def for_tickets(self, ticket_ids: Iterable[int]) -> dict[int, Evaluated]:
        ids = list(ticket_ids)
        if not ids:
            return {}
        with unit_of_work(self._session_factory) as session:
            return {e.item.id: e for e in self._tickets(session, Ticket.id.in_(ids))}

    # ------------------------------------------------------------------------------ report
    def evaluated(self, *, date_from: date | None = None, date_to: date | None = None) -> list[Evaluated]:
        """Every chat and ticket created between the two days (inclusive, UTC), evaluated now."""
        with unit_of_work(self._session_factory) as session:
            return self._chats(session, date_from, date_to) + self._tickets(
                session, *self._window(Ticket.created_at, date_from, date_to))

    @staticmethod
    def _window(column: Any, date_from: date | None, date_to: date | None) -> list[Any]:
        where = []
        if date_from is not None:
            where.append(column >= datetime.combine(date_from, time.min))
        if date_to is not None:
            where.append(column < datetime.combine(date_to + timedelta(days=1), time.min))
        return where

    @staticmethod
    def _first_responses(session: Any, ids: list[int]) -> dict[int, datetime]:
        if not ids:
            return {}
        return dict(session.execute(select(HandoffResponse.handoff_id, HandoffResponse.first_response_at)
                                    .where(HandoffResponse.handoff_id.in_(ids))).all())

    def _chats(self, session: Any, date_from: date | None, date_to: date | None) -> list[Evaluated]:
        now = self._clock()
        query = (select(Handoff, HandoffResponse.first_response_at)
                 .outerjoin(HandoffResponse, HandoffResponse.handoff_id == Handoff.id)
                 .where(*self._window(Handoff.created_at, date_from, date_to)).order_by(Handoff.id))
        return [evaluate(handoff_item(h, first), now, self.policy) for h, first in session.execute(query)]

    def _tickets(self, session: Any, *where: Any) -> list[Evaluated]:
        now = self._clock()
        first_event = (select(TicketEvent.ticket_id, func.min(TicketEvent.created_at).label("first_at"))
                       .group_by(TicketEvent.ticket_id).subquery())
        query = (select(Ticket, Customer.tier, Customer.birth_year, first_event.c.first_at)
                 .outerjoin(Customer, Customer.id == Ticket.customer_id)
                 .outerjoin(first_event, first_event.c.ticket_id == Ticket.id)
                 .where(*where).order_by(Ticket.id))
        today = now.date()
        return [evaluate(ticket_item(t, tier=tier, birth_year=birth_year, first_event_at=first_at, today=today,
                                     thresholds=self._thresholds), now, self.policy)
                for t, tier, birth_year, first_at in session.execute(query)]
