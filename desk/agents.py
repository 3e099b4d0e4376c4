"""AgentStore: console users (agents and supervisors) and their signed-in sessions.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256, the agent,
the expiry and the session's CSRF token (checked on every state-changing request).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from desk._unit import unit_of_work
from desk.errors import DeskError
from desk.models import Agent, AgentAvailability, AgentRole, AgentSession, Availability, Handoff, HandoffStatus
from desk.passwords import burn_time, hash_password, needs_rehash, verify_password


class AgentExists(DeskError):
    pass


DEFAULT_CAPACITY = 3
MAX_CAPACITY = 20
# an agent whose console has not been heard from for this long is taken offline (the console's live
# stream reports every 15 s while a page is open)
STALE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class AvailabilityView:
    username: str
    status: str  # desk.models.Availability
    capacity: int
    load: int = 0  # chats held now
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class AgentView:
    id: int
    username: str
    display_name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == AgentRole.SUPERVISOR.value

    @property
    def public_name(self) -> str | None:
        """The name customers see (widget, transcript): the display name, unless it would give away the
        sign-in name (then None, and the customer sees the channel's word for "agent" alone)."""
        name = (self.display_name or "").strip()
        if not name or self.username.strip().lower() in name.lower():
            return None
        return name


@dataclass(frozen=True)
class SignedIn:
    agent: AgentView
    csrf_token: str
    expires_at: datetime


def _view(agent: Agent) -> AgentView:
    return AgentView(id=agent.id, username=agent.username, display_name=agent.display_name, role=agent.role)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AgentStore:
    def __init__(
        self,
        session_factory: sessionmaker,
        *,
        session_ttl: timedelta = timedelta(hours=8),
        clock: Callable[[], datetime] = datetime.utcnow,
    ) -> None:
        self._session_factory = session_factory
        self._ttl = session_ttl
        self._clock = clock

    def add(self, *, username: str, password: str, role: AgentRole | str, display_name: str | None = None) -> AgentView:
        role = AgentRole(role).value
        password_hash = hash_password(password)
        try:
            with unit_of_work(self._session_factory) as session:
                agent = Agent(
                    username=username.strip(),
                    display_name=(display_name or username).strip(),
                    role=role,
                    password_hash=password_hash,
                    active=True,
                    created_at=self._clock(),
                )
                session.add(agent)
                session.flush()
                return _view(agent)
        except IntegrityError as exc:
            raise AgentExists(f"user {username!r} exists") from exc

    def set_password(self, username: str, password: str) -> None:
        password_hash = hash_password(password)
        with unit_of_work(self._session_factory) as session:
            agent = session.scalars(select(Agent).where(Agent.username == username)).first()
            if agent is None:
                raise LookupError(username)
            agent.password_hash = password_hash
            session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))

    def deactivate(self, username: str) -> None:
        with unit_of_work(self._session_factory) as session:
            agent = session.scalars(select(Agent).where(Agent.username == username)).first()
            if agent is None:
                raise LookupError(username)
            agent.active = False
            session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))

    def all(self) -> list[AgentView]:
        with unit_of_work(self._session_factory) as session:
            return [_view(a) for a in session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.id))]

    def get(self, username: str) -> AgentView | None:
        with unit_of_work(self._session_factory) as session:
            agent = session.scalars(select(Agent).where(Agent.username == username)).first()
            return _view(agent) if agent else None

    def authenticate(self, username: str, password: str) -> AgentView | None:
        with unit_of_work(self._session_factory) as session:
            agent = session.scalars(
                select(Agent).where(Agent.username == username.strip(), Agent.active.is_(True))
            ).first()
            stored = agent.password_hash if agent else None
            view = _view(agent) if agent else None
        if stored is None or view is None:
            burn_time(password)
            return None
        if not verify_password(password, stored):
            return None
        if needs_rehash(stored):
            self._rehash(view.id, stored, password)
        return view

    def _rehash(self, agent_id: int, stored: str, password: str) -> None:
        """An older hash (lower scrypt cost) is replaced at its owner's sign-in, while the password is known.
        Only if it is still the same hash: a password changed meanwhile is never overwritten."""
        upgraded = hash_password(password, check_strength=False)
        with unit_of_work(self._session_factory) as session:
            agent = session.get(Agent, agent_id)
            if agent is not None and agent.password_hash == stored:
                agent.password_hash = upgraded

    def start_session(self, agent_id: int) -> tuple[str, SignedIn]:
        """A new session; returns the cookie token (shown once, never stored) and the session."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            session.execute(delete(AgentSession).where(AgentSession.expires_at < now))
            agent = session.get(Agent, agent_id)
            if agent is None or not agent.active:
                raise LookupError(agent_id)
            row = AgentSession(
                token_hash=_token_hash(token),
                agent_id=agent_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + self._ttl,
            )
            session.add(row)
            return token, SignedIn(agent=_view(agent), csrf_token=row.csrf_token, expires_at=row.expires_at)

    def signed_in(self, token: str | None) -> SignedIn | None:
        if not token:
            return None
        with unit_of_work(self._session_factory) as session:
            row = session.get(AgentSession, _token_hash(token))
            if row is None or row.expires_at <= self._clock():
                return None
            agent = session.get(Agent, row.agent_id)
            if agent is None or not agent.active:
                return None
            return SignedIn(agent=_view(agent), csrf_token=row.csrf_token, expires_at=row.expires_at)

    def end_session(self, token: str | None) -> None:
        if not token:
            return
        with unit_of_work(self._session_factory) as session:
            session.execute(delete(AgentSession).where(AgentSession.token_hash == _token_hash(token)))

    # --- availability and capacity -------------------------------------------------------------------
    # An agent without a row has never used the switch; while no agent has one the desk has no notion of
    # who is online (``anyone_available`` is None) and queues as it always has.

    def _row(self, session, agent_id: int) -> AgentAvailability:  # type: ignore[no-untyped-def]
        row = session.get(AgentAvailability, agent_id)
        if row is None:
            row = AgentAvailability(agent_id=agent_id, status=Availability.OFFLINE.value, capacity=DEFAULT_CAPACITY,
                                    updated_at=self._clock())
            session.add(row)
        return row

    def set_availability(self, agent_id: int, status: Availability | str) -> AvailabilityView:
        status = Availability(status).value
        now = self._clock()
        with unit_of_work(self._session_factory) as session:
            agent = session.get(Agent, agent_id)
            if agent is None or not agent.active:
                raise LookupError(agent_id)
            row = self._row(session, agent_id)
            row.status, row.updated_at = status, now
            if status != Availability.OFFLINE.value:
                row.last_seen_at = now
            return AvailabilityView(username=agent.username, status=row.status, capacity=row.capacity,
                                    last_seen_at=row.last_seen_at)

    def set_capacity(self, username: str, capacity: int) -> AvailabilityView:
        if not 0 <= int(capacity) <= MAX_CAPACITY:
            raise ValueError(capacity)
        with unit_of_work(self._session_factory) as session:
            agent = session.scalars(select(Agent).where(Agent.username == username, Agent.active.is_(True))).first()
            if agent is None:
                raise LookupError(username)
            row = self._row(session, agent.id)
            row.capacity, row.updated_at = int(capacity), self._clock()
            return AvailabilityView(username=agent.username, status=row.status, capacity=row.capacity,
                                    last_seen_at=row.last_seen_at)

    def availability(self, agent_id: int) -> AvailabilityView:
        with unit_of_work(self._session_factory) as session:
            agent = session.get(Agent, agent_id)
            if agent is None:
                raise LookupError(agent_id)
            row = session.get(AgentAvailability, agent_id)
            if row is None:
                return AvailabilityView(username=agent.username, status=Availability.OFFLINE.value,
                                        capacity=DEFAULT_CAPACITY)
            return AvailabilityView(username=agent.username, status=row.status, capacity=row.capacity,
                                    last_seen_at=row.last_seen_at)

    def seen(self, agent_id: int) -> None:
        """The agent's console is open (its live stream): keeps an online or away agent from going stale."""
        with unit_of_work(self._session_factory) as session:
            session.execute(update(AgentAvailability).where(AgentAvailability.agent_id == agent_id)
                            .values(last_seen_at=self._clock()).execution_options(synchronize_session=False))

    def go_offline(self, agent_id: int) -> None:
        """Signed out: offline (only for an agent who uses the switch)."""
        with unit_of_work(self._session_factory) as session:
            session.execute(update(AgentAvailability).where(AgentAvailability.agent_id == agent_id)
                            .values(status=Availability.OFFLINE.value, updated_at=self._clock())
                            .execution_options(synchronize_session=False))

    def expire_stale(self, stale_after: timedelta = STALE_AFTER) -> list[str]:
        """Agents online or away whose console has gone quiet (closed, crashed, lost network) go offline;
        returns their usernames."""
        cutoff = self._clock() - stale_after
        with unit_of_work(self._session_factory) as session:
            rows = session.execute(
                select(AgentAvailability, Agent.username).join(Agent, Agent.id == AgentAvailability.agent_id)
                .where(AgentAvailability.status != Availability.OFFLINE.value,
                       (AgentAvailability.last_seen_at.is_(None)) | (AgentAvailability.last_seen_at < cutoff))
            ).all()
            for row, _ in rows:
                row.status, row.updated_at = Availability.OFFLINE.value, self._clock()
            return [username for _, username in rows]

    def roster(self) -> list[AvailabilityView]:
        """Every active agent who uses the switch: status, capacity and chats held now."""
        with unit_of_work(self._session_factory) as session:
            loads = dict(session.execute(
                select(Handoff.agent_id, func.count(Handoff.id))
                .where(Handoff.status == HandoffStatus.ASSIGNED.value).group_by(Handoff.agent_id)
            ).all())
            rows = session.execute(
                select(AgentAvailability, Agent.username).join(Agent, Agent.id == AgentAvailability.agent_id)
                .where(Agent.active.is_(True)).order_by(Agent.id)
            ).all()
            return [AvailabilityView(username=username, status=row.status, capacity=row.capacity,
                                     load=int(loads.get(username) or 0), last_seen_at=row.last_seen_at)
                    for row, username in rows]

    def anyone_available(self, stale_after: timedelta = STALE_AFTER) -> bool | None:
        """Whether an agent is online now (and heard from lately); None while no agent uses the switch."""
        roster = self.roster()
        if not roster:
            return None
        cutoff = self._clock() - stale_after
        return any(a.status == Availability.ONLINE.value and a.capacity > 0 and a.last_seen_at is not None
                   and a.last_seen_at >= cutoff for a in roster)
