"""FeedbackLog: CSAT 1–5 with an optional comment; a low score opens a supervisor follow-up.

``parse_rating`` is the pure reader of what customers type ("5", "五星", "4 stars", "⭐⭐⭐").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from desk._unit import retry_on_conflict, unit_of_work
from desk.errors import InvalidFeedback
from desk.models import Feedback, Priority, Ticket, TicketStatus, TicketTopic
from desk.schemas import FeedbackRecord

_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_EN_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
COMMENT_MAX = 2000


def parse_rating(text: str | None) -> int | None:
    """The 1–5 score in ``text``, or None when there is none (or it is out of range)."""
    if text is None:
        return None
    text = str(text).strip().lower()
    if not text:
        return None
    stars = text.count("⭐") + text.count("★")
    if stars and not re.search(r"\d", text):
        return stars if 1 <= stars <= 5 else None
    digits = re.findall(r"(?<!\d)(\d{1,2})(?!\d)", text)
    if digits:
        value = int(digits[0])
        return value if 1 <= value <= 5 else None
    for char, value in _ZH_DIGITS.items():
        if re.search(char + r"\s*(星|分|颗星)", text) or text == char:
            return value
    for word, value in _EN_WORDS.items():
        if re.search(r"(?<![a-z])" + word + r"(?![a-z])", text):
            return value
    return None


class FeedbackLog:
    """One row per rating ask (``record_ask``: not answered yet) that the customer's rating fills (``record``)."""

    def __init__(
        self,
        session_factory: sessionmaker,
        *,
        low_threshold: int = 2,
        followup_due: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = datetime.utcnow,
    ) -> None:
        self._session_factory = session_factory
        self._low = low_threshold
        self._due = followup_due
        self._clock = clock

    def record(
        self,
        *,
        conversation_id: str,
        customer_id: str | None,
        channel: str,
        language: str | None,
        tone: str | None,
        rating: int,
        comment: str | None,
        idempotency_key: str,
        handoff_id: int | None = None,
    ) -> FeedbackRecord:
        """Store one rating; the same key twice updates the first row instead of adding one."""
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidFeedback(f"rating must be an integer from 1 to 5, got {rating!r}")
        comment = mask_text(comment.strip())[:COMMENT_MAX] if comment and comment.strip() else None
        now = self._clock()
        return retry_on_conflict(lambda: self._record(
            conversation_id=conversation_id, customer_id=customer_id, channel=channel, language=language,
            tone=tone, rating=rating, comment=comment, idempotency_key=idempotency_key, handoff_id=handoff_id,
            now=now))

    def record_ask(
        self,
        *,
        conversation_id: str,
        customer_id: str | None,
        channel: str,
        language: str | None,
        tone: str | None,
        idempotency_key: str,
        handoff_id: int | None = None,
    ) -> FeedbackRecord:
        """The survey was asked: a row without a rating ("not answered") that ``record`` with the same key
        fills. Counted as a rating request (desk/metrics.py), never as a rating; an existing row is kept."""
        now = self._clock()
        return retry_on_conflict(lambda: self._record_ask(
            conversation_id=conversation_id, customer_id=customer_id, channel=channel, language=language,
            tone=tone, idempotency_key=idempotency_key, handoff_id=handoff_id, now=now))

    def _record_ask(self, *, conversation_id: str, customer_id: str | None, channel: str, language: str | None,
                    tone: str | None, idempotency_key: str, handoff_id: int | None,
                    now: datetime) -> FeedbackRecord:
        with unit_of_work(self._session_factory) as session:
            row = session.scalars(select(Feedback).where(Feedback.idempotency_key == idempotency_key)).first()
            created = row is None
            if row is None:
                row = Feedback(
                    conversation_id=conversation_id, customer_id=customer_id, channel=channel, language=language,
                    tone=tone, rating=None, comment=None, handoff_id=handoff_id, idempotency_key=idempotency_key,
                    created_at=now,
                )
                session.add(row)
                session.flush()
            return FeedbackRecord(id=row.id, rating=row.rating, comment=row.comment,
                                  followup_ticket_id=row.followup_ticket_id, created=created)

    def _record(self, *, conversation_id: str, customer_id: str | None, channel: str, language: str | None,
                tone: str | None, rating: int, comment: str | None, idempotency_key: str, handoff_id: int | None,
                now: datetime) -> FeedbackRecord:
        with unit_of_work(self._session_factory) as session:
            row = session.scalars(select(Feedback).where(Feedback.idempotency_key == idempotency_key)).first()
            created = row is None
            if row is None:
                row = Feedback(
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    channel=channel,
                    language=language,
                    tone=tone,
                    rating=rating,
                    comment=comment,
                    handoff_id=handoff_id,
                    idempotency_key=idempotency_key,
                    created_at=now,
                )
                session.add(row)
            else:
                row.rating = rating
                row.comment = comment or row.comment
            session.flush()
            if rating <= self._low and row.followup_ticket_id is None:
                ticket = Ticket(
                    customer_id=customer_id,
                    conversation_id=conversation_id,
                    topic=TicketTopic.FEEDBACK_FOLLOWUP.value,
                    subject=f"CSAT {rating}: " + (comment or "")[:200],
                    status=TicketStatus.OPEN.value,
                    priority=Priority.HIGH.value,
                    channel=channel,
                    created_at=now,
                    updated_at=now,
                    due_at=now + self._due,
                )
                session.add(ticket)
                session.flush()
                row.followup_ticket_id = ticket.id
            return FeedbackRecord(
                id=row.id,
                rating=row.rating,
                comment=row.comment,
                followup_ticket_id=row.followup_ticket_id,
                created=created,
            )
