"""Proactive care: the messages the shop sends first, and the rules that decide when.

Three kinds, most important first (``KINDS``):

* ``order_delay``: an order passed its ETA and is still not delivered: an apology and the new estimate
  (``DELAY_NEW_ESTIMATE_DAYS`` after today). Announced once per ETA (a later ETA that passes again gets
  its own notice).
* ``followup``: one day after a complaint ticket or a low-rating follow-up was resolved or closed,
  "is everything sorted now?" (not later than ``FOLLOWUP_STALE`` after the closing).
* ``birthday``: on the customer's birthday (customer time), a greeting with a small benefit. The
  ``customers.birthday`` column is read where it exists; without it there is no birthday care.

Who gets them (``plan``, a pure function over candidates × customer state × history × clock):

* only signed-in customers with personalisation consent and intensity ``high`` (``low``, ``medium`` and
  off get none: ``high`` is the customer's opt-in to proactive care, ``profiles.transparency``);
* never after "stop messaging me" (the ``stop_messages`` intent: ``consents.marketing = false``);
* never in quiet hours (``CARE_QUIET_HOURS``, 22:00-08:00 customer time by default): it waits;
* at most ``CARE_DAILY_CAP`` in 24 hours and ``CARE_WEEKLY_CAP`` in 7 days per customer: the rest
  waits, the most important kind first;
* each (customer, kind, ref) once (``proactive_messages`` has a unique key on it).

Where they go (``CareScheduler``): to WeChat when the customer's latest conversation was on WeChat
(``wechat.delivery``: sent inside the 48-hour window, else held in ``wechat_outbox`` until they write),
otherwise to the web widget: the row waits (``waiting``) until the customer's widget is connected, and
the console hands it over (``WebCourier``; at the widget's hello and every ``CARE_WEB_POLL_S``). Every
message is a ``proactive_messages`` row with its reason (masked), shown in the console's review of the
conversation; what the widget shows is also added to the conversation's transcript.

``python -m desk.care`` runs the scheduler every ``CARE_INTERVAL_S`` (``--once`` for one round); in
compose it is the ``care`` service, with ``make run`` a supervised process beside the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import time as time_module
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from common.db import StoreUnavailable
from common.ids import ConversationId
from common.masking import mask_text
from common.privacy import DataSubject, Identifiers, plain
from common.settings import Settings
from desk.domain_text import render
from desk.live import conversation_topic, customer_topic
from desk.models import Conversation, ProactiveMessage, Ticket
from profiles.models import ChannelIdentity, Consent, Customer, Order
from wechat.delivery import Delivery, WeChatDelivery

logger = logging.getLogger(__name__)

ORDER_DELAY, FOLLOWUP, BIRTHDAY = "order_delay", "followup", "birthday"
KINDS = (ORDER_DELAY, FOLLOWUP, BIRTHDAY)  # most important first: the cap keeps these
RESPONSE_PREFIX = "utter_care_"  # + kind (bot/domain/proactive.yml)
WAITING, SENT, HELD = "waiting", "sent", "held"
DELAYABLE_STATUSES = ("paid", "processing", "shipped")
FOLLOWUP_TOPICS = ("complaint", "feedback_followup")
FOLLOWUP_CLOSED = ("resolved", "closed")
FOLLOWUP_AFTER = timedelta(days=1)
FOLLOWUP_STALE = timedelta(days=3)
DELAY_NEW_ESTIMATE_DAYS = 2
WEB, WECHAT = "web", "wechat"

# why a candidate is not sent now (Decision.why); "send" when it is
SEND = "send"
ALREADY_SENT = "already_sent"
NOT_SIGNED_IN = "not_signed_in"
OPTED_OUT = "opted_out"
NO_CONSENT = "no_consent"
INTENSITY = "intensity"
QUIET_HOURS = "quiet_hours"
CAP_DAILY = "cap_daily"
CAP_WEEKLY = "cap_weekly"


# --- the rules (pure) ----------------------------------------------------------------------------


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """``"22:00-08:00"`` → (22:00, 08:00); empty or ``off`` → None (no quiet hours)."""
    text = (text or "").strip()
    if not text or text.lower() == "off":
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-", 1))
    except ValueError as exc:
        raise ValueError(f"quiet hours must look like 22:00-08:00, got {text!r}") from exc
    return start, end


@dataclass(frozen=True)
class CareRules:
    quiet_hours: tuple[time, time] | None = (time(22), time(8))
    timezone: str = "Asia/Shanghai"
    daily_cap: int = 1
    weekly_cap: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> CareRules:
        zone(settings.care_timezone)  # an unknown zone stops the scheduler at start, not at the first round
        return cls(quiet_hours=parse_quiet_hours(settings.care_quiet_hours), timezone=settings.care_timezone,
                   daily_cap=settings.care_daily_cap, weekly_cap=settings.care_weekly_cap)

    def local(self, now_utc: datetime) -> datetime:
        """The customer's wall-clock time for ``now_utc`` (naive UTC, as the database stores it)."""
        return now_utc.replace(tzinfo=timezone.utc).astimezone(zone(self.timezone)).replace(tzinfo=None)


