"""Service-level agreements: which class a chat or a ticket falls in, when its targets are due, and where
it stands (pure: no I/O but reading ``desk/sla.yml``; the clock is always passed in).

Two targets per item, from the class's policy (``desk/sla.yml``):

* first response: a chat (handoff) is answered when the agent sends the first line; a ticket when an
  agent first claims, notes on or resolves it;
* resolution: the handoff resolved; the ticket resolved or closed. A ticket's resolution is never due
  later than what the customer was promised (``desk.ticket_status.due_of``).

A target's state: ``ok`` (running, less than ``warning_share`` of it used), ``warning`` (running, past
``warning_share``), ``breached`` (done late, or still running after it was due), ``met`` (done in time),
``void`` (the chat ended without the step, before it was due: the customer left, nothing to measure).

The class is the first that applies, in this order: VIP customer, elderly customer (accessibility),
upset customer (negative sentiment; a complaint, a low-CSAT follow-up or an urgent/high ticket), refund
(refund or payment), other. For a handoff it follows the queue priority (``desk.handoffs``), which ranks
the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from desk.handoffs import PRIORITY_ELDERLY, PRIORITY_REFUND, PRIORITY_UPSET, PRIORITY_VIP

SLA_FILE = Path(__file__).with_name("sla.yml")
CLASSES = ("vip", "elderly", "upset", "refund", "other")
KINDS = ("chat", "ticket")
STEPS = ("first_response", "resolution")
RUNNING = ("ok", "warning")
STATES = ("ok", "warning", "breached", "met", "void")
BREAKDOWNS = ("team", "agent", "reason", "week", "sla_class", "kind")
UPSET_TOPICS = ("complaint", "feedback_followup")
UPSET_PRIORITIES = ("high", "urgent")
REFUND_TOPICS = ("refund", "payment")
_BY_PRIORITY = {PRIORITY_VIP: "vip", PRIORITY_ELDERLY: "elderly", PRIORITY_UPSET: "upset", PRIORITY_REFUND: "refund"}


@dataclass(frozen=True)
class Targets:
    first_response: timedelta
    resolution: timedelta


@dataclass(frozen=True)
class Policy:
    warning_share: float
    targets: dict[tuple[str, str], Targets]  # (class, kind) → targets

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Policy:
        share = float(raw.get("warning_share", 0.8))
        if not 0 < share < 1:
            raise ValueError("warning_share must be between 0 and 1")
        targets: dict[tuple[str, str], Targets] = {}
        for name in CLASSES:
            entry = (raw.get("classes") or {}).get(name)
            if not entry:
                raise ValueError(f"sla policy: class {name!r} missing")
            chat, ticket = entry["chat"], entry["ticket"]
            targets[(name, "chat")] = Targets(timedelta(minutes=float(chat["first_response_minutes"])),
                                              timedelta(minutes=float(chat["resolution_minutes"])))
            targets[(name, "ticket")] = Targets(timedelta(hours=float(ticket["first_response_hours"])),
                                                timedelta(hours=float(ticket["resolution_hours"])))
        for value in targets.values():
            if value.first_response <= timedelta(0) or value.resolution <= timedelta(0):
                raise ValueError("sla policy: every target must be positive")
        return cls(warning_share=share, targets=targets)

    @classmethod
    def load(cls, path: Path = SLA_FILE) -> Policy:
        return cls.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))

    def of(self, sla_class: str, kind: str) -> Targets:
        return self.targets[(sla_class if sla_class in CLASSES else "other", kind)]


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    return Policy.load()


# ------------------------------------------------------------------------------------ classes
def classify_handoff(priority: int) -> str:
    return _BY_PRIORITY.get(int(priority), "other")


def classify_ticket(*, topic: str, priority: str | None, tier: str | None, elderly: bool) -> str:
    if tier == "vip":
        return "vip"
    if elderly:
        return "elderly"
    if topic in UPSET_TOPICS or priority in UPSET_PRIORITIES:
        return "upset"
    if topic in REFUND_TOPICS:
        return "refund"
    return "other"


# ------------------------------------------------------------------------------------ clocks
@dataclass(frozen=True)
class Check:
    """One target of one item: when it is due, when the warning starts, and its state at ``now``."""

    state: str
    due_at: datetime
    warn_at: datetime
    done_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def counted(self) -> bool:
        """Done or due: it counts in the report as met or breached."""
        return self.state in ("met", "breached")


def check(*, start: datetime, target: timedelta, share: float, now: datetime, done_at: datetime | None = None,
          stopped_at: datetime | None = None, due_cap: datetime | None = None) -> Check:
    """The state of one target started at ``start``: done at ``done_at``; ``stopped_at``: the item ended
    without the step (a chat the customer left); ``due_cap``: due at the latest then."""
    due = start + target
    if due_cap is not None and due_cap < due:
        due = due_cap
    warn = start + (due - start) * share
    if done_at is not None:
        return Check("met" if done_at <= due else "breached", due, warn, done_at)
    if stopped_at is not None:
        return Check("breached" if stopped_at > due else "void", due, warn)
    if now > due:
        return Check("breached", due, warn)
    return Check("warning" if now >= warn else "ok", due, warn)


@dataclass(frozen=True)
class Item:
    """A chat or a ticket as the SLA sees it (facts only; ``evaluate`` gives the states)."""

    kind: str  # chat | ticket
    id: int
    sla_class: str
    created_at: datetime
    reason: str  # handoff reason or ticket topic
    team: str | None = None
    agent: str | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    ended_at: datetime | None = None  # ended without being resolved (chat left, timed out, cancelled)
    promised_at: datetime | None = None  # a ticket's due time told to the customer


@dataclass(frozen=True)
class Evaluated:
    item: Item
    first_response: Check
    resolution: Check

    @property
    def current(self) -> tuple[str, Check]:
        """The target the agent works to now: the first response until it is sent (even once past its
        target), then the resolution."""
        still_open = self.item.resolved_at is None and self.item.ended_at is None
        if still_open and self.first_response.done_at is None:
            return "first_response", self.first_response
        return "resolution", self.resolution

    @property
    def state(self) -> str:
        """The worst state of the two, for a badge: breached > warning > ok > met > void."""
        order = ("breached", "warning", "ok", "met", "void")
        return min((self.first_response.state, self.resolution.state), key=order.index)

    @property
    def week(self) -> date:
        return week_of(self.item.created_at)


def evaluate(item: Item, now: datetime, policy: Policy | None = None) -> Evaluated:
    policy = policy or default_policy()
    targets = policy.of(item.sla_class, item.kind)
    share = policy.warning_share
    first = check(start=item.created_at, target=targets.first_response, share=share, now=now,
                  done_at=item.first_response_at or (item.resolved_at if item.kind == "ticket" else None),
                  stopped_at=item.ended_at or (item.resolved_at if item.kind == "chat" else None))
    resolution = check(start=item.created_at, target=targets.resolution, share=share, now=now,
                       done_at=item.resolved_at, stopped_at=item.ended_at, due_cap=item.promised_at)
    return Evaluated(item, first, resolution)


def live_fields(evaluated: Evaluated, now: datetime) -> dict[str, Any]:
    """What a page needs to show the SLA badge and move it on by itself: the current target, its state,
    and the seconds left to the warning and to the breach (negative once passed)."""
    step, current = evaluated.current
    return {
        "sla_class": evaluated.item.sla_class,
        "sla_step": step,
        "sla_state": current.state,
        "sla_due_at": current.due_at.isoformat(timespec="seconds"),
        "sla_warn_in_s": int((current.warn_at - now).total_seconds()),
        "sla_breach_in_s": int((current.due_at - now).total_seconds()),
    }


def week_of(moment: datetime | date) -> date:
    """The Monday of ``moment``'s ISO week."""
    day = moment.date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


