"""ConversationLog: the desk's row per Rasa conversation (channel, customer, language, status)."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy.orm import sessionmaker

from desk._unit import unit_of_work
from desk.models import Conversation, ConversationStatus


class ConversationLog:
    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def touch(
        self, *, conversation_id: str, channel: str, customer_id: str | None, language: str | None
    ) -> None:
        """Create the row on a conversation's first session, refresh it on later ones."""
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