# where the system has no time-zone database (a slim image without tzdata): the fixed offsets of common zones
FIXED_OFFSETS = {"Asia/Shanghai": 8, "Asia/Hong_Kong": 8, "Asia/Taipei": 8, "Asia/Singapore": 8, "UTC": 0}
_OFFSET_RE = re.compile(r"^UTC([+-])(\d{1,2})(?::?(\d{2}))?$")


def zone(name: str) -> tzinfo:
    """``Asia/Shanghai``, ``UTC``, ``UTC+08:00``; a ``ValueError`` for anything else."""
    match = _OFFSET_RE.match(name.strip())
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0)))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        if name in FIXED_OFFSETS:
            return timezone(timedelta(hours=FIXED_OFFSETS[name]))
        raise ValueError(f"unknown time zone {name!r} (CARE_TIMEZONE)") from exc


def in_quiet_hours(now_utc: datetime, rules: CareRules) -> bool:
    if rules.quiet_hours is None:
        return False
    start, end = rules.quiet_hours
    moment = rules.local(now_utc).time()
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # across midnight


@dataclass(frozen=True)
class CustomerState:
    customer_id: str
    language: str = "zh"
    personalization: bool = True
    intensity: str | None = "medium"
    opted_out: bool = False  # "stop messaging me": consents.marketing = false
    is_guest: bool = False


def why_not(state: CustomerState | None) -> str | None:
    """Why this customer gets no proactive care at all (None: they may, within the caps)."""
    if state is None or state.is_guest:
        return NOT_SIGNED_IN
    if state.opted_out:
        return OPTED_OUT
    if not state.personalization:
        return NO_CONSENT
    if state.intensity != "high":
        return INTENSITY
    return None


@dataclass(frozen=True)
class Candidate:
    customer_id: str
    kind: str
    ref: str  # what it is about, unique per kind: order id + ETA, ticket id, year
    reason: str  # why, for the review (no personal data)
    values: Mapping[str, Any] = field(default_factory=dict)  # the response's {placeholders}


@dataclass(frozen=True)
class Sent:
    customer_id: str
    kind: str
    ref: str
    created_at: datetime  # naive UTC


@dataclass(frozen=True)
class Decision:
    candidate: Candidate
    why: str

    @property
    def send(self) -> bool:
        return self.why == SEND


def plan(candidates: Iterable[Candidate], customers: Mapping[str, CustomerState], history: Iterable[Sent],
         rules: CareRules, now: datetime) -> list[Decision]:
    """What to send now, and why each other candidate waits or is dropped (see the module docstring)."""
    history = list(history)
    done = {(s.customer_id, s.kind, s.ref) for s in history}
    quiet = in_quiet_hours(now, rules)
    day_ago, week_ago = now - timedelta(days=1), now - timedelta(days=7)
    daily: dict[str, int] = {}
    weekly: dict[str, int] = {}
    for sent in history:
        if sent.created_at > week_ago:
            weekly[sent.customer_id] = weekly.get(sent.customer_id, 0) + 1
            if sent.created_at > day_ago:
                daily[sent.customer_id] = daily.get(sent.customer_id, 0) + 1
    order = {kind: index for index, kind in enumerate(KINDS)}
    ranked = sorted(candidates, key=lambda c: (c.customer_id, order.get(c.kind, len(KINDS)), c.ref))
    decisions: list[Decision] = []
    for candidate in ranked:
        who = candidate.customer_id
        if (who, candidate.kind, candidate.ref) in done:
            why = ALREADY_SENT
        elif (refused := why_not(customers.get(who))) is not None:
            why = refused
        elif quiet:
            why = QUIET_HOURS
        elif daily.get(who, 0) >= rules.daily_cap:
            why = CAP_DAILY
        elif weekly.get(who, 0) >= rules.weekly_cap:
            why = CAP_WEEKLY
        else:
            why = SEND
            done.add((who, candidate.kind, candidate.ref))
            daily[who] = daily.get(who, 0) + 1
            weekly[who] = weekly.get(who, 0) + 1
        decisions.append(Decision(candidate, why))
    return decisions


