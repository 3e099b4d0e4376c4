"""Offers that follow the customer's segment and lifecycle: pure rules over profile × consent × intensity ×
history, and the store that issues and records them (the ``offers`` table; only ``profiles`` writes it).

Rules (``decide``), values from ``profiles/offers.yml``:

* nothing for a guest, nothing without personalisation consent or without consent to promotional
  messages, nothing unless the intensity is one of ``limits.levels`` (``high`` as shipped: ``low`` and
  ``off`` never get an offer, ``medium`` keeps today's service without coupons);
* trigger ``contact`` (the customer's greeting): ``welcome_back`` for an ``at_risk`` segment or a
  ``dormant`` / ``churned`` lifecycle, once ever (``once``) and only when no retention offer
  (``welcome_back`` or ``retention``) was made in ``limits.retention_every_days``; otherwise
  ``points_boost`` for a ``potential`` customer when none was made in ``limits.boost_every_days``;
* trigger ``leaving`` (the customer talks about leaving): ``retention`` when no retention offer was
  made in ``limits.retention_every_days``; either way a person is offered next (``actions/offers.py``).

``privileges`` (not offers: service the customer has, mentioned where it applies, e.g. priority human
and free returns for ``important_value``) and ``onboarding_hint`` (a new customer's first contact, at
``medium`` or ``high``) are pure too.

The amount of a coupon comes from the experiment arm when ``experiment`` has arms (A/B test of two
amounts; the arm is chosen by the caller with ``desk.experiment.assign_arm`` over the customer id).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from common.db import StoreUnavailable
from profiles.models import Consent, Customer, Offer, Order
from profiles.store import serialise_on_sqlite
from profiles.transparency import level_of

__all__ = [
    "FREE_RETURNS",
    "OFFERS_FILE",
    "PRIORITY_HUMAN",
    "RETENTION_KINDS",
    "Decision",
    "IssuedOffer",
    "OfferContext",
    "OfferError",
    "OfferRules",
    "OfferStore",
    "PastOffer",
    "decide",
    "load_offer_rules",
    "onboarding_hint",
    "privileges",
]

OFFERS_FILE = Path(__file__).resolve().parent / "offers.yml"
RETENTION_KINDS = frozenset({"welcome_back", "retention"})
BOOST_KINDS = frozenset({"points_boost"})
KINDS = ("welcome_back", "retention", "points_boost")
TRIGGERS = ("contact", "leaving")
PRIORITY_HUMAN = "priority_human"  # privileges (``privileges`` in offers.yml)
FREE_RETURNS = "free_returns"
CODE_PREFIX = {"welcome_back": "WB", "retention": "RT", "points_boost": "PB"}


class OfferError(ValueError):
    """``offers.yml`` holds an unusable value, or a redemption was refused (``.reason``)."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class OfferTerms:
    amount: float | None = None
    min_spend: float | None = None
    multiplier: float | None = None
    valid_days: int = 30
    segments: tuple[str, ...] = ()
    lifecycles: tuple[str, ...] = ()
    once: bool = False


@dataclass(frozen=True)
class OfferRules:
    """Defaults equal the shipped ``offers.yml``."""

    retention_every_days: int = 90
    boost_every_days: int = 90
    levels: tuple[str, ...] = ("high",)
    terms: Mapping[str, OfferTerms] = field(default_factory=lambda: {
        "welcome_back": OfferTerms(amount=20, min_spend=99, valid_days=30, segments=("at_risk",),
                                   lifecycles=("dormant", "churned"), once=True),
        "retention": OfferTerms(amount=30, min_spend=99, valid_days=14),
        "points_boost": OfferTerms(multiplier=2, valid_days=30, segments=("potential",)),
    })
    privileges: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"important_value": ("priority_human", "free_returns")})
    onboarding_lifecycles: tuple[str, ...] = ("new",)
    experiment: str | None = None
    arms: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise OfferError(f"{where} must be a non-negative number, got {value!r}")
    return float(value)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OfferError(f"{where} must be a list of names, got {value!r}")
    return tuple(value)