# ------------------------------------------------------------------------------------ report
@dataclass
class Tally:
    met: int = 0
    breached: int = 0
    running: int = 0  # ok or warning
    warning: int = 0

    def add(self, c: Check) -> None:
        if c.state == "met":
            self.met += 1
        elif c.state == "breached":
            self.breached += 1
        elif c.running:
            self.running += 1
            self.warning += c.state == "warning"

    @property
    def met_rate(self) -> float | None:
        done = self.met + self.breached
        return self.met / done if done else None


@dataclass
class ReportRow:
    value: str | None
    items: int = 0
    first_response: Tally = field(default_factory=Tally)
    resolution: Tally = field(default_factory=Tally)

    def add(self, e: Evaluated) -> None:
        self.items += 1
        self.first_response.add(e.first_response)
        self.resolution.add(e.resolution)


def group_value(e: Evaluated, by: str) -> str | None:
    if by == "week":
        return e.week.isoformat()
    if by == "sla_class":
        return e.item.sla_class
    if by == "kind":
        return e.item.kind
    return getattr(e.item, by)  # team, agent, reason


def report(evaluated: Iterable[Evaluated], by: str, order: Sequence[str] = ()) -> tuple[list[ReportRow], ReportRow]:
    """Met / breached / running per value of ``by`` (items without a value form the ``None`` group,
    listed last), and the total."""
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}")
    groups: dict[str | None, ReportRow] = defaultdict(lambda: ReportRow(None))
    total = ReportRow("all")
    for e in evaluated:
        value = group_value(e, by)
        row = groups[value]
        row.value = value
        row.add(e)
        total.add(e)

    def position(value: str | None) -> tuple[int, int, str]:
        if value is None:
            return (2, 0, "")
        if value in order:
            return (0, list(order).index(value), value)
        return (1, 0, value)

    return [groups[v] for v in sorted(groups, key=position)], total
