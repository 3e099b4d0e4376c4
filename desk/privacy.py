"""What we hold about one customer: export it (JSON) or erase it, each with an audit entry.

``python -m desk.privacy export <customer_id> [--actor NAME] [--out FILE]`` prints (or writes) one JSON
document: profile, channel identities, orders, consent and consent changes, offers, conversations and their
sessions, tickets (with contacts), handoffs (with notes), feedback, QA reviews, the reveals of the
customer's data in the audit log, the WeChat lines held and keys kept for the customer's openids, and
the transcripts (every stored tracker event of the customer's conversations, from the tracker store
and, where present, the event archive). Rows of the customer's conversations count whether or not
they carry the ``customer_id`` (a guest's handoff before signing in, a ticket written by the outbox).

``python -m desk.privacy erase <customer_id> --actor NAME --reason TEXT`` removes the personal data:

* tracker store: the events, checkpoint and archived events of every conversation of the customer
  are deleted (transcripts hold what the customer said);
* profile: name replaced by ``erased``, contact hashes and masked forms, birth year, birthday, the
  declared accessibility need, the sealed vault,
  channel identities (a returning WeChat user is then a guest), consent changes deleted;
* offers keep kind, code, amount, dates and experiment arm (the dashboard's counts) but lose the
  conversation id;
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
  exactly) are deleted by their owner module (bot/connectors), where those tables live in this
  database (the embedded store). With Redis the same keys expire by themselves within 48 hours.

The audit entry goes to the supervisors' audit log (``pii_reveals``; field ``export`` or ``erasure``)
and is committed before anything is read or deleted. Conversations are found through the
``conversations``, ``handoffs``, ``feedback`` and ``tickets`` rows of the customer and its channel
identities (``web-<id>``, ``wechat:<openid>`` and the raw external id).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from wechat import outbox as wechat_outbox
from wechat import stores as wechat_stores
from common.db import make_engine, make_session_factory
from common.ids import ConversationId
from desk._unit import unit_of_work
from desk.errors import DeskError
from desk.models import (
    Conversation,
    ConversationSession,
    ConversationSignals,
    Feedback,
    FollowupClosure,
    Handoff,
    HandoffNote,
    PiiReveal,
    Ticket,
    TicketContact,
    TicketEvent,
    TranscriptReview,
)
from profiles.models import ChannelIdentity, Consent, ConsentChange, Customer, CustomerVault, Offer, Order

ERASED = "erased"
ERASED_TEXT = "[erased]"
TRACKER_TABLES = ("events", "event_archive")  # keyed by sender_id; tracker_checkpoints too (below)
CHECKPOINTS = "tracker_checkpoints"
# every desk table that keeps a conversation id (column named conversation_id, or Conversation.id)
CONVERSATION_COLUMNS = (
    Conversation.id, ConversationSession.conversation_id, ConversationSignals.conversation_id,
    Ticket.conversation_id, TicketContact.conversation_id, Handoff.conversation_id, Feedback.conversation_id,
    TranscriptReview.conversation_id, PiiReveal.conversation_id,
)


class CustomerNotFound(DeskError):
    """No customer with this id."""


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    conversations: int
    tracker_events: int


def _plain(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        out[column.key] = value.isoformat() if isinstance(value, (datetime, date)) else value
    return out


class PrivacyOffice:
    """Export and erasure over the application database and the tracker store."""

    def __init__(
        self, session_factory: sessionmaker, tracker_engine: Engine | None, *,
        clock: Callable[[], datetime] = datetime.utcnow,
    ) -> None:
        self._session_factory = session_factory
        self._tracker = tracker_engine
        self._clock = clock

    # ------------------------------------------------------------------------------- reading
    def conversation_ids(self, session: Any, customer_id: str) -> set[str]:
        ids: set[str] = set()
        for model in (Conversation, Handoff, Feedback, Ticket, TicketContact):
            column = model.id if model is Conversation else model.conversation_id
            ids.update(
                c for c in session.scalars(sa.select(column).where(model.customer_id == customer_id)) if c
            )
        for identity in session.scalars(sa.select(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id)):
            ids.add(identity.external_id)
            ids.add(f"{identity.channel}:{identity.external_id}")
        ids.add(str(ConversationId.web_customer(customer_id)))
        return ids

    @staticmethod
    def _openids(session: Any, customer_id: str) -> list[str]:
        return list(session.scalars(sa.select(ChannelIdentity.external_id).where(
            ChannelIdentity.customer_id == customer_id, ChannelIdentity.channel == "wechat")))

    @staticmethod
    def _iso(row: dict[str, Any]) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, (datetime, date)) else v) for k, v in row.items()}

    @staticmethod
    def pseudonyms(senders: Iterable[str], openids: Iterable[str]) -> dict[str, str]:
        """A random ``erased-…`` id for every conversation id that names one of ``openids``."""
        wanted = set(openids)
        return {sender: f"erased-{uuid.uuid4().hex[:20]}" for sender in sorted(set(senders))
                if wanted & set(sender.split(":"))}

    @staticmethod
    def _pseudonymise(session: Any, renames: dict[str, str]) -> None:
        for old, new in renames.items():
            for feedback in session.scalars(sa.select(Feedback).where(Feedback.conversation_id == old)):
                if feedback.idempotency_key.startswith(old):
                    feedback.idempotency_key = new + feedback.idempotency_key[len(old):]
            session.flush()
            for column in CONVERSATION_COLUMNS:
                session.execute(sa.update(column.table).where(column == old).values({column.key: new})
                                .execution_options(synchronize_session=False))

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
        with unit_of_work(self._session_factory) as session:
            if session.get(Customer, customer_id) is None:
                raise CustomerNotFound(customer_id)
        self._audit(actor=actor, customer_id=customer_id, field="export", reason=reason)
        with unit_of_work(self._session_factory) as session:
            customer = session.get(Customer, customer_id)
            senders = self.conversation_ids(session, customer_id)

            def rows(model: Any, *where: Any) -> list[dict[str, Any]]:
                return [_plain(r) for r in session.scalars(sa.select(model).where(*where))]

            def of_customer(model: Any) -> list[dict[str, Any]]:
                return rows(model, sa.or_(model.customer_id == customer_id, model.conversation_id.in_(senders)))

            handoffs = of_customer(Handoff)
            tickets = of_customer(Ticket)
            openids = self._openids(session, customer_id)
            connection = session.connection()
            document = {
                "customer_id": customer_id,
                "exported_at": self._clock().isoformat(),
                "profile": _plain(customer),
                "identities": rows(ChannelIdentity, ChannelIdentity.customer_id == customer_id),
                "orders": rows(Order, Order.customer_id == customer_id),
                "consent": rows(Consent, Consent.customer_id == customer_id),
                "consent_changes": rows(ConsentChange, ConsentChange.customer_id == customer_id),
                "offers": rows(Offer, Offer.customer_id == customer_id),
                "conversations": rows(Conversation, Conversation.id.in_(senders)),
                "sessions": of_customer(ConversationSession),
                "tickets": tickets,
                "ticket_contacts": rows(TicketContact, sa.or_(TicketContact.ticket_id.in_([t["id"] for t in tickets]),
                                                               TicketContact.conversation_id.in_(senders))),
                "handoffs": handoffs,
                "handoff_notes": rows(HandoffNote, HandoffNote.handoff_id.in_([h["id"] for h in handoffs])),
                "feedback": of_customer(Feedback),
                "reviews": rows(TranscriptReview, TranscriptReview.conversation_id.in_(senders)),
                "ticket_events": rows(TicketEvent, TicketEvent.ticket_id.in_([t["id"] for t in tickets])),
                "followup_closures": rows(FollowupClosure, FollowupClosure.ticket_id.in_([t["id"] for t in tickets])),
                "reveals": of_customer(PiiReveal),
                "wechat_held_messages": [self._iso(r) for r in wechat_outbox.rows_for_openids(connection, openids)],
                "wechat_keys": wechat_stores.keys_naming(connection, openids),
            }
        document["transcripts"] = self.transcripts(senders)
        return document

    # ------------------------------------------------------------------------------- erasure
    def erase(self, customer_id: str, *, actor: str, reason: str) -> Erasure:
        with unit_of_work(self._session_factory) as session:
            if session.get(Customer, customer_id) is None:
                raise CustomerNotFound(customer_id)
        self._audit(actor=actor, customer_id=customer_id, field="erasure", reason=reason)
        with unit_of_work(self._session_factory) as session:
            senders = self.conversation_ids(session, customer_id)
        deleted = self.delete_transcripts(senders)
        with unit_of_work(self._session_factory) as session:
            customer = session.get(Customer, customer_id)
            for column in ("phone_hash", "phone_masked", "id_number_hash", "id_number_masked", "email_hash",
                           "email_masked", "birth_year", "birthday", "accessibility"):
                setattr(customer, column, None)
            customer.name = ERASED
            openids = self._openids(session, customer_id)  # before the identities go
            wechat_outbox.erase_openids(session.connection(), openids)
            wechat_stores.erase_openids(session.connection(), openids)
            for model in (ChannelIdentity, ConsentChange, CustomerVault):
                session.execute(sa.delete(model).where(model.customer_id == customer_id))
            session.execute(sa.update(Order).where(Order.customer_id == customer_id)
                            .values(address=ERASED_TEXT, tracking_no=None))
            # offers keep kind, amounts, dates and arm (the experiment's counts stay right), not the conversation
            session.execute(sa.update(Offer).where(Offer.customer_id == customer_id).values(conversation_id=None))

            def ids(model: Any) -> list[int]:
                return list(session.scalars(sa.select(model.id).where(
                    sa.or_(model.customer_id == customer_id, model.conversation_id.in_(senders)))))

            ticket_ids, handoff_ids, feedback_ids = ids(Ticket), ids(Handoff), ids(Feedback)
            session.execute(sa.update(Ticket).where(Ticket.id.in_(ticket_ids))
                            .values(subject=ERASED_TEXT, resolution_note=None))
            session.execute(sa.update(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.text.isnot(None))
                            .values(text=ERASED_TEXT))
            session.execute(sa.update(FollowupClosure).where(FollowupClosure.ticket_id.in_(ticket_ids))
                            .values(note=ERASED_TEXT))
            session.execute(sa.update(Handoff).where(Handoff.id.in_(handoff_ids))
                            .values(summary=ERASED_TEXT, package={}))
            session.execute(sa.update(HandoffNote).where(HandoffNote.handoff_id.in_(handoff_ids))
                            .values(text=ERASED_TEXT))
            session.execute(sa.update(Feedback).where(Feedback.id.in_(feedback_ids)).values(comment=None))
            session.execute(sa.update(TranscriptReview).where(TranscriptReview.conversation_id.in_(senders))
                            .values(notes=None))
            self._pseudonymise(session, self.pseudonyms(senders, openids))
        return Erasure(customer_id=customer_id, conversations=len(senders), tracker_events=deleted)

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