def delay_candidate(customer_id: str, order_id: str, eta: date, today: date) -> Candidate | None:
    """An undelivered order whose ETA (customer's date) has passed."""
    if eta >= today:
        return None
    new_eta = today + timedelta(days=DELAY_NEW_ESTIMATE_DAYS)
    return Candidate(customer_id, ORDER_DELAY, f"{order_id}:{eta.isoformat()}",
                     f"order {order_id}: ETA {eta.isoformat()} passed, not delivered; new estimate {new_eta.isoformat()}",
                     {"order_id": order_id, "eta": eta.isoformat(), "new_eta": new_eta.isoformat()})


def followup_candidate(customer_id: str, ticket_id: int, topic: str, closed_at: datetime,
                       now: datetime) -> Candidate | None:
    """A complaint or low-rating follow-up closed between one and three days ago."""
    if not (now - FOLLOWUP_STALE <= closed_at <= now - FOLLOWUP_AFTER):
        return None
    return Candidate(customer_id, FOLLOWUP, f"ticket:{ticket_id}",
                     f"{topic} ticket #{ticket_id} closed {closed_at:%Y-%m-%d %H:%M} UTC: asking whether it was resolved")


def birthday_candidate(customer_id: str, birthday: date, today: date) -> Candidate | None:
    """Today (customer's date) is the birthday; 29 February is celebrated on 28 February in other years."""
    month, day = birthday.month, birthday.day
    if (month, day) == (2, 29):
        try:
            date(today.year, 2, 29)
        except ValueError:
            day = 28
    if (today.month, today.day) != (month, day):
        return None
    return Candidate(customer_id, BIRTHDAY, str(today.year),
                     "birthday today (opted in with intensity high): greeting with free shipping for 7 days")


def message_text(candidate: Candidate, language: str) -> str:
    return render(f"{RESPONSE_PREFIX}{candidate.kind}", language, **dict(candidate.values))


# --- the store -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    channel: str  # web | wechat
    conversation_id: str
    openid: str | None = None


@dataclass(frozen=True)
class Waiting:
    id: int
    conversation_id: str
    kind: str
    text: str


