"""Who the customer is: SQLAlchemy tables owned by ``profiles`` (only ``profiles`` writes them).

Contact data needed only for lookup (phone, ID number, e-mail) is stored as a salted hash plus a
masked display form (``common.masking``); the raw value is never stored.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship
from sqlalchemy.sql import true as sa_true
from sqlalchemy.sql.schema import Column

from common.db import Base


class Tier(str, enum.Enum):
    REGULAR = "regular"
    SILVER = "silver"
    GOLD = "gold"
    VIP = "vip"


class Channel(str, enum.Enum):
    WEB = "web"
    WECHAT = "wechat"
    REST = "rest"


class OrderStatus(str, enum.Enum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def address_changeable(self) -> bool:
        return self in {OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PROCESSING}


class Intensity(str, enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def _now() -> datetime:
    return datetime.utcnow()


class Customer(Base):
    __tablename__ = "customers"

    id = Column(String(16), primary_key=True)  # "C000123"
    name = Column(String(80), nullable=False)
    preferred_language = Column(String(2), nullable=False, default="zh")
    tier = Column(String(16), nullable=False, default=Tier.REGULAR.value)
    birth_year = Column(Integer, nullable=True)
    registered_at = Column(Date, nullable=False)
    phone_hash = Column(String(64), nullable=True, index=True)
    phone_masked = Column(String(20), nullable=True)
    id_number_hash = Column(String(64), nullable=True, index=True)
    id_number_masked = Column(String(24), nullable=True)
    email_hash = Column(String(64), nullable=True, index=True)
    email_masked = Column(String(80), nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)
    # a declared accessibility need (``Accessibility`` value), recorded with the customer's consent
    accessibility = Column(String(16), nullable=True)
    birthday = Column(Date, nullable=True)  # month and day drive birthday care; shown masked

    identities = relationship("ChannelIdentity", back_populates="customer", cascade="all, delete-orphan")
    orders = relationship("Order", back_populates="customer", cascade="all, delete-orphan")
    consent = relationship("Consent", uselist=False, back_populates="customer", cascade="all, delete-orphan")


class ChannelIdentity(Base):
    """(channel, external_id) → customer: a WeChat openid, a web session id or a signed-in shop user."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_channel_identity"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(16), nullable=False)
    external_id = Column(String(128), nullable=False)
    customer_id = Column(String(16), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=_now)

    customer = relationship("Customer", back_populates="identities")


class Order(Base):
    __tablename__ = "orders"

    id = Column(String(16), primary_key=True)  # "E20261120001": E + YYYYMMDD + sequence
    customer_id = Column(String(16), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    amount = Column(Numeric(12, 2, asdecimal=False), nullable=False)
    currency = Column(String(3), nullable=False, default="CNY")
    items = Column(JSON, nullable=False, default=list)  # [{"sku", "name_zh", "name_en", "qty", "price"}]
    created_at = Column(DateTime, nullable=False)
    shipped_at = Column(DateTime, nullable=True)
    delivered_at = Column(DateTime, nullable=True)
    eta = Column(Date, nullable=True)
    carrier = Column(String(16), nullable=True)  # code; display names in profiles/carriers.yml
    tracking_no = Column(String(40), nullable=True)
    address = Column(String(300), nullable=False)
    # alipay | wechat_pay | unionpay_debit | credit_card | paypal | balance (knowledge_base/payment_methods.yml)
    payment_method = Column(String(16), nullable=True)
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)

    customer = relationship("Customer", back_populates="orders")


