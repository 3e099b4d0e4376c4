"""Labels on conversations ("vip", "退款延迟"…): agents and supervisors add and remove them on the handoff
card and the transcript page; transcript review filters by them. Stored masked and normalised (lower
case, spaces as "-")."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from desk._unit import unit_of_work
from desk.models import ConversationLabel

LABEL_MAX = 32
_ALLOWED = re.compile(r"^[\w\-\u3400-\u9fff]+$", re.UNICODE)


class LabelError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def normalise(raw: str) -> str:
    label = re.sub(r"\s+", "-", (raw or "").strip().lower())
    if not label or len(label) > LABEL_MAX or not _ALLOWED.match(label):
        raise LabelError("label_error_invalid", f"a label is 1-{LABEL_MAX} letters, digits, - or _")
    return mask_text(label)


class LabelStore:
    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def add(self, conversation_id: str, raw: str, *, actor: str) -> str:
        label = normalise(raw)
        try:
            with unit_of_work(self._session_factory) as session:
                exists = session.scalar(select(ConversationLabel.id).where(
                    ConversationLabel.conversation_id == conversation_id, ConversationLabel.label == label))
                if exists is None:
                    session.add(ConversationLabel(conversation_id=conversation_id, label=label, added_by=actor,
                                                  created_at=self._clock()))
        except IntegrityError:  # added at the same moment by someone else: it is there
            pass
        return label

    def remove(self, conversation_id: str, raw: str) -> bool:
        label = (raw or "").strip().lower()
        with unit_of_work(self._session_factory) as session:
            result = session.execute(delete(ConversationLabel).where(
                ConversationLabel.conversation_id == conversation_id, ConversationLabel.label == label))
            return bool(result.rowcount)

    def labels_of(self, conversation_id: str) -> list[str]:
        with unit_of_work(self._session_factory) as session:
            return list(session.scalars(select(ConversationLabel.label).where(
                ConversationLabel.conversation_id == conversation_id).order_by(ConversationLabel.label)))

    def labels_by_conversation(self, conversation_ids: list[str] | None = None) -> dict[str, list[str]]:
        with unit_of_work(self._session_factory) as session:
            query = select(ConversationLabel.conversation_id, ConversationLabel.label).order_by(ConversationLabel.label)
            if conversation_ids is not None:
                query = query.where(ConversationLabel.conversation_id.in_(conversation_ids))
            out: dict[str, list[str]] = {}
            for cid, label in session.execute(query):
                out.setdefault(cid, []).append(label)
            return out

    def conversations_with(self, label: str) -> set[str]:
        with unit_of_work(self._session_factory) as session:
            return set(session.scalars(select(ConversationLabel.conversation_id).where(
                ConversationLabel.label == label.strip().lower())))

    def all_labels(self) -> list[str]:
        with unit_of_work(self._session_factory) as session:
            return list(session.scalars(select(ConversationLabel.label).distinct().order_by(ConversationLabel.label)))
