"""Read models handed out by ``profiles.store``: frozen dataclasses, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from common.masking import mask_name

__all__ = ["ADDRESS_CHANGEABLE_STATUSES", "CustomerProfile", "OrderSnapshot"]

ADDRESS_CHANGEABLE_STATUSES = frozenset({"pending_payment", "paid", "processing"})


@dataclass(frozen=True)
class CustomerProfile:
    customer_id: str | None
    name: str | None
    tier: str
    segment: str
    lifecycle: str
    elderly: bool
    language: str
    personalization: bool
    intensity: str
    is_guest: bool
    phone_masked: str | None
    recent_order_ids: tuple[str, ...] = field(default_factory=tuple)
    accessibility: str | None = None  # a declared need: visual | hearing | motor | cognitive

    @property
    def priority_access(self) -> bool:
        """Priority human access, a service rule: VIP tier, elderly, or a declared accessibility need."""
        return not self.is_guest and (self.tier == "vip" or self.elderly or bool(self.accessibility))

    @classmethod
    def guest(cls, language: str = "zh") -> CustomerProfile:
        """An unidentified visitor: regular tier, segment and lifecycle ``guest``."""
        return cls(
            customer_id=None,
            name=None,
            tier="regular",
            segment="guest",
            lifecycle="guest",
            elderly=False,
            language=language,
            personalization=True,
            intensity="medium",
            is_guest=True,
            phone_masked=None,
            recent_order_ids=(),
        )

    def masked(self) -> dict[str, Any]:
        """What an agent may see: masked name, no order ids, no raw contact data."""
        return {
            "name": mask_name(self.name),
            "tier": self.tier,
            "segment": self.segment,
            "lifecycle": self.lifecycle,
            "elderly": self.elderly,
            "language": self.language,
            "phone_masked": self.phone_masked,
            "personalization": self.personalization,
            "accessibility": self.accessibility,
        }


@dataclass(frozen=True)
class OrderSnapshot:
    order_id: str
    customer_id: str
    status: str
    amount: float
    currency: str
    created_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    eta: date | None
    carrier: str | None
    carrier_name_zh: str | None
    carrier_name_en: str | None
    tracking_no: str | None
    address: str
    items: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def address_changeable(self) -> bool:
        """The address can still change before the parcel leaves (pending_payment, paid, processing)."""
        return self.status in ADDRESS_CHANGEABLE_STATUSES

    def carrier_name(self, language: str) -> str | None:
        """Carrier display name in ``zh`` or ``en`` (falls back to the code)."""
        name = self.carrier_name_zh if language == "zh" else self.carrier_name_en
        return name or self.carrier
