"""ConversationLog: the desk's row per Rasa conversation (channel, customer, language, status), one row
per Rasa session of it (what the dashboards count: a returning customer keeps the sender id but starts a
new session), and the signals for the dashboards (segment, A/B arm, tone, sentiment at the start and now),
kept per session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from desk._unit import unit_of_work
from desk.models import Conversation, ConversationSession, ConversationStatus


class ConversationLog:
    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def touch(
        self,
        *,
        conversation_id: str,
        channel: str,
        customer_id: str | None,
        language: str | None,
        segment: str | None = None,
        arm: str | None = None,
    ) -> None:
        """Create the row on a conversation's first session, refresh it on later ones; every call (one per
        Rasa session start) opens a new session row and closes the sender's previous one."""
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            row = session.get(Conversation, conversation_id)
            if row is None:
                session.add(
                    Conversation(
                        id=conversation_id,
                        channel=channel,
                        customer_id=customer_id,
                        language=language,
                        status=ConversationStatus.BOT.value,
                        started_at=now,
                        updated_at=now,
                    )
                )
            else:
                row.channel = channel or row.channel
                row.customer_id = customer_id or row.customer_id
                row.language = language or row.language
                row.updated_at = now
            previous = _latest_session(session, conversation_id)
            if previous is not None and previous.ended_at is None:
                previous.ended_at = now
            session.add(ConversationSession(
                conversation_id=conversation_id, started_at=now, channel=channel, customer_id=customer_id,
                language=language, segment=segment, arm=arm, updated_at=now,
            ))

    def session_count(self, customer_id: str) -> int:
        """How many conversation sessions this customer has had (their contact history, as a count)."""
        with unit_of_work(self._session_factory) as session:
            return int(session.scalar(
                select(func.count()).select_from(ConversationSession)
                .where(ConversationSession.customer_id == customer_id)
            ) or 0)

    def note_signals(
        self,
        *,
        conversation_id: str,
        score: float | None,
        tone: str | None,
        arm: str | None = None,
        language: str | None = None,
    ) -> None:
        """One scored customer line: the first score is kept as the start, the latest as the end (of the
        sender's current session). ``language`` is the one the conversation is now in (what the customer
        writes or chose; a guest starts as the default), recorded on the session and the conversation."""
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            current = _latest_session(session, conversation_id)
            if current is None:  # no session start was logged (the store was down then): open one now
                current = ConversationSession(conversation_id=conversation_id, started_at=now, updated_at=now)
                session.add(current)
            if score is not None:
                if current.sentiment_start is None:
                    current.sentiment_start = float(score)
                current.sentiment_end = float(score)
            current.tone = tone or current.tone
            current.arm = arm or current.arm
            if language:
                current.language = language
                row = session.get(Conversation, conversation_id)
                if row is not None and row.language != language:
                    row.language = language
            current.updated_at = now


def _latest_session(session: Session, conversation_id: str) -> ConversationSession | None:
    return session.scalars(
        select(ConversationSession).where(ConversationSession.conversation_id == conversation_id)
        .order_by(ConversationSession.started_at.desc(), ConversationSession.id.desc()).limit(1)
    ).first()
