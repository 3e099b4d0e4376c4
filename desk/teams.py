"""Teams, routing, transfer and auto-assignment.

* Teams (``teams`` + ``team_members``): ``refunds`` (the refund specialists the bot announces),
  ``complaints``, ``english`` (customers who write in English) and ``general``; supervisors set members.
* Routing (``route_team``, pure): a customer writing in English goes to the English team when one of
  its members is online; otherwise the reason decides (refund → refunds, upset → complaints), and the
  rest goes to general.
* Transfer (``TeamDesk.transfer``): the agent holding a conversation passes it to a team (back in the
  queue, routed to that team, not offered to the same agent again) or to a named agent (who holds it
  at once), with a private note for the receiver; every transfer is an audit row (``handoff_transfers``).
* Auto-assignment (``TeamDesk.assign_waiting``): the pure ``desk.assignment.assign`` over the agents
  who are online and the queued handoffs; each offer is a claim (one conditional update), so a manual
  claim or another console replica racing it wins or loses cleanly. With several replicas each runs the
  round; two rounds at the same instant may put an agent one chat over capacity for that moment (the
  load is read, not locked), never a handoff to two agents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from desk._unit import unit_of_work
from desk.agents import STALE_AFTER, AgentStore
from desk.assignment import AgentSlot, Offer, Waiting, assign
from desk.errors import DeskError, HandoffNotFound, InvalidTransition
from desk.handoffs import HandoffQueue
from desk.models import (
    Agent,
    Availability,
    Conversation,
    ConversationStatus,
    Handoff,
    HandoffReason,
    HandoffStatus,
    HandoffTransfer,
    Team,
    TeamMember,
)
from desk.schemas import HandoffView

logger = logging.getLogger(__name__)

REFUNDS, COMPLAINTS, ENGLISH, GENERAL = "refunds", "complaints", "english", "general"
SEED_TEAMS = (REFUNDS, COMPLAINTS, ENGLISH, GENERAL)
REASON_TEAMS = {HandoffReason.REFUND.value: REFUNDS, HandoffReason.NEGATIVE_SENTIMENT.value: COMPLAINTS}
TRANSFERRED_FROM = "transferred_from"  # package key: agents who passed the handoff on (not offered it again)
NOTE_MAX = 1000


TOPIC_TEAMS = {"refund": REFUNDS, "complaint": COMPLAINTS, "feedback_followup": COMPLAINTS}


def team_for_topic(topic: str) -> str:
    """The team a ticket belongs to when nothing routed it (a ticket opened outside a handoff)."""
    return TOPIC_TEAMS.get(topic, GENERAL)


def route_team(reason: HandoffReason | str, language: str | None, *, english_online: bool) -> str:
    if language == "en" and english_online:
        return ENGLISH
    return REASON_TEAMS.get(HandoffReason(reason).value, GENERAL)


class TransferRefused(DeskError):
    """``why``: ``not_holder`` | ``unknown_team`` | ``unknown_agent`` | ``same_agent`` | ``no_target``."""

    def __init__(self, why: str) -> None:
        super().__init__(f"transfer refused: {why}")
        self.why = why


@dataclass(frozen=True)
class TeamView:
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class TransferView:
    id: int
    handoff_id: int
    from_agent: str
    to_team: str | None
    to_agent: str | None
    note: str | None
    created_at: datetime


def _transfer(row: HandoffTransfer) -> TransferView:
    return TransferView(id=row.id, handoff_id=row.handoff_id, from_agent=row.from_agent, to_team=row.to_team,
                        to_agent=row.to_agent, note=row.note, created_at=row.created_at)


class TeamDesk:
    def __init__(self, session_factory: sessionmaker, queue: HandoffQueue, agents: AgentStore, *,
                 clock: Callable[[], datetime] = datetime.utcnow, stale_after: timedelta = STALE_AFTER) -> None:
        self._session_factory = session_factory
        self._queue = queue
        self._agents = agents
        self._clock = clock
        self._stale_after = stale_after

    @classmethod
    def beside(cls, queue: HandoffQueue) -> TeamDesk:
        """A desk over the same database as ``queue``."""
        return cls(queue.session_factory, queue, AgentStore(queue.session_factory, clock=queue.clock),
                   clock=queue.clock)

    def anyone_available(self) -> bool | None:
        return self._agents.anyone_available(self._stale_after)

    # --- teams -------------------------------------------------------------------------------------------

    def ensure_teams(self) -> None:
        """The four seeded teams exist (the migration inserts them; the embedded default's create_all
        does not): idempotent, safe with several processes starting at once."""
        for name in SEED_TEAMS:
            try:
                with unit_of_work(self._session_factory) as session:
                    if session.scalars(select(Team.id).where(Team.name == name)).first() is None:
                        session.add(Team(name=name))
            except IntegrityError:
                pass

    def teams(self) -> list[TeamView]:
        with unit_of_work(self._session_factory) as session:
            teams = session.scalars(select(Team).order_by(Team.id)).all()
            members: dict[int, list[str]] = {}
            for team_id, username in session.execute(
                select(TeamMember.team_id, Agent.username).join(Agent, Agent.id == TeamMember.agent_id)
                .where(Agent.active.is_(True)).order_by(Agent.username)
            ):
                members.setdefault(team_id, []).append(username)
            return [TeamView(name=t.name, members=tuple(members.get(t.id, []))) for t in teams]

    def team_names(self) -> list[str]:
        return [t.name for t in self.teams()]

    def set_members(self, team: str, usernames: list[str]) -> TeamView:
        with unit_of_work(self._session_factory) as session:
            row = session.scalars(select(Team).where(Team.name == team)).first()
            if row is None:
                raise TransferRefused("unknown_team")
            agents = session.scalars(select(Agent).where(Agent.username.in_(usernames), Agent.active.is_(True))).all()
            if len(agents) != len(set(usernames)):
                raise TransferRefused("unknown_agent")
            session.execute(delete(TeamMember).where(TeamMember.team_id == row.id))
            for agent in agents:
                session.add(TeamMember(team_id=row.id, agent_id=agent.id))
            return TeamView(name=team, members=tuple(sorted(a.username for a in agents)))

    def teams_of(self) -> dict[str, frozenset[str]]:
        """username → the teams the agent belongs to."""
        found: dict[str, set[str]] = {}
        for team in self.teams():
            for username in team.members:
                found.setdefault(username, set()).add(team.name)
        return {name: frozenset(teams) for name, teams in found.items()}

    def _online(self) -> list[str]:
        cutoff = self._clock() - self._stale_after
        return [a.username for a in self._agents.roster()
                if a.status == Availability.ONLINE.value and a.last_seen_at is not None and a.last_seen_at >= cutoff]

    def route(self, reason: HandoffReason | str, language: str | None) -> str:
        online = set(self._online())
        english = next((t for t in self.teams() if t.name == ENGLISH), None)
        return route_team(reason, language, english_online=bool(english and online & set(english.members)))

    # --- transfer ----------------------------------------------------------------------------------------

    def transfer(self, handoff_id: int, *, by: str, supervisor: bool = False, to_team: str | None = None,
                 to_agent: str | None = None, note: str = "") -> tuple[HandoffView, TransferView]:
        if bool(to_team) == bool(to_agent):
            raise TransferRefused("no_target")
        now = self._clock()
        clean = mask_text(" ".join((note or "").split()))[:NOTE_MAX] or None
        with unit_of_work(self._session_factory) as session:
            handoff = session.scalars(select(Handoff).where(Handoff.id == handoff_id).with_for_update()).first()
            if handoff is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            if handoff.status != HandoffStatus.ASSIGNED.value:
                raise InvalidTransition(handoff_id, handoff.status, HandoffStatus.QUEUED.value)
            holder = handoff.agent_id
            if holder != by and not supervisor:
                raise TransferRefused("not_holder")
            values: dict[str, object]
            if to_team:
                if session.scalars(select(Team.id).where(Team.name == to_team)).first() is None:
                    raise TransferRefused("unknown_team")
                package = dict(handoff.package or {})
                package[TRANSFERRED_FROM] = sorted(set(package.get(TRANSFERRED_FROM) or []) | {holder or by})
                values = {"status": HandoffStatus.QUEUED.value, "agent_id": None, "claimed_at": None,
                          "team": to_team, "package": package}
                conversation_status = ConversationStatus.QUEUED.value
            else:
                target = session.scalars(
                    select(Agent).where(Agent.username == to_agent, Agent.active.is_(True))).first()
                if target is None:
                    raise TransferRefused("unknown_agent")
                if to_agent == holder:
                    raise TransferRefused("same_agent")
                values = {"agent_id": to_agent, "claimed_at": now}
                conversation_status = ConversationStatus.WITH_AGENT.value
            changed = session.execute(
                update(Handoff).where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.ASSIGNED.value,
                                      Handoff.agent_id == holder)
                .values(**values).execution_options(synchronize_session=False)
            ).rowcount
            if changed != 1:
                raise InvalidTransition(handoff_id, handoff.status, HandoffStatus.QUEUED.value)
            conversation = session.get(Conversation, handoff.conversation_id)
            if conversation is not None:
                conversation.status, conversation.updated_at = conversation_status, now
            audit = HandoffTransfer(handoff_id=handoff_id, from_agent=by, to_team=to_team or None,
                                    to_agent=to_agent or None, note=clean, created_at=now)
            session.add(audit)
            session.flush()
            transfer = _transfer(audit)
        return self._queue.get(handoff_id), transfer

    def passed_on(self, handoff_id: int, username: str) -> None:
        """The agent put the handoff back in the queue: it is not offered to them again."""
        with unit_of_work(self._session_factory) as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            package = dict(row.package or {})
            package[TRANSFERRED_FROM] = sorted(set(package.get(TRANSFERRED_FROM) or []) | {username})
            row.package = package

    def transfers(self, handoff_id: int) -> list[TransferView]:
        with unit_of_work(self._session_factory) as session:
            return [_transfer(r) for r in session.scalars(
                select(HandoffTransfer).where(HandoffTransfer.handoff_id == handoff_id).order_by(HandoffTransfer.id))]

    # --- auto-assignment ---------------------------------------------------------------------------------

    def slots(self) -> list[AgentSlot]:
        teams = self.teams_of()
        cutoff = self._clock() - self._stale_after
        last = self._last_assigned()
        return [
            AgentSlot(username=a.username,
                      status=a.status if a.last_seen_at is not None and a.last_seen_at >= cutoff
                      else Availability.OFFLINE.value,
                      capacity=a.capacity, load=a.load, teams=teams.get(a.username, frozenset()),
                      last_assigned_at=last.get(a.username))
            for a in self._agents.roster()
        ]

    def _last_assigned(self) -> dict[str, datetime]:
        with unit_of_work(self._session_factory) as session:
            return {agent: at for agent, at in session.execute(
                select(Handoff.agent_id, func.max(Handoff.claimed_at)).where(Handoff.agent_id.is_not(None))
                .group_by(Handoff.agent_id)) if at is not None}

    def assign_waiting(self) -> list[Offer]:
        """Offer the queued handoffs to the agents online now; the offers that were taken (claimed)."""
        waiting = [Waiting(id=h.id, priority=h.priority, created_at=h.created_at, team=h.team,
                           excluded=frozenset(h.package.get(TRANSFERRED_FROM) or []))
                   for h in self._queue.queued()]
        if not waiting:
            return []
        made: list[Offer] = []
        for offer in assign(self.slots(), waiting):
            try:
                self._queue.claim(offer.handoff_id, agent_id=offer.agent)
            except InvalidTransition:  # claimed by hand, cancelled or timed out a moment ago
                continue
            logger.info("handoff %s assigned to %s", offer.handoff_id, offer.agent)
            made.append(offer)
        return made
