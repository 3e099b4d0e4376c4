"""Snapshots the desk stores hand out (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TicketSummary:
    id: int
    topic: str
    order_id: str | None
    subject: str
    status: str
    priority: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "order_id": self.order_id,
            "subject": self.subject,
            "status": self.status,
            "priority": self.priority,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "updated_at": self.updated_at.isoformat(timespec="seconds"),
            "due_at": self.due_at.isoformat(timespec="seconds") if self.due_at else None,
        }


@dataclass(frozen=True)
class ContactRecord:
    """The result of recording one customer contact about an issue."""

    ticket: TicketSummary
    created: bool  # a new ticket was opened (else an open one was updated)
    contacts_in_window: int  # contacts about this issue in the window, this one included


@dataclass(frozen=True)
class TopicHistory:
    count: int
    last_at: datetime | None


@dataclass(frozen=True)
class QueuedHandoff:
    id: int
    conversation_id: str
    status: str
    reason: str
    priority: int
    position: int
    created: bool  # False when the conversation already had an open handoff


@dataclass(frozen=True)
class HandoffView:
    id: int
    conversation_id: str
    customer_id: str | None
    channel: str
    language: str | None
    reason: str
    priority: int
    status: str
    summary: str
    package: dict[str, Any]
    agent_id: str | None
    created_at: datetime
    team: str | None = None  # the team it is routed to (desk.teams)


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    rating: int | None  # None: asked, not answered
    comment: str | None
    followup_ticket_id: int | None
    created: bool
