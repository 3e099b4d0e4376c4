"""When the customer can expect a result on an open ticket (what the chat tells them; pure, no I/O).

A ticket with its own due time (a follow-up a supervisor must close) keeps it; any other is due a set
number of hours after it was opened, by topic (``RESULT_HOURS``): the service promise the agents work to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from desk.models import Priority, TicketTopic
from desk.schemas import TicketSummary

RESULT_HOURS = {
    TicketTopic.REFUND.value: 72,
    TicketTopic.COMPLAINT.value: 24,
    TicketTopic.ORDER.value: 48,
    TicketTopic.ADDRESS.value: 24,
    TicketTopic.FEEDBACK_FOLLOWUP.value: 24,
    TicketTopic.OTHER.value: 48,
}
HIGH_PRIORITY_FACTOR = 0.5  # a high-priority ticket is promised in half the time
SHOP_OFFSET = timedelta(hours=8)


def due_of(ticket: TicketSummary) -> datetime:
    """The ticket's due time: its own, else opened + the topic's promise (halved for high priority)."""
    if ticket.due_at is not None:
        return ticket.due_at
    hours = RESULT_HOURS.get(ticket.topic, RESULT_HOURS[TicketTopic.OTHER.value])
    if ticket.priority == Priority.HIGH.value:
        hours = hours * HIGH_PRIORITY_FACTOR
    return ticket.created_at + timedelta(hours=hours)


def is_overdue(ticket: TicketSummary, *, now: datetime) -> bool:
    return due_of(ticket) < now


def due_text(ticket: TicketSummary) -> str:
    """The due time as the customer reads it, in shop time (UTC+8; the database keeps UTC)."""
    return (due_of(ticket) + SHOP_OFFSET).strftime("%Y-%m-%d %H:%M")
