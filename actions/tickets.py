"""Refunds and complaints: recall what the customer went through before, keep a ticket, bring in a human."""

from __future__ import annotations

import abc
import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import channel_of, escalation_of, latest_text, priority_customer
from actions.handoff import hand_over, offer_human
from actions.orders import asks_where_order_is, route_after_serving, serve_order_status
from actions.status import open_refund_of, refund_in_progress
from common.db import StoreUnavailable
from desk.handoffs import HandoffQueue
from desk.models import HandoffReason, Priority, TicketTopic
from desk.schemas import ContactRecord
from desk.tickets import TicketStore
from profiles.store import ProfileStore, normalize_order_id
from sentiment.tone import Escalation

logger = logging.getLogger(__name__)


async def record_contact(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    tickets: TicketStore,
    topic: TicketTopic,
    priority: Priority = Priority.MEDIUM,
) -> ContactRecord | None:
    """Open or update the ticket for this issue and tell the customer when they have been here before."""
    try:
        record = await asyncio.to_thread(
            tickets.record_contact,
            customer_id=tracker.get_slot(names.CUSTOMER_ID),
            conversation_id=tracker.sender_id,
            channel=channel_of(tracker),
            topic=topic,
            order_id=normalize_order_id(tracker.get_slot(names.ORDER_ID) or ""),
            subject=latest_text(tracker)[:200],
            priority=priority,
        )
    except StoreUnavailable:
        logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
        return None
    if record.contacts_in_window >= 2:
        dispatcher.utter_message(
            response=names.UTTER_REPEAT_CONTACT_PREFIX + topic.value, count=record.contacts_in_window
        )
    return record


class _TicketAction(Action):
    """An action that keeps tickets and may hand over: the stores are injected in tests, else the providers'.
    Abstract (the action server registers only its subclasses)."""

    def __init__(
        self,
        tickets: TicketStore | None = None,
        queue: HandoffQueue | None = None,
        profiles: ProfileStore | None = None,
    ) -> None:
        self._tickets, self._queue, self._profiles = tickets, queue, profiles

    @abc.abstractmethod
    def name(self) -> str: ...


class ActionHandleRefund(_TicketAction):
    """Recall the customer's refund history, keep the refund ticket, and hand over to a refund specialist."""

    def name(self) -> str:
        return names.ACTION_HANDLE_REFUND

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        tickets = self._tickets or providers.ticket_store()
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        try:
            open_refund = await open_refund_of(tickets, tracker)
        except StoreUnavailable:
            logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
            open_refund = None
        if open_refund is not None:
            # this order's refund is already with a specialist: where it stands, never a second handoff
            return refund_in_progress(dispatcher, tracker, domain, open_refund)
        history = None
        if customer_id:
            try:
                history = await asyncio.to_thread(
                    tickets.topic_history,
                    customer_id=customer_id,
                    topic=TicketTopic.REFUND,
                    exclude_conversation=tracker.sender_id,
                )
            except StoreUnavailable:
                logger.exception("ticket store unavailable (conversation=%s)", tracker.sender_id)
        if tracker.get_slot(names.TONE) in ("empathetic", "elder_friendly"):
            dispatcher.utter_message(response=names.UTTER_TONE_OPENER)
        if history is not None and history.count > 0 and history.last_at is not None:
            dispatcher.utter_message(
                response=names.UTTER_REFUND_HISTORY,
                count=history.count,
                last_date=history.last_at.strftime("%Y-%m-%d"),
            )
        else:
            dispatcher.utter_message(response=names.UTTER_REFUND_FIRST)
        record = await record_contact(dispatcher, tracker, tickets, TicketTopic.REFUND, Priority.HIGH)
        events: list[EventType] = []
        if record is not None:
            events.append(SlotSet(names.TICKET_ID, float(record.ticket.id)))
        events += await hand_over(
            dispatcher,
            tracker,
            reason=HandoffReason.REFUND,
            queue=self._queue,
            profiles=self._profiles,
            tickets=tickets,
            repeat_contacts=record.contacts_in_window if record else 0,
            order_id=record.ticket.order_id if record else None,
        )
        return events


class ActionHandleComplaint(_TicketAction):
    """Acknowledge a complaint and keep a ticket; an angry or anxious customer goes straight to a human."""

    def name(self) -> str:
        return names.ACTION_HANDLE_COMPLAINT

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        tickets = self._tickets or providers.ticket_store()
        level = escalation_of(tracker)
        if asks_where_order_is(latest_text(tracker)):
            # "我的快递怎么还没到啊" is a question about an order, however upset: serve it, then route
            served = await serve_order_status(dispatcher, tracker, self._profiles or providers.profile_store())
            if served is not None:
                shown = next((e["value"] for e in served if e.get("name") == names.ORDER_ID), None)
                return served + await self._route(dispatcher, tracker, level, tickets, shown)
        priority = Priority.HIGH if level is Escalation.HANDOFF else Priority.MEDIUM
        dispatcher.utter_message(response=names.UTTER_COMPLAINT_ACK)
        record = await record_contact(dispatcher, tracker, tickets, TicketTopic.COMPLAINT, priority)
        events: list[EventType] = []
        if record is not None:
            events.append(SlotSet(names.TICKET_ID, float(record.ticket.id)))
            dispatcher.utter_message(
                response=names.UTTER_TICKET_OPENED if record.created else names.UTTER_TICKET_UPDATED,
                ticket_id=record.ticket.id,
            )
        if level is Escalation.HANDOFF:
            return events + await hand_over(
                dispatcher,
                tracker,
                reason=HandoffReason.NEGATIVE_SENTIMENT,
                queue=self._queue,
                profiles=self._profiles,
                tickets=tickets,
                repeat_contacts=record.contacts_in_window if record else 0,
                order_id=record.ticket.order_id if record else None,
            )
        if level is Escalation.OFFER or priority_customer(tracker):
            reason = HandoffReason.NEGATIVE_SENTIMENT if level is Escalation.OFFER else HandoffReason.PRIORITY_CUSTOMER
            return events + offer_human(dispatcher, reason)
        dispatcher.utter_message(response=names.UTTER_ANYTHING_ELSE)
        return events

    async def _route(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        level: Escalation,
        tickets: TicketStore,
        order_id: str | None,
    ) -> list[EventType]:
        """After the order was shown: a very upset customer goes to a human at once, an upset or priority
        customer is offered one, anyone else is asked what else they need. No complaint ticket."""
        if level is Escalation.HANDOFF:
            return await hand_over(
                dispatcher, tracker, reason=HandoffReason.NEGATIVE_SENTIMENT, queue=self._queue,
                profiles=self._profiles, tickets=tickets, order_id=order_id,
            )
        return route_after_serving(dispatcher, tracker)
