"""The one small protocol by which ``desk.privacy`` asks each table owner about one customer.

Every library that keeps rows naming a customer (a customer id, a conversation id, a WeChat openid)
has one ``CustomerData`` owner for those tables. The privacy office (``desk.privacy``) finds the
customer's identifiers by asking every owner (``identify``), then asks every owner to export or to
erase what it holds of that ``DataSubject``. The office knows no table and no key format; an owner
knows only its own tables. ``tests/desk/test_privacy_owners.py`` fails when a table that holds a
customer identifier is claimed by no owner (or by two).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

ERASED = "erased"
ERASED_TEXT = "[erased]"
# columns that name a person or one of their conversations (a table with one of them needs an owner)
IDENTIFYING_COLUMNS = frozenset({"customer_id", "conversation_id", "sender_id", "openid", "external_id"})


@dataclass(frozen=True)
class Identifiers:
    """What an owner knows to be the customer's: conversation ids (Rasa sender ids) and WeChat openids."""

    conversation_ids: frozenset[str] = frozenset()
    openids: frozenset[str] = frozenset()

    def __or__(self, other: Identifiers) -> Identifiers:
        return Identifiers(self.conversation_ids | other.conversation_ids, self.openids | other.openids)


@dataclass(frozen=True)
class DataSubject:
    """One customer as every owner sees them during an export or an erasure."""

    customer_id: str
    conversation_ids: frozenset[str]
    openids: frozenset[str]
    # erasure only: conversation id naming an openid -> the random ``erased-…`` id that replaces it
    renames: Mapping[str, str] = field(default_factory=dict)


class CustomerData(Protocol):
    """The owner of some tables, answering for the customer's rows in them."""

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables this owner answers for (each application table naming a customer has one owner)."""
        ...

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        """The conversation ids and openids of the customer found in this owner's tables."""
        ...

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        """Section name -> what this owner holds of the subject (JSON-ready)."""
        ...

    def erase(self, session: Session, subject: DataSubject) -> None:
        """Remove the subject's personal data from this owner's tables (rename ``subject.renames``)."""
        ...


def pseudonyms(conversation_ids: Iterable[str], openids: Iterable[str]) -> dict[str, str]:
    """A random ``erased-…`` id for every conversation id that names one of ``openids``."""
    wanted = set(openids)
    return {sender: f"erased-{uuid.uuid4().hex[:20]}" for sender in sorted(set(conversation_ids))
            if wanted & set(sender.split(":"))}


def plain(row: Any) -> dict[str, Any]:
    """An ORM row (or a ``Row._mapping``) as a JSON-ready dict (dates as ISO text)."""
    values = dict(row) if isinstance(row, Mapping) else {c.key: getattr(row, c.key) for c in row.__table__.columns}
    return {k: (v.isoformat() if isinstance(v, (datetime, date)) else v) for k, v in values.items()}
