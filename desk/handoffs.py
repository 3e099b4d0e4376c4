"""HandoffQueue: the warm handoff from bot to human.

``handoff_priority`` and ``build_summary`` are pure; ``HandoffQueue.enqueue`` is idempotent per
conversation (a second request while one is open returns the open one and its place in the queue).

The queue is bounded, so a flood of requests from fresh guest ids cannot bury the customers waiting
(``QueueFull``, logged as a warning; the bot answers ``utter_handoff_queue_full`` and stays):

- at most ``MAX_QUEUED_GUESTS`` guests (no ``customer_id``) wait at once: what a support team can
  serve in about an hour; signed-in customers are not counted against it;
- at most ``MAX_QUEUED`` handoffs wait at once, everyone together;
- one guest conversation opens at most ``GUEST_REQUESTS_PER_HOUR`` handoffs an hour (asking again
  while one is open keeps its place and does not count).

The counts are read in the transaction that adds the row, so two requests racing at the bound may
both get in: a soft bound, off by at most the number of concurrent writers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from desk._unit import retry_on_conflict, unit_of_work
from desk.errors import DeskError, HandoffNotFound, InvalidTransition
from desk.models import Conversation, ConversationStatus, Handoff, HandoffReason, HandoffStatus
from desk.schemas import HandoffView, QueuedHandoff

logger = logging.getLogger(__name__)
MAX_QUEUED_GUESTS = 20
MAX_QUEUED = 500
GUEST_REQUESTS_PER_HOUR = 3


class QueueFull(DeskError):
    """A bound of the queue is reached: ``bound`` is ``guests``, ``queue`` or ``guest``."""

    def __init__(self, bound: str, limit: int) -> None:
        super().__init__(f"handoff queue bound reached: {bound} (limit {limit})")
        self.bound, self.limit = bound, limit


OPEN_STATUSES = (HandoffStatus.QUEUED.value, HandoffStatus.ASSIGNED.value)
RESUME_PENDING = "resume_pending"  # package key: the conversation still waits for Rasa to resume it
# package keys written while queued (issue 10 item 3): the customer's lines for the agent, masked, and
# how the customer left the queue
CUSTOMER_NOTES = "customer_notes"
CANCELLED_BY_CUSTOMER = "cancelled_by_customer"
NOBODY_ONLINE = "nobody_online"  # package key: closed at once, no agent was online (close_unstaffed)
CUSTOMER_NOTES_MAX = 20  # lines kept per handoff (the transcript keeps every line)
CUSTOMER_NOTE_CHARS = 500

# The handoff lifecycle: queued → assigned (claimed by an agent) → resolved; a queued or assigned
# handoff may end as abandoned (the customer left), a queued one as timed out (nobody claimed it) or
# cancelled (the customer told the bot they no longer need a person); an agent may put an assigned
# handoff back in the queue (transfer).
TRANSITIONS: dict[HandoffStatus, frozenset[HandoffStatus]] = {
    HandoffStatus.QUEUED: frozenset(
        {HandoffStatus.ASSIGNED, HandoffStatus.ABANDONED, HandoffStatus.TIMED_OUT, HandoffStatus.CANCELLED}
    ),
    HandoffStatus.ASSIGNED: frozenset({HandoffStatus.RESOLVED, HandoffStatus.QUEUED, HandoffStatus.ABANDONED}),
    HandoffStatus.RESOLVED: frozenset(),
    HandoffStatus.ABANDONED: frozenset(),
    HandoffStatus.TIMED_OUT: frozenset(),
    HandoffStatus.CANCELLED: frozenset(),
}
# what the conversation is doing while its handoff is in each state
CONVERSATION_STATUS = {
    HandoffStatus.QUEUED: ConversationStatus.QUEUED,
    HandoffStatus.ASSIGNED: ConversationStatus.WITH_AGENT,
    HandoffStatus.RESOLVED: ConversationStatus.RESOLVED,
    HandoffStatus.ABANDONED: ConversationStatus.ABANDONED,
    HandoffStatus.TIMED_OUT: ConversationStatus.TIMED_OUT,
    HandoffStatus.CANCELLED: ConversationStatus.BOT,  # the bot has the conversation again
}


@dataclass(frozen=True)
class CustomerNote:
    """A line the customer wrote while queued, kept for the agent (masked)."""

    handoff_id: int
    text: str
    at: datetime
    number: int  # 1 = the first line kept on this handoff; 0 = not kept (no longer queued)


def can_transition(current: HandoffStatus | str, wanted: HandoffStatus | str) -> bool:
    return HandoffStatus(wanted) in TRANSITIONS[HandoffStatus(current)]
SUMMARY_FILE = Path(__file__).with_name("summary.yml")

# Lower is served first: VIP, then elderly, then angry/anxious, then refunds, then the rest.
PRIORITY_VIP = 1
PRIORITY_ELDERLY = 2
PRIORITY_UPSET = 3
PRIORITY_REFUND = 4
PRIORITY_NORMAL = 5


def handoff_priority(*, reason: HandoffReason | str, tier: str | None, elderly: bool, emotion: str | None) -> int:
    if tier == "vip":
        return PRIORITY_VIP
    if elderly:
        return PRIORITY_ELDERLY
    if emotion in ("anger", "anxiety") or HandoffReason(reason) is HandoffReason.NEGATIVE_SENTIMENT:
        return PRIORITY_UPSET
    if HandoffReason(reason) is HandoffReason.REFUND:
        return PRIORITY_REFUND
    return PRIORITY_NORMAL


@dataclass(frozen=True)
class SummaryFacts:
    """What the agent needs to know at a glance; all personal data already masked."""

    language: str
    reason: str
    customer_name: str | None  # masked
    tier: str | None
    segment: str | None
    elderly: bool
    sentiment: str | None
    emotion: str | None
    trend: str | None
    order_id: str | None = None
    repeat_contacts: int = 0
    intents: tuple[str, ...] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def _summary_wording() -> dict[str, Any]:
    return yaml.safe_load(SUMMARY_FILE.read_text(encoding="utf-8"))


def build_summary(facts: SummaryFacts) -> str:
    words = _summary_wording().get(facts.language) or _summary_wording()["en"]
    traits = [
        words["tier"].get(facts.tier or "", ""),
        words["segment"].get(facts.segment or "", ""),
        words["elderly"] if facts.elderly else "",
    ]
    traits = [t for t in traits if t]
    trait_text = (
        words["traits_open"] + words["separator"].join(traits) + words["traits_close"] if traits else ""
    )
    sentiment = words["sentiment"].get(facts.sentiment or "neutral", facts.sentiment or "")
    emotion = words["emotion"].get(facts.emotion or "none", "")
    if emotion:
        sentiment = f"{sentiment}/{emotion}"
    return (
        words["template"]
        .format(
            customer=facts.customer_name or words["guest"],
            traits=trait_text,
            reason=words["reason"].get(facts.reason, facts.reason),
            topic=words["topic"].format(order_id=facts.order_id) if facts.order_id else "",
            sentiment=sentiment,
            trend=words["trend"].get(facts.trend or "steady", facts.trend or ""),
            repeat=words["repeat"].format(count=facts.repeat_contacts) if facts.repeat_contacts > 1 else "",
        )
        .strip()
    )


def _view(h: Handoff) -> HandoffView:
    return HandoffView(
        id=h.id,
        conversation_id=h.conversation_id,
        customer_id=h.customer_id,
        channel=h.channel,
        language=h.language,
        reason=h.reason,
        priority=h.priority,
        status=h.status,
        summary=h.summary,
        package=dict(h.package or {}),
        agent_id=h.agent_id,
        created_at=h.created_at,
        team=h.team,
    )


class HandoffQueue:
    def __init__(self, session_factory: sessionmaker, *, clock: Callable[[], datetime] = datetime.utcnow,
                 max_queued_guests: int = MAX_QUEUED_GUESTS, max_queued: int = MAX_QUEUED,
                 guest_requests_per_hour: int = GUEST_REQUESTS_PER_HOUR) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self.max_queued_guests, self.max_queued = max_queued_guests, max_queued
        self.guest_requests_per_hour = guest_requests_per_hour

    @property
    def session_factory(self) -> sessionmaker:
        """The database this queue writes to (the desk's other stores beside it use the same)."""
        return self._session_factory

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    def _check_bounds(self, session, *, conversation_id: str, customer_id: str | None,  # type: ignore[no-untyped-def]
                      now: datetime) -> None:
        """Raise ``QueueFull`` (logged) when adding one more queued handoff would pass a bound."""
        queued = Handoff.status == HandoffStatus.QUEUED.value
        checks: list[tuple[str, int, Any]] = [("queue", self.max_queued, queued)]
        if customer_id is None:
            checks += [
                ("guests", self.max_queued_guests, and_(queued, Handoff.customer_id.is_(None))),
                ("guest", self.guest_requests_per_hour, and_(Handoff.conversation_id == conversation_id,
                                                             Handoff.created_at > now - timedelta(hours=1))),
            ]
        for bound, limit, where in checks:
            if int(session.scalar(select(func.count(Handoff.id)).where(where)) or 0) >= limit:
                logger.warning("handoff queue bound reached: %s (limit %s); conversation %s not queued",
                               bound, limit, conversation_id)
                raise QueueFull(bound, limit)

    def enqueue(
        self,
        *,
        conversation_id: str,
        customer_id: str | None,
        channel: str,
        language: str | None,
        reason: HandoffReason | str,
        priority: int,
        summary: str,
        package: dict[str, Any],
        team: str | None = None,
    ) -> QueuedHandoff:
        reason = HandoffReason(reason).value
        now = self._clock()
        # one open handoff per conversation, also across processes (uq_handoffs_open_conversation)
        return retry_on_conflict(lambda: self._enqueue(
            conversation_id=conversation_id, customer_id=customer_id, channel=channel, language=language,
            reason=reason, priority=priority, summary=summary, package=package, now=now, team=team))

    def _enqueue(self, *, conversation_id: str, customer_id: str | None, channel: str, language: str | None,
                 reason: str, priority: int, summary: str, package: dict[str, Any], now: datetime,
                 team: str | None = None) -> QueuedHandoff:
        with unit_of_work(self._session_factory) as session:
            existing = session.scalars(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
                .with_for_update()
            ).first()
            created = existing is None
            if existing is None:
                self._check_bounds(session, conversation_id=conversation_id, customer_id=customer_id, now=now)
                existing = Handoff(
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    channel=channel,
                    language=language,
                    reason=reason,
                    priority=priority,
                    status=HandoffStatus.QUEUED.value,
                    summary=mask_text(summary),
                    package=package,
                    created_at=now,
                    team=team,
                )
                session.add(existing)
                conversation = session.get(Conversation, conversation_id)
                if conversation is None:
                    session.add(
                        Conversation(
                            id=conversation_id,
                            channel=channel,
                            customer_id=customer_id,
                            language=language,
                            status=ConversationStatus.QUEUED.value,
                            started_at=now,
                        )
                    )
                else:
                    conversation.status = ConversationStatus.QUEUED.value
                session.flush()
            position = self._position(session, existing)
            return QueuedHandoff(
                id=existing.id,
                conversation_id=conversation_id,
                status=existing.status,
                reason=existing.reason,
                priority=existing.priority,
                position=position,
                created=created,
            )

    @staticmethod
    def _position(session, handoff: Handoff) -> int:  # type: ignore[no-untyped-def]
        if handoff.status != HandoffStatus.QUEUED.value:
            return 0
        ahead = session.scalar(
            select(func.count(Handoff.id)).where(
                Handoff.status == HandoffStatus.QUEUED.value,
                Handoff.id != handoff.id,
                or_(
                    Handoff.priority < handoff.priority,
                    and_(Handoff.priority == handoff.priority, Handoff.created_at < handoff.created_at),
                    and_(
                        Handoff.priority == handoff.priority,
                        Handoff.created_at == handoff.created_at,
                        Handoff.id < handoff.id,
                    ),
                ),
            )
        )
        return int(ahead or 0) + 1

    def queued(self) -> list[HandoffView]:
        with unit_of_work(self._session_factory) as session:
            rows = session.scalars(
                select(Handoff)
                .where(Handoff.status == HandoffStatus.QUEUED.value)
                .order_by(Handoff.priority, Handoff.created_at, Handoff.id)
            ).all()
            return [_view(h) for h in rows]

    def open_handoffs(self) -> list[HandoffView]:
        """Queued and assigned handoffs, queue order (the console's live view)."""
        with unit_of_work(self._session_factory) as session:
            rows = session.scalars(
                select(Handoff)
                .where(Handoff.status.in_(OPEN_STATUSES))
                .order_by(Handoff.priority, Handoff.created_at, Handoff.id)
            ).all()
            return [_view(h) for h in rows]

    def get(self, handoff_id: int) -> HandoffView:
        with unit_of_work(self._session_factory) as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            return _view(row)

    def for_conversation(self, conversation_id: str) -> list[HandoffView]:
        with unit_of_work(self._session_factory) as session:
            rows = session.scalars(
                select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id)
            ).all()
            return [_view(h) for h in rows]

    def open_for(self, conversation_id: str) -> HandoffView | None:
        with unit_of_work(self._session_factory) as session:
            row = session.scalars(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
                .order_by(Handoff.id.desc())
            ).first()
            return _view(row) if row else None

    def transition(
        self, handoff_id: int, wanted: HandoffStatus | str, *, agent_id: str | None = None
    ) -> HandoffView:
        """Move a handoff to ``wanted``; of two racing callers exactly one wins.

        The write comes first, as one conditional UPDATE (``WHERE status IN <states that may move
        to wanted>``), so the database decides the race: PostgreSQL re-checks the condition after the
        winner's commit, SQLite serialises the writers.
        """
        wanted = HandoffStatus(wanted)
        sources = [state.value for state, targets in TRANSITIONS.items() if wanted in targets]
        now = self._clock()
        values: dict[str, Any] = {"status": wanted.value}
        if wanted is HandoffStatus.ASSIGNED:
            values.update(agent_id=agent_id, claimed_at=now)
        elif wanted is HandoffStatus.QUEUED:
            values.update(agent_id=None, claimed_at=None)
        else:
            values.update(resolved_at=now)
        with unit_of_work(self._session_factory) as session:
            changed = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status.in_(sources))
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            if changed != 1:
                raise InvalidTransition(handoff_id, handoff.status, wanted.value)
            conversation = session.get(Conversation, handoff.conversation_id)
            if conversation is not None:
                conversation.status = CONVERSATION_STATUS[wanted].value
                conversation.updated_at = now
            return _view(handoff)

    def claim(self, handoff_id: int, *, agent_id: str) -> HandoffView:
        return self.transition(handoff_id, HandoffStatus.ASSIGNED, agent_id=agent_id)

    def resolve(self, handoff_id: int) -> HandoffView:
        return self.transition(handoff_id, HandoffStatus.RESOLVED)

    # A closed handoff whose conversation Rasa has not resumed yet (Rasa out of reach at that moment)
    # carries ``package["resume_pending"]`` = how it ended; the console's sweep retries until Rasa
    # accepts (desk.resolution.resume, desk.console.timeouts).

    def mark_resume_pending(self, handoff_id: int, ending: str) -> None:
        self._set_resume_pending(handoff_id, ending)

    def clear_resume_pending(self, handoff_id: int) -> None:
        self._set_resume_pending(handoff_id, None)

    def _set_resume_pending(self, handoff_id: int, ending: str | None) -> None:
        with unit_of_work(self._session_factory) as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            package = {k: v for k, v in dict(row.package or {}).items() if k != RESUME_PENDING}
            if ending is not None:
                package[RESUME_PENDING] = ending
            row.package = package  # a new dict: the JSON column sees the change

    def resume_pending(self) -> list[HandoffView]:
        """Closed handoffs still waiting for Rasa to resume their conversation, oldest first."""
        with unit_of_work(self._session_factory) as session:
            rows = session.scalars(
                select(Handoff)
                .where(Handoff.status.not_in(OPEN_STATUSES),
                       Handoff.package[RESUME_PENDING].as_string().is_not(None))
                .order_by(Handoff.id)
            ).all()
            return [_view(h) for h in rows]

    # While queued (issue 10 item 3): the customer asks where they stand, adds lines for the agent, or
    # leaves the queue. The bot's action server calls these (actions/queue_turn.py).

    def position_of(self, handoff_id: int) -> int:
        """Place in the queue (1 = next), 0 when the handoff is not queued any more."""
        with unit_of_work(self._session_factory) as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            return self._position(session, row)

    def add_customer_note(self, handoff_id: int, text: str) -> CustomerNote:
        """Keep a customer's line for the agent on a *queued* handoff (masked, trimmed, the last
        ``CUSTOMER_NOTES_MAX`` kept). ``number`` is 1 for the first line of this handoff; 0 when the
        handoff is not queued (claimed or closed meanwhile: nothing is written).
        """
        now = self._clock()
        clean = mask_text(" ".join((text or "").split()))[:CUSTOMER_NOTE_CHARS]
        with unit_of_work(self._session_factory) as session:
            row = session.scalars(select(Handoff).where(Handoff.id == handoff_id).with_for_update()).first()
            if row is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            if row.status != HandoffStatus.QUEUED.value or not clean:
                return CustomerNote(handoff_id=handoff_id, text=clean, at=now, number=0)
            package = dict(row.package or {})
            notes = list(package.get(CUSTOMER_NOTES) or [])
            number = int(package.get(CUSTOMER_NOTES + "_count") or len(notes)) + 1
            notes.append({"text": clean, "at": now.isoformat(timespec="seconds")})
            package[CUSTOMER_NOTES] = notes[-CUSTOMER_NOTES_MAX:]
            package[CUSTOMER_NOTES + "_count"] = number
            row.package = package  # a new dict: the JSON column sees the change
            return CustomerNote(handoff_id=handoff_id, text=clean, at=now, number=number)

    def cancel_by_customer(self, handoff_id: int, *, refund_withdrawn: bool = False) -> HandoffView:
        """The customer left the queue: queued → cancelled (``InvalidTransition`` once claimed or closed)."""
        handoff = self.transition(handoff_id, HandoffStatus.CANCELLED)
        with unit_of_work(self._session_factory) as session:
            row = session.get(Handoff, handoff_id)
            package = dict(row.package or {})
            package[CANCELLED_BY_CUSTOMER] = {
                "at": self._clock().isoformat(timespec="seconds"),
                "refund_withdrawn": bool(refund_withdrawn),
            }
            row.package = package
            return _view(row) if row is not None else handoff

    # Nobody online (desk.agents.AgentStore.anyone_available is False): the request is kept, closed at
    # once as timed out and marked, and the bot opens a callback ticket and tells the customer.

    def close_unstaffed(self, handoff_id: int) -> HandoffView:
        """queued → timed out at once, marked ``package["nobody_online"]`` (no agent was online)."""
        self.transition(handoff_id, HandoffStatus.TIMED_OUT)
        with unit_of_work(self._session_factory) as session:
            row = session.get(Handoff, handoff_id)
            row.package = {**dict(row.package or {}), NOBODY_ONLINE: self._clock().isoformat(timespec="seconds")}
            return _view(row)