class CareStore:
    """Reads what care is about (orders, tickets, customers, consents) and owns ``proactive_messages``."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    @property
    def session_factory(self) -> sessionmaker:
        return self._sessions

    def _read(self, work: Callable[[Any], Any]) -> Any:
        try:
            with self._sessions.begin() as session:
                return work(session)
        except sa.exc.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def candidates(self, now: datetime, rules: CareRules) -> list[Candidate]:
        today = rules.local(now).date()

        def work(s: Any) -> list[Candidate]:
            found: list[Candidate] = []
            orders = s.execute(sa.select(Order.customer_id, Order.id, Order.eta).where(
                Order.status.in_(DELAYABLE_STATUSES), Order.delivered_at.is_(None), Order.eta.is_not(None),
                Order.eta < today))
            for customer_id, order_id, eta in orders:
                if (c := delay_candidate(customer_id, order_id, eta, today)) is not None:
                    found.append(c)
            closed = sa.func.coalesce(Ticket.resolved_at, Ticket.updated_at)
            tickets = s.execute(sa.select(Ticket.customer_id, Ticket.id, Ticket.topic, closed).where(
                Ticket.customer_id.is_not(None), Ticket.topic.in_(FOLLOWUP_TOPICS),
                Ticket.status.in_(FOLLOWUP_CLOSED), closed >= now - FOLLOWUP_STALE, closed <= now - FOLLOWUP_AFTER))
            for customer_id, ticket_id, topic, closed_at in tickets:
                if (c := followup_candidate(customer_id, ticket_id, topic, closed_at, now)) is not None:
                    found.append(c)
            customers = Customer.__table__
            if "birthday" in {c["name"] for c in sa.inspect(s.connection()).get_columns("customers")}:
                column = sa.column("birthday", sa.Date)
                rows = s.execute(sa.select(customers.c.id, column).select_from(customers).where(column.is_not(None)))
                for customer_id, birthday in rows:
                    if isinstance(birthday, str):
                        birthday = date.fromisoformat(birthday[:10])
                    if (c := birthday_candidate(customer_id, birthday, today)) is not None:
                        found.append(c)
            return found

        return list(self._read(work))

    def customers(self, ids: Sequence[str]) -> dict[str, CustomerState]:
        def work(s: Any) -> dict[str, CustomerState]:
            rows = s.execute(sa.select(Customer.id, Customer.preferred_language, Consent.personalization,
                                       Consent.intensity, Consent.marketing)
                             .outerjoin(Consent, Consent.customer_id == Customer.id).where(Customer.id.in_(ids)))
            return {cid: CustomerState(cid, language or "zh", True if personal is None else bool(personal),
                                       intensity or "medium", marketing is False)
                    for cid, language, personal, intensity, marketing in rows}

        return dict(self._read(work)) if ids else {}

    def history(self, ids: Sequence[str], since: datetime) -> list[Sent]:
        def work(s: Any) -> list[Sent]:
            rows = s.execute(sa.select(ProactiveMessage.customer_id, ProactiveMessage.kind, ProactiveMessage.ref,
                                       ProactiveMessage.created_at).where(ProactiveMessage.customer_id.in_(ids)))
            return [Sent(*row) for row in rows]

        return list(self._read(work)) if ids else []

    def route(self, customer_id: str) -> Route:
        """WeChat when the customer's latest conversation was there and an openid is known; else the web."""
        def work(s: Any) -> Route:
            latest = s.scalar(sa.select(Conversation.channel).where(Conversation.customer_id == customer_id)
                              .order_by(Conversation.updated_at.desc()).limit(1))
            openid = s.scalar(sa.select(ChannelIdentity.external_id).where(
                ChannelIdentity.customer_id == customer_id, ChannelIdentity.channel == WECHAT)
                .order_by(ChannelIdentity.id.desc()).limit(1))
            if latest == WECHAT and openid:
                return Route(WECHAT, str(ConversationId.wechat(openid)), openid)
            return Route(WEB, str(ConversationId.web_customer(customer_id)))

        return self._read(work)

    def record(self, candidate: Candidate, route: Route, language: str, text: str, now: datetime) -> int | None:
        """The message's row (``waiting``); None when this (customer, kind, ref) was recorded already."""
        try:
            return self._record(candidate, route, language, text, now)
        except sa.exc.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def _record(self, candidate: Candidate, route: Route, language: str, text: str, now: datetime) -> int | None:
        try:
            with self._sessions.begin() as s:
                row = ProactiveMessage(customer_id=candidate.customer_id, conversation_id=route.conversation_id,
                                       channel=route.channel, kind=candidate.kind, ref=candidate.ref,
                                       reason=mask_text(candidate.reason), language=language,
                                       text=mask_text(text), status=WAITING, created_at=now)
                s.add(row)
                s.flush()
                return int(row.id)
        except IntegrityError:
            return None

    def set_status(self, message_id: int, status: str, now: datetime | None = None) -> None:
        with self._sessions.begin() as s:
            s.execute(sa.update(ProactiveMessage).where(ProactiveMessage.id == message_id).values(
                status=status, delivered_at=now if status == SENT else None))

    def claim(self, message_id: int, now: datetime) -> bool:
        """Mark a waiting message sent; False when another console (or round) has taken it already."""
        with self._sessions.begin() as s:
            result = s.execute(sa.update(ProactiveMessage).where(
                ProactiveMessage.id == message_id, ProactiveMessage.status == WAITING).values(
                status=SENT, delivered_at=now))
            return bool(result.rowcount)

    def waiting(self, conversation_id: str | None = None) -> list[Waiting]:
        def work(s: Any) -> list[Waiting]:
            query = (sa.select(ProactiveMessage.id, ProactiveMessage.conversation_id, ProactiveMessage.kind,
                               ProactiveMessage.text)
                     .where(ProactiveMessage.status == WAITING, ProactiveMessage.channel == WEB)
                     .order_by(ProactiveMessage.id))
            if conversation_id is not None:
                query = query.where(ProactiveMessage.conversation_id == conversation_id)
            return [Waiting(*row) for row in s.execute(query)]

        return list(self._read(work))

    def for_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        """The proactive messages of a conversation for the review: kind, reason, channel, status, when."""
        def work(s: Any) -> list[dict[str, Any]]:
            rows = s.scalars(sa.select(ProactiveMessage).where(ProactiveMessage.conversation_id == conversation_id)
                             .order_by(ProactiveMessage.id))
            return [{"kind": r.kind, "reason": r.reason, "channel": r.channel, "status": r.status, "text": r.text,
                     "created_at": r.created_at.isoformat(timespec="minutes"),
                     "delivered_at": r.delivered_at.isoformat(timespec="minutes") if r.delivered_at else None}
                    for r in rows]

        return list(self._read(work))