class OrderChange(Base):
    """Append-only audit trail of changes made to an order from a conversation (cancel, item change)."""

    __tablename__ = "order_changes"

    id = Column(Integer, primary_key=True, autoincrement=True)
    order_id = Column(String(16), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id = Column(String(16), nullable=True, index=True)
    kind = Column(String(16), nullable=False)  # cancel | item_change
    status_before = Column(String(20), nullable=False)
    status_after = Column(String(20), nullable=False)
    detail = Column(JSON, nullable=False, default=dict)  # masked; e.g. {"sku", "from", "to"}
    source = Column(String(32), nullable=False)  # "chat:web", "chat:wechat", ...
    conversation_id = Column(String(128), nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)


class Consent(Base):
    """PIPL consent to personalised service; absent row = defaults (on, medium)."""

    __tablename__ = "consents"

    customer_id = Column(String(16), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    personalization = Column(Boolean, nullable=False, default=True)
    intensity = Column(String(8), nullable=False, default=Intensity.MEDIUM.value)
    marketing = Column(Boolean, nullable=False, default=True, server_default=sa_true())  # promotional messages
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)
    source = Column(String(32), nullable=True)  # "chat:web", "chat:wechat", "seed", ...

    customer = relationship("Customer", back_populates="consent")


class ConsentChange(Base):
    """Append-only record of every consent change (who, when, through which channel)."""

    __tablename__ = "consent_changes"

    id = Column(Integer, primary_key=True, autoincrement=True)
    customer_id = Column(String(16), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    personalization = Column(Boolean, nullable=False)
    marketing = Column(Boolean, nullable=True)  # set when the change is about promotional messages
    intensity = Column(String(8), nullable=True)  # set when the change is about personalisation intensity
    # set when the customer agreed to keep a declared accessibility need ("none" when they removed it)
    accessibility = Column(String(16), nullable=True)
    source = Column(String(32), nullable=False)
    conversation_id = Column(String(128), nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)


class Accessibility(str, enum.Enum):
    VISUAL = "visual"
    HEARING = "hearing"
    MOTOR = "motor"
    COGNITIVE = "cognitive"


class Offer(Base):
    """An offer made to a customer (a coupon, a privilege, a hint): a record, never free text.

    ``kind`` names the rule in ``profiles/offers.yml`` (``welcome_back``, ``retention``, ``points_boost``,
    ``referral``); ``code`` is the coupon code the customer quotes; ``arm`` is the experiment arm
    the amount came from. Redemption is recorded with the order that used the code.
    """

    __tablename__ = "offers"

    id = Column(Integer, primary_key=True, autoincrement=True)
    customer_id = Column(String(16), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(24), nullable=False)
    code = Column(String(24), nullable=False, unique=True)
    amount = Column(Numeric(10, 2, asdecimal=False), nullable=True)  # CNY off, or a points multiplier
    issued_at = Column(DateTime, nullable=False, default=_now)
    expires_at = Column(DateTime, nullable=False)
    redeemed_at = Column(DateTime, nullable=True)
    redeemed_order_id = Column(String(16), nullable=True)
    channel = Column(String(16), nullable=False)
    reason = Column(String(32), nullable=False)  # segment / lifecycle / intent that triggered it
    experiment = Column(String(48), nullable=True)
    arm = Column(String(24), nullable=True)
    conversation_id = Column(String(128), nullable=True)


class CustomerVault(Base):
    """Raw phone and ID number, sealed (Fernet, key from ``PII_VAULT_KEY``; ``profiles.vault``).

    Kept apart from ``customers`` so lookups never touch it: only a supervisor's audited reveal in the
    console opens it. The name is not sealed: ``customers.name`` already holds it (masked on display).
    """

    __tablename__ = "customer_vault"

    customer_id = Column(String(16), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    phone_sealed = Column(String(255), nullable=True)
    id_number_sealed = Column(String(255), nullable=True)
    created_at = Column(DateTime, nullable=False, default=_now)


__all__ = [
    "Accessibility",
    "Channel",
    "ChannelIdentity",
    "Consent",
    "ConsentChange",
    "Customer",
    "CustomerVault",
    "Intensity",
    "Offer",
    "Order",
    "OrderChange",
    "OrderStatus",
    "Tier",
    "date",
]
