"""The customer's transparency report as readable lines, for the chat and the widget's "my data" panel.

``report_responses`` lists the domain responses of a ``profiles.transparency.TransparencyReport`` in
reading order (the action server utters them in chat); ``report_lines`` renders the same responses in
zh or en (``desk.domain_text``), so the widget's panel says exactly what the chat says. Both carry
counts and labels only (tier, segment, lifecycle, numbers of orders and contacts): never a name,
phone, address or order id. ``MyData`` reads a signed-in customer's report from the databases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from desk.conversations import ConversationLog
from desk.domain_text import render
from profiles.schemas import CustomerProfile
from profiles.segmentation import Thresholds
from profiles.store import ProfileStore
from profiles.transparency import TransparencyReport, build_report

MY_DATA_GUEST = "utter_my_data_guest"
TIER_PREFIX = "utter_my_data_tier_"
SEGMENT_PREFIX = "utter_my_data_segment_"
LIFECYCLE_PREFIX = "utter_my_data_lifecycle_"
EFFECTS_PREFIX = "utter_my_data_effects_"
LAST_ORDER = "utter_my_data_last_order"
HISTORY = "utter_my_data_history"
PRIORITY = "utter_my_data_priority"
CONTROLS = "utter_my_data_controls"
OFFER_PREFIX = "utter_my_data_offer_"


def report_responses(report: TransparencyReport) -> list[tuple[str, dict[str, object]]]:
    """The report as domain responses with their variables, in reading order."""
    if report.guest:
        return [(MY_DATA_GUEST, {})]
    out: list[tuple[str, dict[str, object]]] = [
        (f"{TIER_PREFIX}{report.tier}", {}),
        (f"{SEGMENT_PREFIX}{report.segment}", {
            "orders": report.orders_counted,
            "spend": f"{report.spend_counted:.0f}",
            "window": report.window_days,
        }),
    ]
    if report.days_since_last_order is not None:
        out.append((LAST_ORDER, {"days": report.days_since_last_order}))
    out.append((f"{LIFECYCLE_PREFIX}{report.lifecycle}", {}))
    out.append((HISTORY, {"contacts": report.contact_count}))
    out.append((f"{EFFECTS_PREFIX}{report.level}", {}))
    for kind, day in report.offers:  # the offers made this month, and why (bot/domain/offers.yml)
        out.append((f"{OFFER_PREFIX}{kind}", {"date": day}))
    if report.effects.priority_human:
        out.append((PRIORITY, {}))
    out.append((CONTROLS, {}))
    return out


def report_lines(report: TransparencyReport, language: str) -> list[str]:
    """The report in ``language`` (zh | en), one line per response, masked."""
    return [mask_text(render(name, language, **values)) for name, values in report_responses(report)]


@dataclass(frozen=True)
class MyDataPage:
    level: str  # off | low | medium | high
    lines: list[str]


class MyData:
    def __init__(self, session_factory: sessionmaker, thresholds: Thresholds,
                 clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._profiles = ProfileStore(session_factory, thresholds=thresholds, clock=clock)
        self._conversations = ConversationLog(session_factory)
        self._thresholds = thresholds

    def page(self, customer_id: str | None, language: str) -> MyDataPage:
        profile = self._profiles.get_profile(customer_id) if customer_id else None
        if profile is None:
            report = build_report(CustomerProfile.guest(language), None, self._thresholds)
        else:
            facts = self._profiles.get_facts(customer_id) if customer_id else None
            contacts = self._conversations.session_count(customer_id) if customer_id else 0
            report = build_report(profile, facts, self._thresholds, contact_count=contacts)
        return MyDataPage(level=report.level, lines=report_lines(report, language))