# --- privacy (desk.privacy) and retention (desk.retention) -------------------------------------------


def purge(connection: sa.engine.Connection, *, before: datetime) -> int:
    """Delete the proactive messages recorded before ``before`` (the transcript retention age)."""
    if not sa.inspect(connection).has_table(ProactiveMessage.__tablename__):
        return 0
    table = ProactiveMessage.__table__
    removed = int(connection.execute(sa.delete(table).where(table.c.created_at < before)).rowcount or 0)
    if removed:
        logger.info("proactive_messages: %d rows older than the retention age deleted", removed)
    return removed



class CareData:
    """The privacy office's view of ``proactive_messages`` (common.privacy.CustomerData): exported, and
    deleted on erasure (their text and reason name the customer's orders and tickets)."""

    tables = ("proactive_messages",)

    @staticmethod
    def _of(subject: DataSubject) -> Any:
        table = ProactiveMessage.__table__
        return sa.or_(table.c.customer_id == subject.customer_id, table.c.conversation_id.in_(subject.conversation_ids))

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        return Identifiers(frozenset(session.scalars(
            sa.select(ProactiveMessage.conversation_id).where(ProactiveMessage.customer_id == customer_id))))

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        query = sa.select(ProactiveMessage).where(self._of(subject)).order_by(ProactiveMessage.id)
        return {"proactive_messages": [plain(row) for row in session.scalars(query)]}

    def erase(self, session: Session, subject: DataSubject) -> None:
        session.execute(sa.delete(ProactiveMessage.__table__).where(self._of(subject)))


