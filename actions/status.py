"""Where the customer's tickets stand, an order's open refund answered from its ticket, and the reply
language the customer chose.

- ``action_ticket_status`` ("my ticket", "我的工单", "退款到哪一步了"): a guest is asked to sign in; a signed-in
  customer hears their open tickets, each with its state and the time a result is due
  (``desk/ticket_status.py``), or, when the message names an order with an open refund, where that refund
  stands. An overdue ticket, or an upset customer, is offered a human; nobody is handed over unasked.
- ``action_switch_language`` ("can you reply in English please?", "说中文"): the choice is kept in the slot
  ``language_choice``, which the per-turn language reading follows from then on (``actions/signals.py``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import escalation_of, language_of, latest_text
from actions.handoff import offer_human
from common.db import StoreUnavailable
from desk.models import HandoffReason, TicketTopic
from desk.schemas import TicketSummary
from desk.ticket_status import due_text, is_overdue
from desk.tickets import TicketStore
from profiles.store import normalize_order_id
from sentiment.tone import Escalation

logger = logging.getLogger(__name__)

LANGUAGE_CHOICE = names.LANGUAGE_CHOICE
MAX_LISTED = 5  # a chat line per ticket; more than five is a case for the agent's console

_ASKS_ENGLISH = re.compile(r"english|英文|英语", re.IGNORECASE)
_ASKS_CHINESE = re.compile(r"chinese|mandarin|中文|汉语|普通话|国语", re.IGNORECASE)


def chosen_language(text: str, current: str | None = None) -> str:
    """The language a "reply in …" message asks for; a bare "switch language" swaps the current one."""
    english, chinese = _ASKS_ENGLISH.search(text or ""), _ASKS_CHINESE.search(text or "")
    if english and not chinese:
        return "en"
    if chinese and not english:
        return "zh"
    if english and chinese:  # "不要中文，用英文" / "English instead of Chinese": the later one wins
        return "en" if english.start() > chinese.start() else "zh"
    return "en" if (current or "zh") == "zh" else "zh"


def domain_words(domain: DomainDict, response: str, language: str) -> str:
    """The text of a one-word response (a topic or a state) in ``language``, for use inside another line."""
    variants = (domain.get("responses") or {}).get(response) or []
    default = ""
    for variant in variants:
        conditions = variant.get("condition") or []
        if not conditions:
            default = variant.get("text") or default
        elif any(c.get("name") == names.LANGUAGE and c.get("value") == language for c in conditions):
            return str(variant.get("text") or "")
    return str(default)


def refund_in_progress(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, ticket: TicketSummary
) -> list[EventType]:
    """Where an order's open refund stands; a human is offered to an upset customer (never handed over unasked)."""
    language = language_of(tracker)
    dispatcher.utter_message(
        response=names.UTTER_REFUND_IN_PROGRESS,
        order_id=ticket.order_id or "-",
        ticket_id=ticket.id,
        state=domain_words(domain, names.UTTER_TICKET_STATE_PREFIX + ticket.status, language),
        due=due_text(ticket),
    )
    events: list[EventType] = [SlotSet(names.TICKET_ID, float(ticket.id))]
    if escalation_of(tracker) is not Escalation.NONE:
        return events + offer_human(dispatcher, HandoffReason.NEGATIVE_SENTIMENT)
    dispatcher.utter_message(response=names.UTTER_ANYTHING_ELSE)
    return events


async def open_refund_of(tickets: TicketStore, tracker: Tracker) -> TicketSummary | None:
    """The signed-in customer's open refund ticket for the order named in this conversation, if any."""
    customer_id = tracker.get_slot(names.CUSTOMER_ID)
    order_id = normalize_order_id(tracker.get_slot(names.ORDER_ID) or "")
    if not customer_id or tracker.get_slot(names.IS_GUEST) or order_id is None:
        return None
    found = await asyncio.to_thread(
        tickets.open_for, customer_id, order_id=order_id, topic=TicketTopic.REFUND
    )
    return found[0] if found else None


class ActionTicketStatus(Action):
    """The customer's open tickets with their state and due time, or an order's open refund."""

    def __init__(self, tickets: TicketStore | None = None, clock: Any = None) -> None:
        self._tickets = tickets
        self._clock = clock or datetime.utcnow

    def name(self) -> str:
        return names.ACTION_TICKET_STATUS

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if not customer_id or tracker.get_slot(names.IS_GUEST):
            dispatcher.utter_message(response=names.UTTER_TICKET_STATUS_SIGN_IN)
            return []
        tickets = self._tickets or providers.ticket_store()
        try:
            refund = await open_refund_of(tickets, tracker)
            if refund is not None:
                return refund_in_progress(dispatcher, tracker, domain, refund)
            open_tickets = await asyncio.to_thread(tickets.open_for, customer_id)
        except StoreUnavailable:
            logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
            dispatcher.utter_message(response=names.UTTER_TICKET_STATUS_UNAVAILABLE)
            return []
        if not open_tickets:
            dispatcher.utter_message(response=names.UTTER_TICKET_STATUS_NONE)
            return []
        language = language_of(tracker)
        dispatcher.utter_message(response=names.UTTER_TICKET_STATUS_INTRO, count=len(open_tickets))
        for ticket in open_tickets[:MAX_LISTED]:
            order = (
                domain_words(domain, names.UTTER_TICKET_STATUS_ORDER, language).replace("{order_id}", ticket.order_id)
                if ticket.order_id
                else ""
            )
            dispatcher.utter_message(
                response=names.UTTER_TICKET_STATUS_LINE,
                ticket_id=ticket.id,
                topic=domain_words(domain, names.UTTER_TICKET_TOPIC_PREFIX + ticket.topic, language),
                order=order,
                state=domain_words(domain, names.UTTER_TICKET_STATE_PREFIX + ticket.status, language),
                due=due_text(ticket),
            )
        now = self._clock()
        if any(is_overdue(t, now=now) for t in open_tickets) or escalation_of(tracker) is not Escalation.NONE:
            if any(is_overdue(t, now=now) for t in open_tickets):
                dispatcher.utter_message(response=names.UTTER_TICKET_OVERDUE)
            return offer_human(dispatcher, HandoffReason.NEGATIVE_SENTIMENT)
        dispatcher.utter_message(response=names.UTTER_TICKET_STATUS_MORE)
        return []


class ActionSwitchLanguage(Action):
    """Reply in the language the customer asked for, and keep to it."""

    def name(self) -> str:
        return names.ACTION_SWITCH_LANGUAGE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        current = tracker.get_slot(LANGUAGE_CHOICE) or tracker.get_slot(names.LANGUAGE)
        language = chosen_language(latest_text(tracker), current)
        # utter_language_switched follows in the rule: a response is worded with the slots as they were
        # before the action's own events, so said here it would still be in the old language
        return [SlotSet(LANGUAGE_CHOICE, language), SlotSet(names.LANGUAGE, language)]