def load_offer_rules(path: str | Path = OFFERS_FILE) -> OfferRules:
    """Read ``offers.yml``; unknown offer kinds and bad values raise ``OfferError``."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise OfferError(f"{path}: not valid YAML: {exc}") from exc
    limits = raw.get("limits") or {}
    terms: dict[str, OfferTerms] = {}
    for kind, spec in (raw.get("offers") or {}).items():
        if kind not in KINDS:
            raise OfferError(f"unknown offer kind {kind!r}; known: {KINDS}")
        spec = spec or {}
        terms[kind] = OfferTerms(
            amount=_number(spec["amount"], f"{kind}.amount") if "amount" in spec else None,
            min_spend=_number(spec["min_spend"], f"{kind}.min_spend") if "min_spend" in spec else None,
            multiplier=_number(spec["multiplier"], f"{kind}.multiplier") if "multiplier" in spec else None,
            valid_days=int(_number(spec.get("valid_days", 30), f"{kind}.valid_days")),
            segments=_names(spec.get("segments"), f"{kind}.segments"),
            lifecycles=_names(spec.get("lifecycles"), f"{kind}.lifecycles"),
            once=bool(spec.get("once", False)),
        )
    levels = _names(limits.get("levels", ["high"]), "limits.levels")
    if {"off", "low"} & set(levels):
        raise OfferError("limits.levels must not include off or low: those customers asked for no offers")
    experiment = raw.get("experiment") or {}
    arms = {str(arm): {k: _number(v, f"experiment.{arm}.{k}") for k, v in (amounts or {}).items()}
            for arm, amounts in (experiment.get("arms") or {}).items()}
    return OfferRules(
        retention_every_days=int(_number(limits.get("retention_every_days", 90), "limits.retention_every_days")),
        boost_every_days=int(_number(limits.get("boost_every_days", 90), "limits.boost_every_days")),
        levels=levels,
        terms=terms,
        privileges={str(k): _names(v, f"privileges.{k}") for k, v in (raw.get("privileges") or {}).items()},
        onboarding_lifecycles=_names((raw.get("onboarding") or {}).get("lifecycles"), "onboarding.lifecycles"),
        experiment=str(experiment["name"]) if experiment.get("name") and len(arms) >= 2 else None,
        arms=arms if len(arms) >= 2 else {},
    )


# ------------------------------------------------------------------------------------ pure rules


@dataclass(frozen=True)
class PastOffer:
    kind: str
    issued_at: datetime


@dataclass(frozen=True)
class OfferContext:
    is_guest: bool
    segment: str
    lifecycle: str
    personalization: bool
    intensity: str
    now: datetime
    marketing: bool = True
    history: tuple[PastOffer, ...] = ()


@dataclass(frozen=True)
class Decision:
    """``kind`` to issue (``None``: none) and, when none, why (``guest``, ``consent``, ``level``,
    ``limit``, ``once``, ``not_eligible``)."""

    kind: str | None
    why_not: str | None = None


def _made_within(history: Iterable[PastOffer], kinds: frozenset[str], days: int, now: datetime) -> bool:
    return any(p.kind in kinds and now - p.issued_at < timedelta(days=days) for p in history)


def decide(ctx: OfferContext, rules: OfferRules, trigger: str) -> Decision:
    """Which offer, if any, this customer gets now (rules in the module docstring)."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    if ctx.is_guest:
        return Decision(None, "guest")
    if not ctx.personalization or not ctx.marketing:
        return Decision(None, "consent")
    if level_of(ctx.personalization, ctx.intensity) not in rules.levels:
        return Decision(None, "level")
    recent_retention = _made_within(ctx.history, RETENTION_KINDS, rules.retention_every_days, ctx.now)
    if trigger == "leaving":
        if "retention" not in rules.terms:
            return Decision(None, "not_eligible")
        return Decision(None, "limit") if recent_retention else Decision("retention")
    why_not = "not_eligible"
    welcome = rules.terms.get("welcome_back")
    if welcome and (ctx.segment in welcome.segments or ctx.lifecycle in welcome.lifecycles):
        if welcome.once and any(p.kind == "welcome_back" for p in ctx.history):
            why_not = "once"
        elif recent_retention:
            why_not = "limit"
        else:
            return Decision("welcome_back")
    boost = rules.terms.get("points_boost")
    if boost and ctx.segment in boost.segments:
        if _made_within(ctx.history, BOOST_KINDS, rules.boost_every_days, ctx.now):
            return Decision(None, "limit")
        return Decision("points_boost")
    return Decision(None, why_not)


