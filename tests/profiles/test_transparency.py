"""The transparency report and the personalisation levels: every rule of ``profiles.transparency``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from profiles.schemas import CustomerProfile
from profiles.segmentation import CustomerFacts, Thresholds
from profiles.transparency import Effects, build_report, effects, level_of, offers_allowed

TODAY = date(2026, 11, 20)


def _profile(**changes: object) -> CustomerProfile:
    base = CustomerProfile(
        customer_id="C000009", name="测试", tier="gold", segment="potential", lifecycle="growing", elderly=False,
        language="zh", personalization=True, intensity="medium", is_guest=False, phone_masked="138****0000",
        recent_order_ids=("E20261119001",),
    )
    return replace(base, **changes)


def _facts(**changes: object) -> CustomerFacts:
    base = CustomerFacts(registered_at=date(2025, 1, 1), today=TODAY, last_order_at=date(2026, 11, 10),
                         orders_365d=3, monetary_365d=1234.567, tier="gold")
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("personalization", "intensity", "level"),
    [(False, "high", "off"), (False, "low", "off"), (True, "low", "low"), (True, "medium", "medium"),
     (True, "high", "high"), (True, None, "medium"), (True, "bogus", "medium")],
)
def test_level_of(personalization, intensity, level):
    assert level_of(personalization, intensity) == level


@pytest.mark.parametrize(
    ("personalization", "intensity", "guest", "allowed"),
    [(True, "high", False, True), (True, "medium", False, False), (True, "low", False, False),
     (False, "high", False, False), (True, "high", True, False)],
)
def test_offers_only_at_high_for_signed_in_customers(personalization, intensity, guest, allowed):
    assert offers_allowed(personalization, intensity, is_guest=guest) is allowed


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, Effects(greet_by_name=True, profile_tone=True, offers=False, priority_human=False)),
        ({"intensity": "high"}, Effects(greet_by_name=True, profile_tone=True, offers=True, priority_human=False)),
        ({"intensity": "low"}, Effects(greet_by_name=False, profile_tone=False, offers=False, priority_human=False)),
        ({"personalization": False, "intensity": "high"},
         Effects(greet_by_name=False, profile_tone=False, offers=False, priority_human=False)),
        ({"name": None}, Effects(greet_by_name=False, profile_tone=True, offers=False, priority_human=False)),
        # priority to a person is a service rule: it stays at low and off
        ({"tier": "vip", "intensity": "low"},
         Effects(greet_by_name=False, profile_tone=False, offers=False, priority_human=True)),
        ({"elderly": True, "personalization": False},
         Effects(greet_by_name=False, profile_tone=False, offers=False, priority_human=True)),
    ],
    ids=["medium", "high", "low", "off", "no-name", "vip-low", "elderly-off"],
)
def test_effects(changes, expected):
    assert effects(_profile(**changes)) == expected


def test_guest_gets_nothing_personal():
    guest = CustomerProfile.guest("en")
    report = build_report(guest, None, Thresholds())
    assert report.guest is True
    assert report.effects == Effects(greet_by_name=False, profile_tone=False, offers=False, priority_human=False)
    assert (report.tier, report.segment, report.orders_counted, report.contact_count) == (None, None, 0, 0)
    assert report.reads_sentiment is True


def test_signed_in_report_carries_the_numbers_behind_the_segment():
    report = build_report(_profile(), _facts(), Thresholds(rfm_window_days=180), contact_count=4)
    assert report.guest is False
    assert (report.tier, report.segment, report.lifecycle, report.level) == ("gold", "potential", "growing", "medium")
    assert (report.orders_counted, report.spend_counted, report.days_since_last_order) == (3, 1234.57, 10)
    assert report.window_days == 180 and report.contact_count == 4 and report.reads_sentiment is True


def test_report_without_orders_has_no_last_order_and_never_a_negative_contact_count():
    report = build_report(_profile(segment="regular"), _facts(last_order_at=None, orders_365d=0, monetary_365d=0.0),
                          Thresholds(), contact_count=-1)
    assert report.days_since_last_order is None and report.orders_counted == 0 and report.contact_count == 0


def test_profile_without_facts_is_reported_as_a_guest():
    assert build_report(_profile(), None, Thresholds()).guest is True


def test_report_reveals_no_personal_data():
    profile = _profile(intensity="high")
    report = build_report(profile, _facts(), Thresholds(), contact_count=2)
    values = [str(v) for v in vars(report).values()]
    for secret in (profile.name, profile.phone_masked, profile.customer_id, *profile.recent_order_ids):
        assert all(secret not in v for v in values)


@pytest.mark.parametrize("intensity", ["low", "medium", "high"])
def test_a_declared_accessibility_need_gives_priority_whatever_the_intensity(intensity):
    assert effects(_profile(accessibility="visual", intensity=intensity)).priority_human
    assert not effects(_profile(intensity=intensity)).priority_human
    assert not effects(replace(CustomerProfile.guest(), accessibility="visual")).priority_human


def test_report_carries_the_offers_made_this_month():
    report = build_report(_profile(intensity="high"), _facts(), Thresholds(),
                          offers=(("retention", "2026-11-18"),))
    assert report.offers == (("retention", "2026-11-18"),)
    assert build_report(CustomerProfile.guest(), None, Thresholds(), offers=(("retention", "x"),)).offers == ()
