"""What we hold about one customer: export it (JSON) or erase it, each with an audit entry.

``python -m desk.privacy export <customer_id> [--actor NAME] [--out FILE]`` prints (or writes) one JSON
document: profile, channel identities, orders, consent and consent changes, conversations and their
sessions, tickets (with contacts), handoffs (with notes), feedback, QA reviews, the reveals of the
customer's data in the audit log, the WeChat lines held and keys kept for the customer's openids, and
the transcripts (every stored tracker event of the customer's conversations, from the tracker store
and, where present, the event archive). Rows of the customer's conversations count whether or not
they carry the ``customer_id`` (a guest's handoff before signing in, a ticket written by the outbox).

``python -m desk.privacy erase <customer_id> --actor NAME --reason TEXT`` removes the personal data:

* tracker store: the events, checkpoint and archived events of every conversation of the customer
  are deleted (transcripts hold what the customer said);
* profile: name replaced by ``erased``, contact hashes and masked forms, birth year, the sealed vault,
  channel identities (a returning WeChat user is then a guest), consent changes deleted;
* orders keep amount, status, dates and items (bookkeeping and aggregate counts) but lose the address
  and tracking number; tickets, handoffs, notes, reviews and feedback of the customer or of the
  customer's conversations keep their status, times, ratings and ids (dashboards and counts stay
  right) but lose their free text (handoff summaries and packages with the last messages, ticket
  subjects, feedback comments, review notes); so do the notes supervisors wrote when closing the
  customer's low-CSAT follow-ups;
* a conversation id naming a WeChat openid (``wechat:<openid>``) is replaced, in every table that
  keeps one (conversations, sessions, signals, tickets and contacts, handoffs, feedback and its
  idempotency key, reviews, reveals), by one random ``erased-…`` id per conversation, so the rows of
  one conversation still count together;
* WeChat: the messages held for the customer's openids (``wechat_outbox``) and the channel's
  key-value rows naming them (``wechat_kv``: a key whose ``:``-separated parts include the openid
  exactly) are deleted, where those tables live in this database (the embedded store). With Redis
  the same keys expire by themselves within 48 hours.

The office knows no application table: it asks every owner in ``desk.schema.OWNERS`` (the
``common.privacy.CustomerData`` protocol: profiles, conversations, tickets, handoffs, feedback, the
WeChat outbox and keys) for the customer's identifiers, then to export or to erase what it holds.
It keeps the tracker store (Rasa's tables, keyed by sender id) itself.

The audit entry goes to the supervisors' audit log (``pii_reveals``; field ``export`` or ``erasure``)
and is committed before anything is read or deleted. Conversations are found through the
owners' rows of the customer (conversations, handoffs, feedback, tickets) and its channel identities
(``web-<id>``, ``wechat:<openid>`` and the raw external id).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from common.privacy import ERASED, ERASED_TEXT, CustomerData, DataSubject, Identifiers, pseudonyms
from desk._unit import unit_of_work
from desk.errors import DeskError
from desk.models import PiiReveal
from desk.schema import OWNERS
from profiles.models import Customer

__all__ = ["ERASED", "ERASED_TEXT", "CustomerNotFound", "Erasure", "PrivacyOffice", "main"]
TRACKER_TABLES = ("events", "event_archive")  # keyed by sender_id; tracker_checkpoints too (below)
CHECKPOINTS = "tracker_checkpoints"


class CustomerNotFound(DeskError):
    """No customer with this id."""


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    conversations: int
    tracker_events: int


class PrivacyOffice:
    """Export and erasure over the application database (through its owners) and the tracker store."""

    def __init__(
        self, session_factory: sessionmaker, tracker_engine: Engine | None, *,
        clock: Callable[[], datetime] = datetime.utcnow, owners: Sequence[CustomerData] = OWNERS,
    ) -> None:
        self._session_factory = session_factory
        self._tracker = tracker_engine
        self._clock = clock
        self._owners = tuple(owners)

    # ------------------------------------------------------------------------------- reading
    def identify(self, session: Any, customer_id: str) -> Identifiers:
        found = Identifiers()
        for owner in self._owners:
            found = found | owner.identify(session, customer_id)
        return found

    def conversation_ids(self, session: Any, customer_id: str) -> set[str]:
        return set(self.identify(session, customer_id).conversation_ids)

    def _subject(self, session: Any, customer_id: str, *, renaming: bool = False) -> DataSubject:
        found = self.identify(session, customer_id)
        renames = pseudonyms(found.conversation_ids, found.openids) if renaming else {}
        return DataSubject(customer_id, found.conversation_ids, found.openids, renames)

    def _tracker_tables(self) -> list[sa.Table]:
        if self._tracker is None:
            return []
        metadata = sa.MetaData()
        present = set(sa.inspect(self._tracker).get_table_names())
        wanted = [t for t in (*TRACKER_TABLES, CHECKPOINTS) if t in present]
        metadata.reflect(self._tracker, only=wanted)
        return [metadata.tables[t] for t in wanted]

    def transcripts(self, senders: Iterable[str]) -> dict[str, dict[str, list[Any]]]:
        senders = sorted(set(senders))
        out: dict[str, dict[str, list[Any]]] = {}
        if not senders or self._tracker is None:
            return out
        with self._tracker.connect() as connection:
            for table in self._tracker_tables():
                if table.name == CHECKPOINTS:
                    continue
                order = table.c.id if "id" in table.c else table.c.timestamp
                rows = connection.execute(
                    sa.select(table.c.sender_id, table.c.data).where(table.c.sender_id.in_(senders)).order_by(order)
                )
                for sender, data in rows:
                    out.setdefault(sender, {}).setdefault(table.name, []).append(json.loads(data))
        return out

    def _audit(self, *, actor: str, customer_id: str, field: str, reason: str) -> None:
        with unit_of_work(self._session_factory) as session:
            session.add(PiiReveal(supervisor=actor[:64], customer_id=customer_id, field=field,
                                  reason=reason[:500], created_at=self._clock()))

    def export(self, customer_id: str, *, actor: str, reason: str = "data subject access request") -> dict[str, Any]:
        self._known(customer_id)
        self._audit(actor=actor, customer_id=customer_id, field="export", reason=reason)
        with unit_of_work(self._session_factory) as session:
            subject = self._subject(session, customer_id)
            document: dict[str, Any] = {"customer_id": customer_id, "exported_at": self._clock().isoformat()}
            for owner in self._owners:
                document.update(owner.export(session, subject))
        document["transcripts"] = self.transcripts(subject.conversation_ids)
        return document

    # ------------------------------------------------------------------------------- erasure
    def erase(self, customer_id: str, *, actor: str, reason: str) -> Erasure:
        self._known(customer_id)
        self._audit(actor=actor, customer_id=customer_id, field="erasure", reason=reason)
        with unit_of_work(self._session_factory) as session:
            subject = self._subject(session, customer_id, renaming=True)
        deleted = self.delete_transcripts(subject.conversation_ids)
        with unit_of_work(self._session_factory) as session:
            for owner in self._owners:
                owner.erase(session, subject)
        return Erasure(customer_id=customer_id, conversations=len(subject.conversation_ids), tracker_events=deleted)

    def _known(self, customer_id: str) -> None:
        with unit_of_work(self._session_factory) as session:
            if session.get(Customer, customer_id) is None:
                raise CustomerNotFound(customer_id)

    def delete_transcripts(self, senders: Iterable[str]) -> int:
        senders = sorted(set(senders))
        if self._tracker is None or not senders:
            return 0
        deleted = 0
        with self._tracker.begin() as connection:
            for table in self._tracker_tables():
                result = connection.execute(sa.delete(table).where(table.c.sender_id.in_(senders)))
                if table.name != CHECKPOINTS:
                    deleted += int(result.rowcount or 0)
        return deleted


def office_from_settings() -> PrivacyOffice:
    from common.settings import get_settings

    settings = get_settings()
    return PrivacyOffice(make_session_factory(make_engine(settings.database_url)), make_engine(settings.tracker_db_url))


def main(argv: list[str] | None = None, office: PrivacyOffice | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desk.privacy", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="everything held about one customer, as JSON")
    export.add_argument("customer_id")
    export.add_argument("--actor", default="cli", help="who asks (written to the audit log)")
    export.add_argument("--out", help="write to this file instead of stdout")
    erase = commands.add_parser("erase", help="erase one customer's personal data and transcripts")
    erase.add_argument("customer_id")
    erase.add_argument("--actor", default="cli")
    erase.add_argument("--reason", default="erasure request")
    args = parser.parse_args(argv)
    office = office or office_from_settings()
    try:
        if args.command == "export":
            text = json.dumps(office.export(args.customer_id, actor=args.actor), ensure_ascii=False, indent=2,
                              default=str)
            if args.out:
                with open(args.out, "w", encoding="utf-8") as f:
                    f.write(text)
            else:
                print(text)
        else:
            done = office.erase(args.customer_id, actor=args.actor, reason=args.reason)
            print(f"erased {done.customer_id}: {done.conversations} conversation ids, "
                  f"{done.tracker_events} tracker events deleted")
    except CustomerNotFound:
        print(f"no customer {args.customer_id}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
