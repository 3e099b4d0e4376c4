"""Customer profiles, orders, consent and channel identities, read and written through one store.

Every public method opens one short session/transaction. Results are frozen dataclasses
(``profiles.schemas``), never ORM rows.

Exceptions:

- ``ProfileError``       base class of the business errors below.
- ``OrderNotFound``      no order with that number (``change_address``).
- ``NotOrderOwner``      the order belongs to another customer (checked before the status, so the
                         status of someone else's order is never revealed).
- ``AddressLocked``      the order has left the warehouse; ``.status`` holds its status.
- ``CustomerNotFound``   ``set_personalization`` / ``link_identity`` for an unknown customer.
- ``InvalidAddress``     the new address is empty or longer than 300 characters (also a ``ValueError``).
- ``common.db.StoreUnavailable``  the database could not be reached or refused the operation
                         (SQLAlchemy ``OperationalError`` / ``DBAPIError`` re-raised).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from common.db import StoreUnavailable
from common.masking import mask_text
from profiles.models import Accessibility, ChannelIdentity, Consent, ConsentChange, Customer, Intensity, Order
from profiles.schemas import ADDRESS_CHANGEABLE_STATUSES, CustomerProfile, OrderSnapshot
from profiles.segmentation import (
    CustomerFacts,
    Thresholds,
    assign_lifecycle,
    assign_segment,
    facts_from_orders,
    is_elderly,
)

__all__ = [
    "CARRIERS_FILE",
    "AddressLocked",
    "CustomerNotFound",
    "InvalidAddress",
    "NotOrderOwner",
    "OrderNotFound",
    "ProfileError",
    "ProfileStore",
    "load_carriers",
    "normalize_order_id",
]

CARRIERS_FILE = Path(__file__).resolve().parent / "carriers.yml"
# the public ``rest`` channel never falls back to ``web``: its callers are guests (common.ids, issue 11)
WEB_FALLBACK_CHANNELS = frozenset({"socketio"})
MAX_ADDRESS_LEN = 300



def serialise_on_sqlite(s: Session, column: Any, value: Any) -> None:
    """SQLite ignores ``FOR UPDATE``: a no-op update of the rows where ``column == value``, first in the
    transaction, takes the database's write lock, so a second transaction of the same kind waits here and
    then reads what the first one wrote (PostgreSQL's row lock does this through ``with_for_update``)."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(update(column.table).where(column == value).values({column.name: column}))


def locked_order(s: Session, order_id: str) -> Order | None:
    """The order, locked until the transaction ends (on PostgreSQL and on the embedded SQLite alike)."""
    serialise_on_sqlite(s, Order.__table__.c.id, order_id)
    return s.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one_or_none()

class ProfileError(Exception):
    """Base class of the profile store's business errors."""


class OrderNotFound(ProfileError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id


class NotOrderOwner(ProfileError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} belongs to another customer")
        self.order_id = order_id


class AddressLocked(ProfileError):
    def __init__(self, status: str) -> None:
        super().__init__(f"address can no longer be changed (order status {status})")
        self.status = status


class CustomerNotFound(ProfileError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id} not found")
        self.customer_id = customer_id


class InvalidAddress(ProfileError, ValueError):
    """The new address is empty or too long."""


_ORDER_ID_RE = re.compile(r"(?<![0-9A-Za-z])[Ee]([0-9]{11})(?![0-9])|(?<![0-9])(20[0-9]{9})(?![0-9])")


def normalize_order_id(text: str | None) -> str | None:
    """First order number in ``text`` as ``E`` + 11 digits (``'订单号：20261120001'`` -> ``'E20261120001'``)."""
    if not text:
        return None
    m = _ORDER_ID_RE.search(unicodedata.normalize("NFKC", text))
    if m is None:
        return None
    return "E" + (m.group(1) or m.group(2))


def load_carriers(path: str | Path = CARRIERS_FILE) -> dict[str, dict[str, str]]:
    """``carriers.yml`` as ``{code: {"zh": ..., "en": ...}}``."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {str(code): {"zh": str(v.get("zh", code)), "en": str(v.get("en", code))} for code, v in raw.items()}


@contextmanager
def _db_errors() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:  # OperationalError is a DBAPIError
        raise StoreUnavailable(f"profile store unavailable ({type(exc).__name__})") from exc


class ProfileStore:
    """Profiles, orders, consent and identities on top of a SQLAlchemy ``sessionmaker``."""

    def __init__(
        self,
        session_factory: sessionmaker,
        *,
        thresholds: Thresholds,
        carriers: Mapping[str, Mapping[str, str]] | None = None,
        clock: Callable[[], datetime] = datetime.utcnow,
    ) -> None:
        self._session_factory = session_factory
        self._thresholds = thresholds
        self._carriers = dict(carriers) if carriers is not None else load_carriers()
        self._clock = clock

    # -- reads ---------------------------------------------------------------------------------

    def resolve(self, channel: str, external_id: str) -> CustomerProfile:
        """Profile for a channel identity; ``socketio`` also tries ``web``; unknown -> guest."""
        channels = [channel] + (["web"] if channel in WEB_FALLBACK_CHANNELS else [])
        with _db_errors(), self._session_factory.begin() as s:
            for ch in channels:
                customer_id = s.execute(
                    select(ChannelIdentity.customer_id).where(
                        ChannelIdentity.channel == ch, ChannelIdentity.external_id == external_id
                    )
                ).scalar_one_or_none()
                if customer_id is not None:
                    profile = self._profile(s, customer_id)
                    if profile is not None:
                        return profile
        return CustomerProfile.guest()

    def get_profile(self, customer_id: str) -> CustomerProfile | None:
        """Profile by customer id, ``None`` when unknown."""
        with _db_errors(), self._session_factory.begin() as s:
            return self._profile(s, customer_id)

    @property
    def thresholds(self) -> Thresholds:
        """The segmentation thresholds this store's profiles are computed with."""
        return self._thresholds

    def get_facts(self, customer_id: str) -> CustomerFacts | None:
        """The RFM facts the segment and lifecycle are computed from, ``None`` when unknown."""
        with _db_errors(), self._session_factory.begin() as s:
            customer = s.get(Customer, customer_id)
            return None if customer is None else self._facts(s, customer)[0]

    def get_order(self, order_id: str) -> OrderSnapshot | None:
        """Order by number in any accepted spelling (``e20261120001``, ``20261120001``...)."""
        normalized = normalize_order_id(order_id)
        if normalized is None:
            return None
        with _db_errors(), self._session_factory.begin() as s:
            order = s.get(Order, normalized)
            return None if order is None else self._snapshot(order)

    def recent_orders(self, customer_id: str, limit: int = 3) -> list[OrderSnapshot]:
        """The customer's newest orders first."""
        with _db_errors(), self._session_factory.begin() as s:
            rows = s.execute(
                select(Order)
                .where(Order.customer_id == customer_id)
                .order_by(Order.created_at.desc(), Order.id.desc())
                .limit(limit)
            ).scalars()
            return [self._snapshot(o) for o in rows]

    # -- writes --------------------------------------------------------------------------------

    def change_address(self, *, order_id: str, customer_id: str, new_address: str) -> OrderSnapshot:
        """Change the delivery address of the customer's own order while it is still changeable.

        Personal data typed into the address (a phone, an ID number) is masked before it is stored.
        """
        address = " ".join((new_address or "").split())
        if not address:
            raise InvalidAddress("the new address is empty")
        address = mask_text(address)
        if len(address) > MAX_ADDRESS_LEN:
            raise InvalidAddress(f"the new address is longer than {MAX_ADDRESS_LEN} characters")
        normalized = normalize_order_id(order_id)
        if normalized is None:
            raise OrderNotFound(str(order_id))
        with _db_errors(), self._session_factory.begin() as s:
            order = locked_order(s, normalized)
            if order is None:
                raise OrderNotFound(normalized)
            if order.customer_id != customer_id:
                raise NotOrderOwner(normalized)
            if order.status not in ADDRESS_CHANGEABLE_STATUSES:
                raise AddressLocked(order.status)
            order.address = address
            order.updated_at = self._clock()
            s.flush()
            return self._snapshot(order)

    def set_personalization(
        self, *, customer_id: str, enabled: bool, source: str, conversation_id: str | None
    ) -> None:
        """Record the PIPL consent choice (upsert ``Consent``) and append a ``ConsentChange``."""
        self._record_consent(customer_id, {"personalization": enabled}, source, conversation_id)

    def set_intensity(
        self, *, customer_id: str, intensity: str, source: str, conversation_id: str | None
    ) -> None:
        """Record the customer's personalisation intensity (``low`` / ``medium`` / ``high``): choosing one
        also means personalisation is on. Upserts ``Consent`` and appends a ``ConsentChange``."""
        if intensity not in {i.value for i in Intensity}:
            raise ValueError(f"unknown intensity {intensity!r}")
        self._record_consent(customer_id, {"personalization": True, "intensity": intensity}, source,
                             conversation_id)

    def _record_consent(self, customer_id: str, choice: dict[str, Any], source: str,
                        conversation_id: str | None) -> None:
        """Upsert ``Consent`` with ``choice`` and append it as a ``ConsentChange``. Two first choices at
        once (a double tap; the widget and WeChat) both insert the consent row: the later meets its
        primary key and is recorded again as an update, so neither choice nor its change is lost."""
        now = self._clock()
        source = source[:32]
        for attempt in range(2):
            try:
                with _db_errors_except_integrity(), self._session_factory.begin() as s:
                    if s.get(Customer, customer_id) is None:
                        raise CustomerNotFound(customer_id)
                    consent = s.get(Consent, customer_id, with_for_update=True)
                    if consent is None:
                        s.add(Consent(customer_id=customer_id, source=source, updated_at=now, **choice))
                    else:
                        for field, value in choice.items():
                            setattr(consent, field, value)
                        consent.source = source
                        consent.updated_at = now
                    s.add(ConsentChange(customer_id=customer_id, source=source, conversation_id=conversation_id,
                                        created_at=now, **choice))
                return
            except IntegrityError as exc:  # the other first choice inserted the row: ours becomes an update
                if attempt:
                    raise StoreUnavailable("profile store unavailable (IntegrityError)") from exc

    def set_accessibility(
        self, *, customer_id: str, need: str | None, source: str, conversation_id: str | None
    ) -> None:
        """Record (or, with ``None``, remove) the accessibility need the customer declared and agreed to
        keep; the agreement is appended as a ``ConsentChange`` (health-related data needs consent)."""
        if need is not None and need not in {a.value for a in Accessibility}:
            raise ValueError(f"unknown accessibility need {need!r}")
        now = self._clock()
        with _db_errors(), self._session_factory.begin() as s:
            customer = s.get(Customer, customer_id, with_for_update=True)
            if customer is None:
                raise CustomerNotFound(customer_id)
            customer.accessibility = need
            consent = s.get(Consent, customer_id)
            s.add(
                ConsentChange(
                    customer_id=customer_id,
                    personalization=True if consent is None else bool(consent.personalization),
                    accessibility=need or "none",
                    source=source[:32],
                    conversation_id=conversation_id,
                    created_at=now,
                )
            )

    def link_identity(self, *, channel: str, external_id: str, customer_id: str) -> None:
        """Point ``(channel, external_id)`` at ``customer_id``; an existing link is moved (last sign-in wins)."""
        for attempt in range(2):
            try:
                with _db_errors_except_integrity(), self._session_factory.begin() as s:
                    if s.get(Customer, customer_id) is None:
                        raise CustomerNotFound(customer_id)
                    identity = s.execute(
                        select(ChannelIdentity).where(
                            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
                        )
                    ).scalar_one_or_none()
                    if identity is None:
                        s.add(
                            ChannelIdentity(
                                channel=channel,
                                external_id=external_id,
                                customer_id=customer_id,
                                created_at=self._clock(),
                            )
                        )
                    elif identity.customer_id != customer_id:
                        identity.customer_id = customer_id
                return
            except IntegrityError as exc:  # a concurrent insert of the same identity: retry as an update
                if attempt:
                    raise StoreUnavailable("profile store unavailable (IntegrityError)") from exc

    # -- helpers -------------------------------------------------------------------------------

    def _profile(self, s: Session, customer_id: str) -> CustomerProfile | None:
        customer = s.get(Customer, customer_id)
        if customer is None:
            return None
        facts, orders = self._facts(s, customer)
        today = facts.today
        consent = s.get(Consent, customer_id)
        return CustomerProfile(
            customer_id=customer.id,
            name=customer.name,
            tier=customer.tier,
            segment=assign_segment(facts, self._thresholds),
            lifecycle=assign_lifecycle(facts, self._thresholds),
            elderly=is_elderly(customer.birth_year, today, self._thresholds),
            language=customer.preferred_language,
            personalization=True if consent is None else bool(consent.personalization),
            intensity="medium" if consent is None else consent.intensity,
            is_guest=False,
            phone_masked=customer.phone_masked,
            recent_order_ids=tuple(o.id for o in orders[:3]),
            accessibility=customer.accessibility,
        )

    def _facts(self, s: Session, customer: Customer) -> tuple[CustomerFacts, list[Any]]:
        customer_id = customer.id
        today = self._clock().date()
        orders = s.execute(
            select(Order.id, Order.created_at, Order.amount, Order.status)
            .where(Order.customer_id == customer_id)
            .order_by(Order.created_at.desc(), Order.id.desc())
        ).all()
        facts = facts_from_orders(
            registered_at=customer.registered_at,
            today=today,
            orders=[(o.created_at, o.amount, o.status) for o in orders],
            tier=customer.tier,
            birth_year=customer.birth_year,
            window_days=self._thresholds.rfm_window_days,
        )
        return facts, list(orders)

    def _snapshot(self, order: Order) -> OrderSnapshot:
        names: Mapping[str, Any] = self._carriers.get(order.carrier or "", {})
        return OrderSnapshot(
            order_id=order.id,
            customer_id=order.customer_id,
            status=order.status,
            amount=float(order.amount),
            currency=order.currency,
            created_at=order.created_at,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
            eta=order.eta,
            carrier=order.carrier,
            carrier_name_zh=names.get("zh") if order.carrier else None,
            carrier_name_en=names.get("en") if order.carrier else None,
            tracking_no=order.tracking_no,
            address=order.address,
            items=tuple(dict(i) for i in (order.items or ())),
        )


@contextmanager
def _db_errors_except_integrity() -> Iterator[None]:
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as exc:
        raise StoreUnavailable(f"profile store unavailable ({type(exc).__name__})") from exc
