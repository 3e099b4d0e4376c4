"""Offer rules (pure, every rule) and the offer store (real SQLite with the demo seed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from profiles.offers import (
    OFFERS_FILE,
    OfferContext,
    OfferError,
    OfferRules,
    OfferStore,
    PastOffer,
    decide,
    load_offer_rules,
    onboarding_hint,
    privileges,
    terms_for,
)

NOW = datetime(2026, 11, 20, 12, 0)
RULES = OfferRules()


def ctx(**kw: object) -> OfferContext:
    base = OfferContext(is_guest=False, segment="at_risk", lifecycle="dormant", personalization=True,
                        intensity="high", now=NOW)
    return replace(base, **kw)  # type: ignore[arg-type]


def past(kind: str, days_ago: int) -> PastOffer:
    return PastOffer(kind=kind, issued_at=NOW - timedelta(days=days_ago))


# ------------------------------------------------------------------------------ the shipped file


def test_shipped_file_equals_the_defaults_and_runs_an_amount_experiment() -> None:
    rules = load_offer_rules(OFFERS_FILE)
    assert rules.terms == RULES.terms
    assert (rules.retention_every_days, rules.boost_every_days, rules.levels) == (90, 90, ("high",))
    assert rules.privileges == {"important_value": ("priority_human", "free_returns")}
    assert rules.experiment == "offer-amount-2026"
    assert terms_for("welcome_back", rules, "generous").amount == 30
    assert terms_for("welcome_back", rules, "standard").amount == 20
    assert terms_for("points_boost", rules, "generous").multiplier == 2  # no amount in the arm: unchanged


@pytest.mark.parametrize("text, message", [
    ("offers: {gift: {amount: 5}}", "unknown offer kind"),
    ("offers: {retention: {amount: -1}}", "non-negative"),
    ("limits: {levels: [low, high]}", "must not include"),
    ("offers: {welcome_back: {segments: at_risk}}", "list of names"),
])
def test_bad_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "offers.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OfferError, match=message):
        load_offer_rules(path)


def test_one_arm_is_no_experiment(tmp_path: Path) -> None:
    path = tmp_path / "offers.yml"
    path.write_text("experiment: {name: x, arms: {a: {retention: 10}}}", encoding="utf-8")
    rules = load_offer_rules(path)
    assert rules.experiment is None and rules.arms == {}


# ------------------------------------------------------------------------------ who never gets one


def test_no_offer_for_a_guest() -> None:
    assert decide(ctx(is_guest=True), RULES, "contact").why_not == "guest"
    assert decide(ctx(is_guest=True), RULES, "leaving").why_not == "guest"


def test_no_offer_without_consent() -> None:
    assert decide(ctx(personalization=False), RULES, "contact").why_not == "consent"
    assert decide(ctx(marketing=False), RULES, "leaving").why_not == "consent"


@pytest.mark.parametrize("intensity", ["low", "medium"])
def test_no_offer_below_high_intensity(intensity: str) -> None:
    assert decide(ctx(intensity=intensity), RULES, "contact") .why_not == "level"
    assert decide(ctx(intensity=intensity), RULES, "leaving").why_not == "level"


def test_medium_allowed_when_the_file_says_so() -> None:
    rules = replace(RULES, levels=("medium", "high"))
    assert decide(ctx(intensity="medium"), rules, "contact").kind == "welcome_back"
    assert decide(ctx(intensity="low"), rules, "contact").kind is None


# ------------------------------------------------------------------------------ welcome back


@pytest.mark.parametrize("segment, lifecycle", [("at_risk", "dormant"), ("at_risk", "growing"),
                                                ("regular", "dormant"), ("regular", "churned")])
def test_welcome_back_for_at_risk_or_dormant(segment: str, lifecycle: str) -> None:
    assert decide(ctx(segment=segment, lifecycle=lifecycle), RULES, "contact").kind == "welcome_back"


def test_welcome_back_only_once_ever() -> None:
    decision = decide(ctx(history=(past("welcome_back", 400),)), RULES, "contact")
    assert decision.kind is None and decision.why_not == "once"


def test_welcome_back_waits_for_the_retention_limit() -> None:
    assert decide(ctx(history=(past("retention", 89),)), RULES, "contact").why_not == "limit"
    assert decide(ctx(history=(past("retention", 90),)), RULES, "contact").kind == "welcome_back"


def test_active_customers_get_no_welcome_back() -> None:
    assert decide(ctx(segment="regular", lifecycle="growing"), RULES, "contact") == decide(
        ctx(segment="regular", lifecycle="growing"), RULES, "contact")
    assert decide(ctx(segment="regular", lifecycle="growing"), RULES, "contact").why_not == "not_eligible"
    assert decide(ctx(segment="important_value", lifecycle="mature"), RULES, "contact").kind is None
    assert decide(ctx(segment="new", lifecycle="new"), RULES, "contact").kind is None


# ------------------------------------------------------------------------------ leaving


def test_leaving_gets_a_retention_offer_once_per_90_days() -> None:
    assert decide(ctx(segment="regular", lifecycle="growing"), RULES, "leaving").kind == "retention"
    assert decide(ctx(history=(past("retention", 30),)), RULES, "leaving").why_not == "limit"
    assert decide(ctx(history=(past("welcome_back", 10),)), RULES, "leaving").why_not == "limit"
    assert decide(ctx(history=(past("retention", 91),)), RULES, "leaving").kind == "retention"
    assert decide(ctx(history=(past("points_boost", 1),)), RULES, "leaving").kind == "retention"


def test_unknown_trigger_is_an_error() -> None:
    with pytest.raises(ValueError):
        decide(ctx(), RULES, "birthday")


# ------------------------------------------------------------------------------ potential, privileges, new


def test_potential_gets_a_points_boost_once_per_90_days() -> None:
    c = ctx(segment="potential", lifecycle="growing")
    assert decide(c, RULES, "contact").kind == "points_boost"
    assert decide(replace(c, history=(past("points_boost", 10),)), RULES, "contact").why_not == "limit"
    assert decide(replace(c, history=(past("points_boost", 95),)), RULES, "contact").kind == "points_boost"
    assert decide(replace(c, intensity="medium"), RULES, "contact").kind is None


def test_privileges_of_important_value_whatever_the_intensity() -> None:
    assert privileges("important_value", RULES) == ("priority_human", "free_returns")
    assert privileges("potential", RULES) == ()
    assert privileges("important_value", RULES, is_guest=True) == ()
    assert privileges(None, RULES) == ()


def test_onboarding_hint_on_a_new_customers_first_contact() -> None:
    new = ctx(segment="new", lifecycle="new", intensity="medium")
    assert onboarding_hint(new, RULES, first_contact=True)
    assert not onboarding_hint(new, RULES, first_contact=False)
    assert not onboarding_hint(replace(new, intensity="low"), RULES, first_contact=True)
    assert not onboarding_hint(replace(new, personalization=False), RULES, first_contact=True)
    assert not onboarding_hint(replace(new, is_guest=True), RULES, first_contact=True)
    assert not onboarding_hint(replace(new, lifecycle="growing"), RULES, first_contact=True)


# ------------------------------------------------------------------------------ the store


@pytest.fixture
def offers(seeded, movable_clock) -> OfferStore:  # type: ignore[no-untyped-def]
    return OfferStore(seeded, rules=load_offer_rules(), clock=movable_clock)


def test_store_issues_once_and_records_every_field(offers: OfferStore, movable_clock) -> None:  # type: ignore[no-untyped-def]
    decision, issued = offers.offer(customer_id="C000001", segment="at_risk", lifecycle="dormant",
                                    trigger="contact", channel="web", conversation_id="web-C000001", arm="generous")
    assert decision.kind == "welcome_back" and issued is not None
    assert issued.code.startswith("WB") and issued.amount == 30 and issued.min_spend == 99
    assert issued.expires_at - issued.issued_at == timedelta(days=30)
    assert (issued.channel, issued.reason, issued.arm) == ("web", "at_risk", "generous")
    again, none = offers.offer(customer_id="C000001", segment="at_risk", lifecycle="dormant",
                               trigger="contact", channel="web", conversation_id="web-C000001", arm="generous")
    assert none is None and again.why_not == "once"
    movable_clock.advance(days=200)
    later, none = offers.offer(customer_id="C000001", segment="at_risk", lifecycle="dormant",
                               trigger="contact", channel="web", conversation_id="x", arm=None)
    assert none is None and later.why_not == "once"
    assert [o.kind for o in offers.made_since("C000001", movable_clock() - timedelta(days=365))] == ["welcome_back"]


def test_store_reads_consent_and_intensity(offers: OfferStore) -> None:
    # C000006 withdrew consent; C000005 keeps the default medium intensity
    for customer in ("C000006", "C000005"):
        decision, issued = offers.offer(customer_id=customer, segment="regular", lifecycle="growing",
                                        trigger="leaving", channel="web", conversation_id=None)
        assert issued is None and decision.why_not in ("consent", "level")
    decision, issued = offers.offer(customer_id=None, segment="guest", lifecycle="guest", trigger="leaving",
                                    channel="rest", conversation_id=None)
    assert issued is None and decision.why_not == "guest"


def test_redeem_marks_the_offer_and_refuses_the_rest(offers: OfferStore, movable_clock, seeded) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from profiles.models import Order

    _, issued = offers.offer(customer_id="C000001", segment="regular", lifecycle="growing", trigger="leaving",
                             channel="wechat", conversation_id=None, arm="standard")
    assert issued is not None and issued.amount == 30 and issued.reason == "leaving"
    with seeded.begin() as s:
        own = s.execute(select(Order.id).where(Order.customer_id == "C000001")).scalars().first()
        other = s.execute(select(Order.id).where(Order.customer_id == "C000002")).scalars().first()
    with pytest.raises(OfferError) as refused:
        offers.redeem(issued.code, order_id=other)
    assert refused.value.reason == "not_owner"
    with pytest.raises(OfferError) as unknown:
        offers.redeem("NOPE", order_id=own)
    assert unknown.value.reason == "unknown"
    done = offers.redeem(issued.code.lower(), order_id=own)
    assert done.redeemed_at == movable_clock()
    with pytest.raises(OfferError) as twice:
        offers.redeem(issued.code, order_id=own)
    assert twice.value.reason == "redeemed"
    summary = offers.summary()
    row = next(r for r in summary if r.kind == "retention" and r.arm == "standard")
    assert (row.issued, row.redeemed, row.rate) == (1, 1, 1.0)


def test_expired_offers_cannot_be_redeemed(offers: OfferStore, movable_clock, seeded) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from profiles.models import Order

    _, issued = offers.offer(customer_id="C000001", segment="regular", lifecycle="growing", trigger="leaving",
                             channel="web", conversation_id=None)
    assert issued is not None
    movable_clock.advance(days=15)
    with seeded.begin() as s:
        own = s.execute(select(Order.id).where(Order.customer_id == "C000001")).scalars().first()
    with pytest.raises(OfferError) as expired:
        offers.redeem(issued.code, order_id=own)
    assert expired.value.reason == "expired"
