"""Auto-assignment: which waiting handoff goes to which available agent (pure: no database, no clock).

``assign`` takes the agents (availability, capacity, current load, teams) and the waiting handoffs and
returns the offers, in the order they should be made:

- handoffs are served in queue order: priority (VIP, elderly/accessibility, upset, refund, others),
  then waiting time (oldest first), then id;
- only agents who are online take new chats, and never more than their capacity (load counts the
  chats they hold now plus the offers made in this round);
- a handoff routed to a team goes to a member of that team when one has room, else to anyone with room;
- among the candidates the least loaded is chosen (fewest chats relative to capacity, then fewest chats,
  then most room left, then the agent who has waited longest since the last assignment, then the name);
- a handoff nobody has room for stays queued (manual claim is always possible).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from desk.models import Availability


@dataclass(frozen=True)
class AgentSlot:
    username: str
    status: str  # desk.models.Availability
    capacity: int
    load: int  # chats held now (assigned handoffs)
    teams: frozenset[str] = field(default_factory=frozenset)
    last_assigned_at: datetime | None = None

    @property
    def takes_chats(self) -> bool:
        return self.status == Availability.ONLINE.value and self.capacity > 0


@dataclass(frozen=True)
class Waiting:
    id: int
    priority: int
    created_at: datetime
    team: str | None = None
    excluded: frozenset[str] = field(default_factory=frozenset)  # agents who passed it on (transfer)


@dataclass(frozen=True)
class Offer:
    handoff_id: int
    agent: str


def queue_order(waiting: Iterable[Waiting]) -> list[Waiting]:
    return sorted(waiting, key=lambda w: (w.priority, w.created_at, w.id))


def assign(agents: Iterable[AgentSlot], waiting: Iterable[Waiting]) -> list[Offer]:
    slots = {a.username: a for a in agents if a.takes_chats}
    load = {name: max(a.load, 0) for name, a in slots.items()}
    order = {name: i for i, name in enumerate(sorted(
        slots, key=lambda n: (slots[n].last_assigned_at is not None, slots[n].last_assigned_at or datetime.min, n)))}
    offers: list[Offer] = []
    for handoff in queue_order(waiting):
        room = [n for n in slots if load[n] < slots[n].capacity and n not in handoff.excluded]
        if not room:
            continue
        members = [n for n in room if handoff.team and handoff.team in slots[n].teams]
        pool = members or room
        chosen = min(pool, key=lambda n: (load[n] / slots[n].capacity, load[n],
                                          -(slots[n].capacity - load[n]), order[n], n))
        load[chosen] += 1
        offers.append(Offer(handoff_id=handoff.id, agent=chosen))
    return offers