def privileges(segment: str | None, rules: OfferRules, *, is_guest: bool = False) -> tuple[str, ...]:
    """The privileges of the customer's segment (``priority_human``, ``free_returns``); none for a guest.
    A service rule, not personalisation: it stays whatever the intensity."""
    if is_guest or not segment:
        return ()
    return tuple(rules.privileges.get(segment, ()))


def onboarding_hint(ctx: OfferContext, rules: OfferRules, *, first_contact: bool) -> bool:
    """A short onboarding hint on a new customer's first contact, at ``medium`` or ``high`` intensity."""
    return (
        first_contact
        and not ctx.is_guest
        and ctx.lifecycle in rules.onboarding_lifecycles
        and level_of(ctx.personalization, ctx.intensity) in ("medium", "high")
    )


def terms_for(kind: str, rules: OfferRules, arm: str | None) -> OfferTerms:
    """The terms of ``kind``, with the amount of the experiment arm when one applies."""
    base = rules.terms[kind]
    amount = rules.arms.get(arm or "", {}).get(kind) if rules.arms else None
    if amount is None:
        return base
    return OfferTerms(amount=amount, min_spend=base.min_spend, multiplier=base.multiplier,
                      valid_days=base.valid_days, segments=base.segments, lifecycles=base.lifecycles,
                      once=base.once)


# ------------------------------------------------------------------------------------ the store


@dataclass(frozen=True)
class IssuedOffer:
    kind: str
    code: str
    amount: float | None
    min_spend: float | None
    multiplier: float | None
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    channel: str
    reason: str
    arm: str | None


@dataclass(frozen=True)
class ArmSummary:
    experiment: str | None
    arm: str | None
    kind: str
    issued: int
    redeemed: int

    @property
    def rate(self) -> float:
        return self.redeemed / self.issued if self.issued else 0.0


@contextmanager
def _db_errors() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        raise StoreUnavailable(f"offer store unavailable ({type(exc).__name__})") from exc


def _issued(row: Offer, rules: OfferRules) -> IssuedOffer:
    """The record as the customer sees it: a points boost's ``amount`` column holds its multiplier."""
    boost = row.kind == "points_boost"
    terms = rules.terms.get(row.kind)
    return IssuedOffer(kind=row.kind, code=row.code, amount=None if boost else row.amount,
                       min_spend=terms.min_spend if terms else None, multiplier=row.amount if boost else None,
                       issued_at=row.issued_at, expires_at=row.expires_at, redeemed_at=row.redeemed_at,
                       channel=row.channel, reason=row.reason, arm=row.arm)