# --- the scheduler ---------------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class CareScheduler:
    """One round: plan over the store's candidates and send (WeChat) or leave waiting (web) what is due."""

    def __init__(self, store: CareStore, rules: CareRules, *, wechat: WeChatDelivery | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.rules = rules
        self._wechat = wechat
        self._clock = clock

    async def run_once(self) -> list[Decision]:
        now = self._clock()
        candidates = await asyncio.to_thread(self.store.candidates, now, self.rules)
        ids = sorted({c.customer_id for c in candidates})
        customers = await asyncio.to_thread(self.store.customers, ids)
        history = await asyncio.to_thread(self.store.history, ids, now - timedelta(days=8))
        decisions = plan(candidates, customers, history, self.rules, now)
        for decision in decisions:
            if decision.send:
                await self._send(decision.candidate, customers[decision.candidate.customer_id], now)
        sent = sum(d.send for d in decisions)
        logger.info("care: %d candidates, %d sent or handed to the channel", len(decisions), sent)
        return decisions

    async def _send(self, candidate: Candidate, customer: CustomerState, now: datetime) -> None:
        route = await asyncio.to_thread(self.store.route, candidate.customer_id)
        if route.channel == WECHAT and self._wechat is None:
            route = Route(WEB, str(ConversationId.web_customer(candidate.customer_id)))
        language = customer.language if customer.language in ("zh", "en") else "zh"
        text = message_text(candidate, language)
        message_id = await asyncio.to_thread(self.store.record, candidate, route, language, text, now)
        if message_id is None or route.channel != WECHAT or self._wechat is None or route.openid is None:
            return  # recorded by another round already, or waiting for the web widget
        delivered = await self._wechat.deliver(route.openid, mask_text(text), source="care")
        status = SENT if delivered is Delivery.SENT else HELD
        await asyncio.to_thread(self.store.set_status, message_id, status, self._clock())


# --- the web widget's share (run inside the console) ------------------------------------------------


class Publisher(Protocol):
    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...


class Transcript(Protocol):
    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> Any: ...


class WebCourier:
    """Hands waiting proactive messages to the customer's connected widget(s) and adds them to the
    conversation's transcript (metadata ``proactive``: the kind)."""

    def __init__(self, store: CareStore, broker: Any, rasa: Transcript, *, poll_s: float = 5.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._broker = broker
        self._rasa = rasa
        self._poll_s = poll_s
        self._clock = clock

    async def deliver(self, conversation_id: str) -> int:
        """Send what waits for this conversation (call it while its widget is connected)."""
        try:
            waiting = await asyncio.to_thread(self._store.waiting, conversation_id)
        except StoreUnavailable as exc:
            logger.warning("care: waiting messages not read (%s)", exc)
            return 0
        delivered = 0
        for message in waiting:
            if not await asyncio.to_thread(self._store.claim, message.id, self._clock()):
                continue
            delivered += 1
            event = {"event": "bot", "text": message.text, "timestamp": time_module.time(),
                     "metadata": {"proactive": message.kind}}
            try:
                await self._rasa.append_events(conversation_id, [event])
            except Exception as exc:  # the customer still gets it; only the transcript line is missing
                logger.warning("care: message %s not added to the transcript of %s (%s)", message.id,
                               conversation_id, exc)
            await self._broker.publish(customer_topic(conversation_id), {
                "type": "message", "from": "bot", "text": message.text, "buttons": [], "agent": None,
                "proactive": message.kind})
            await self._broker.publish(conversation_topic(conversation_id), {"type": "transcript"})
        return delivered

    def _connected(self, conversation_id: str) -> bool:
        count = getattr(self._broker, "subscribers", None)
        return bool(count(customer_topic(conversation_id))) if callable(count) else False

    async def round(self) -> int:
        """Deliver to every conversation whose widget is connected to this console; how many went out."""
        delivered = 0
        try:
            conversations = {m.conversation_id for m in await asyncio.to_thread(self._store.waiting)}
            for conversation_id in sorted(conversations):
                if self._connected(conversation_id):
                    delivered += await self.deliver(conversation_id)
        except StoreUnavailable as exc:
            logger.warning("care: waiting messages not read (%s)", exc)
        return delivered

    async def run(self) -> None:
        """A round every ``poll_s``."""
        while True:
            try:
                await self.round()
            except Exception:
                logger.exception("care: delivery round failed")
            await asyncio.sleep(self._poll_s)


# --- the process ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from common.db import make_engine, make_session_factory
    from common.settings import get_settings
    from wechat.delivery import delivery_from_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m desk.care", description=__doc__.split("\n")[0])
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    parser.add_argument("--health-file", default="", help="touched after every successful round")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scheduler = CareScheduler(CareStore(make_session_factory(make_engine(settings.database_url))),
                              CareRules.from_settings(settings), wechat=delivery_from_settings(settings))

    async def loop() -> None:
        while True:
            try:
                await scheduler.run_once()
                if args.health_file:
                    Path(args.health_file).touch()
            except StoreUnavailable as exc:
                logger.warning("care: database unavailable (%s); next round in %ss", exc, settings.care_interval_s)
            except Exception:  # logged; the next round tries again (what was recorded is not sent twice)
                logger.exception("care: round failed; next round in %ss", settings.care_interval_s)
                if args.once:
                    raise
            if args.once:
                return
            await asyncio.sleep(settings.care_interval_s)

    asyncio.run(loop())
    return 0


if __name__ == "__main__":
    sys.exit(main())
