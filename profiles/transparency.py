"""What personalisation does for a customer, and why: pure functions over profile × consent × intensity × history.

``effects`` says what the customer's choice allows:

* personalisation ``off`` (consent withdrawn): nothing profile-based — no greeting by name, no offers,
  no profile-based tone.
* ``low``: the same as off for name, offers and profile-based tone (only the elder-friendly tone, an
  accessibility choice, stays).
* ``medium`` (the default): greeting by name and the profile-based tone; no offers.
* ``high``: as medium, and offers are allowed (still within the offer limits).

Priority access to a person (VIP tier, elderly, or a declared accessibility need) is a service rule, not personalisation: it stays
whatever the intensity.

``build_report`` assembles, for a signed-in customer, the data used (tier, segment and the RFM numbers
behind it, lifecycle stage, orders counted, contact history count, that message sentiment is read), what
it changes (``effects``), the offers made this month (kind and day; the wording gives each kind's basis)
and the current choice. It carries counts and labels only: never a name, phone,
address or order id.
"""

from __future__ import annotations

from dataclasses import dataclass

from profiles.schemas import CustomerProfile
from profiles.segmentation import CustomerFacts, Thresholds

__all__ = [
    "INTENSITY_LEVELS",
    "Effects",
    "TransparencyReport",
    "build_report",
    "effects",
    "level_of",
    "offers_allowed",
]

# the customer's choice as one word: "off" is consent withdrawn, the others are Consent.intensity values
INTENSITY_LEVELS = ("off", "low", "medium", "high")


@dataclass(frozen=True)
class Effects:
    greet_by_name: bool
    profile_tone: bool
    offers: bool
    priority_human: bool


@dataclass(frozen=True)
class TransparencyReport:
    guest: bool
    level: str
    effects: Effects
    tier: str | None = None
    segment: str | None = None
    lifecycle: str | None = None
    orders_counted: int = 0
    spend_counted: float = 0.0
    days_since_last_order: int | None = None
    window_days: int = 365
    contact_count: int = 0
    reads_sentiment: bool = True
    # offers made this month: (kind, day issued), newest first; their basis is said per kind
    offers: tuple[tuple[str, str], ...] = ()


def level_of(personalization: bool, intensity: str | None) -> str:
    """The customer's choice as one level: ``off`` when consent is withdrawn, else the intensity
    (``medium`` when unknown)."""
    if not personalization:
        return "off"
    return intensity if intensity in ("low", "medium", "high") else "medium"


def offers_allowed(personalization: bool, intensity: str | None, *, is_guest: bool) -> bool:
    """Offers only for a signed-in customer who chose ``high``."""
    return not is_guest and level_of(personalization, intensity) == "high"


def effects(profile: CustomerProfile) -> Effects:
    """What the customer's personalisation level changes for them (rules in the module docstring)."""
    level = level_of(profile.personalization, profile.intensity)
    personal = not profile.is_guest and level in ("medium", "high")
    return Effects(
        greet_by_name=personal and bool(profile.name),
        profile_tone=personal,
        offers=offers_allowed(profile.personalization, profile.intensity, is_guest=profile.is_guest),
        priority_human=profile.priority_access,
    )


def build_report(
    profile: CustomerProfile,
    facts: CustomerFacts | None,
    thresholds: Thresholds,
    *,
    contact_count: int = 0,
    offers: tuple[tuple[str, str], ...] = (),
) -> TransparencyReport:
    """The transparency report for ``profile``; a guest's report says only that nothing personal is used."""
    level = level_of(profile.personalization, profile.intensity)
    if profile.is_guest or facts is None:
        return TransparencyReport(guest=True, level=level, effects=effects(CustomerProfile.guest(profile.language)),
                                  reads_sentiment=True)
    days = None if facts.last_order_at is None else (facts.today - facts.last_order_at).days
    return TransparencyReport(
        guest=False,
        level=level,
        effects=effects(profile),
        tier=profile.tier,
        segment=profile.segment,
        lifecycle=profile.lifecycle,
        orders_counted=facts.orders_365d,
        spend_counted=round(facts.monetary_365d, 2),
        days_since_last_order=days,
        window_days=thresholds.rfm_window_days,
        contact_count=max(0, int(contact_count)),
        reads_sentiment=True,
        offers=tuple(offers),
    )