class OfferStore:
    """Issues offers by the rules and records them; marks them redeemed; counts them for the dashboard."""

    def __init__(self, session_factory: sessionmaker, *, rules: OfferRules,
                 clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._session_factory = session_factory
        self._rules = rules
        self._clock = clock

    @property
    def rules(self) -> OfferRules:
        return self._rules

    def offer(self, *, customer_id: str | None, segment: str, lifecycle: str, trigger: str, channel: str,
              conversation_id: str | None, arm: str | None = None) -> tuple[Decision, IssuedOffer | None]:
        """Decide by the rules and, when an offer is due, record and return it. A guest (no customer id)
        never gets one. Consent and history are read under a lock on the customer row, so two
        conversations of one customer cannot both be issued the same once-only offer."""
        now = self._clock()
        if not customer_id:
            return Decision(None, "guest"), None
        with _db_errors(), self._session_factory.begin() as s:
            serialise_on_sqlite(s, Customer.__table__.c.id, customer_id)
            customer = s.execute(select(Customer).where(Customer.id == customer_id).with_for_update()
                                 ).scalar_one_or_none()
            if customer is None:
                return Decision(None, "guest"), None
            consent = s.get(Consent, customer_id)
            history = tuple(PastOffer(kind=k, issued_at=t) for k, t in s.execute(
                select(Offer.kind, Offer.issued_at).where(Offer.customer_id == customer_id)))
            ctx = OfferContext(
                is_guest=False, segment=segment, lifecycle=lifecycle,
                personalization=True if consent is None else bool(consent.personalization),
                intensity="medium" if consent is None else consent.intensity,
                marketing=True if consent is None else bool(consent.marketing),
                now=now, history=history,
            )
            decision = decide(ctx, self._rules, trigger)
            if decision.kind is None:
                return decision, None
            terms = terms_for(decision.kind, self._rules, arm)
            row = Offer(
                customer_id=customer_id, kind=decision.kind,
                code=f"{CODE_PREFIX[decision.kind]}{secrets.token_hex(4).upper()}",
                amount=terms.multiplier if decision.kind == "points_boost" else terms.amount,
                issued_at=now, expires_at=now + timedelta(days=terms.valid_days), channel=channel[:16],
                reason=(segment if trigger == "contact" else "leaving")[:32],
                experiment=self._rules.experiment if arm else None, arm=arm, conversation_id=conversation_id,
            )
            s.add(row)
            s.flush()
            return decision, _issued(row, self._rules)

    def redeem(self, code: str, *, order_id: str) -> IssuedOffer:
        """Mark the offer with ``code`` redeemed by ``order_id`` (an order of the same customer).
        Refused (``OfferError.reason``): ``unknown``, ``redeemed``, ``expired``, ``not_owner``."""
        now = self._clock()
        with _db_errors(), self._session_factory.begin() as s:
            serialise_on_sqlite(s, Offer.__table__.c.code, code.strip().upper())
            row = s.execute(select(Offer).where(Offer.code == code.strip().upper()).with_for_update()
                            ).scalar_one_or_none()
            if row is None:
                raise OfferError(f"no offer {code}", "unknown")
            if row.redeemed_at is not None:
                raise OfferError(f"offer {code} already redeemed", "redeemed")
            if row.expires_at <= now:
                raise OfferError(f"offer {code} expired", "expired")
            order = s.get(Order, order_id)
            if order is None or order.customer_id != row.customer_id:
                raise OfferError(f"order {order_id} is not the offer holder's", "not_owner")
            row.redeemed_at = now
            row.redeemed_order_id = order_id
            s.flush()
            return _issued(row, self._rules)

    def made_since(self, customer_id: str, since: datetime) -> list[IssuedOffer]:
        """The customer's offers made since ``since``, newest first (the transparency report)."""
        with _db_errors(), self._session_factory.begin() as s:
            rows = s.execute(select(Offer).where(Offer.customer_id == customer_id, Offer.issued_at >= since)
                             .order_by(Offer.issued_at.desc(), Offer.id.desc())).scalars()
            return [_issued(r, self._rules) for r in rows]

    def made_this_month(self, customer_id: str) -> list[IssuedOffer]:
        """The customer's offers made since the first of this month (the transparency report's list)."""
        now = self._clock()
        return self.made_since(customer_id, datetime(now.year, now.month, 1))

    def summary(self, since: datetime | None = None) -> list[ArmSummary]:
        """Offers issued and redeemed by experiment arm and kind (the supervisors' dashboard card)."""
        redeemed = func.count(Offer.redeemed_at)
        query = select(Offer.experiment, Offer.arm, Offer.kind, func.count(Offer.id), redeemed).group_by(
            Offer.experiment, Offer.arm, Offer.kind).order_by(Offer.kind, Offer.arm)
        if since is not None:
            query = query.where(Offer.issued_at >= since)
        with _db_errors(), self._session_factory.begin() as s:
            return [ArmSummary(experiment=e, arm=a, kind=k, issued=int(n), redeemed=int(r))
                    for e, a, k, n, r in s.execute(query)]


def main(argv: list[str] | None = None, store: OfferStore | None = None) -> int:
    """``python -m profiles.offers redeem CODE ORDER_ID``: record that an order used an offer's code (what the
    shop's checkout calls when a coupon is applied). Exit 1 with the reason when refused."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m profiles.offers", description="Mark an offer redeemed by an order.")
    commands = parser.add_subparsers(dest="command", required=True)
    redeem = commands.add_parser("redeem", help="mark an offer redeemed by an order")
    redeem.add_argument("code")
    redeem.add_argument("order_id")
    args = parser.parse_args(argv)
    if store is None:
        from common.db import make_engine, make_session_factory
        from common.settings import get_settings
        settings = get_settings()
        engine = make_engine(settings.database_url)  # the schema exists (make run / make migrate)
        store = OfferStore(make_session_factory(engine), rules=load_offer_rules(settings.offers_file))
    try:
        done = store.redeem(args.code, order_id=args.order_id)
    except OfferError as exc:
        print(f"not redeemed: {exc.reason}", file=sys.stderr)
        return 1
    print(f"redeemed {done.code} ({done.kind})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
