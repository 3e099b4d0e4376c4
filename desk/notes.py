"""NoteStore: agents' private notes on a handoff (stored for colleagues, never sent to the customer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from desk._unit import unit_of_work
from desk.errors import HandoffNotFound
from desk.models import Handoff, HandoffNote

NOTE_MAX = 4000


@dataclass(frozen=True)
class NoteView:
    id: int
    handoff_id: int
    agent_id: str
    text: str
    created_at: datetime


def _view(note: HandoffNote) -> NoteView:
    return NoteView(
        id=note.id, handoff_id=note.handoff_id, agent_id=note.agent_id, text=note.text, created_at=note.created_at
    )


class NoteStore:
    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def add(self, *, handoff_id: int, agent_id: str, text: str) -> NoteView:
        text = mask_text(text.strip())[:NOTE_MAX]
        if not text:
            raise ValueError("an empty note")
        with unit_of_work(self._session_factory) as session:
            if session.get(Handoff, handoff_id) is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            note = HandoffNote(handoff_id=handoff_id, agent_id=agent_id, text=text, created_at=self._clock())
            session.add(note)
            session.flush()
            return _view(note)

    def for_handoff(self, handoff_id: int) -> list[NoteView]:
        with unit_of_work(self._session_factory) as session:
            rows = session.scalars(
                select(HandoffNote).where(HandoffNote.handoff_id == handoff_id).order_by(HandoffNote.id)
            ).all()
            return [_view(n) for n in rows]
