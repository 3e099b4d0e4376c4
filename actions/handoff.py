"""Bringing in a human: the warm handoff, the offer of a human, and the fallback that leads to it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import (
    channel_of,
    escalation_of,
    language_of,
    last_messages,
    latest_intent,
    latest_text,
    priority_care,
    priority_customer,
    recent_intents,
)
from common.db import StoreUnavailable
from common.masking import mask_name
from desk.handoffs import HandoffQueue, QueueFull, SummaryFacts, build_summary, handoff_priority
from desk.models import HandoffReason, TicketTopic
from desk.outbox import CallbackRequest
from desk.teams import TeamDesk, route_team
from desk.tickets import TicketStore
from profiles.offers import PRIORITY_HUMAN, privileges
from profiles.store import ProfileStore
from sentiment.tone import Escalation, fallback_threshold

logger = logging.getLogger(__name__)


def _masked_profile(tracker: Tracker, profiles: ProfileStore) -> dict[str, Any]:
    customer_id = tracker.get_slot(names.CUSTOMER_ID)
    profile = profiles.get_profile(customer_id) if customer_id else None
    if profile is not None:
        return profile.masked()
    return {
        "name": None,
        "tier": tracker.get_slot(names.TIER),
        "segment": tracker.get_slot(names.SEGMENT) or "guest",
        "lifecycle": tracker.get_slot(names.LIFECYCLE) or "guest",
        "elderly": bool(tracker.get_slot(names.ELDERLY)),
        "language": language_of(tracker),
        "phone_masked": None,
        "personalization": tracker.get_slot(names.PERSONALIZED) is not False,
    }


def build_package(
    tracker: Tracker,
    *,
    reason: HandoffReason,
    profiles: ProfileStore,
    tickets: TicketStore,
    repeat_contacts: int,
    order_id: str | None,
) -> tuple[str, dict[str, Any]]:
    """The warm-handoff package (summary text + structured, masked context). Blocking: run in a thread."""
    customer_id = tracker.get_slot(names.CUSTOMER_ID)
    recent = [t.as_dict() for t in tickets.recent_for(customer_id, limit=5)] if customer_id else []
    profile = _masked_profile(tracker, profiles)
    facts = SummaryFacts(
        language=language_of(tracker),
        reason=reason.value,
        customer_name=profile.get("name") or mask_name(tracker.get_slot(names.CUSTOMER_NAME)),
        tier=profile.get("tier"),
        segment=profile.get("segment"),
        elderly=bool(profile.get("elderly")),
        sentiment=tracker.get_slot(names.SENTIMENT),
        emotion=tracker.get_slot(names.EMOTION),
        trend=tracker.get_slot(names.TREND),
        order_id=order_id,
        repeat_contacts=repeat_contacts,
        intents=tuple(recent_intents(tracker)),
    )
    package = {
        "reason": reason.value,
        "summary_facts": {
            "reason": facts.reason,
            "order_id": order_id,
            "repeat_contacts": repeat_contacts,
            "intents": list(facts.intents),
        },
        "profile": profile,
        "sentiment": {
            "history": list(tracker.get_slot(names.SENTIMENT_HISTORY) or []),
            "trend": tracker.get_slot(names.TREND),
            "latest": tracker.get_slot(names.SENTIMENT),
            "emotion": tracker.get_slot(names.EMOTION),
            "tone": tracker.get_slot(names.TONE),
        },
        "recent_tickets": recent,
        "last_messages": last_messages(tracker),
    }
    return build_summary(facts), package


async def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    reason: HandoffReason,
    queue: HandoffQueue | None = None,
    profiles: ProfileStore | None = None,
    tickets: TicketStore | None = None,
    repeat_contacts: int = 0,
    order_id: str | None = None,
    desk: TeamDesk | None = None,
) -> list[EventType]:
    """Queue the conversation for a human with the warm-handoff package, routed to a team (desk.teams),
    tell the customer, pause the bot. When agents use the availability switch and none is online, the
    customer is told at once and a callback ticket is opened instead of waiting in the queue."""
    if desk is None:
        desk = providers.team_desk() if queue is None else TeamDesk.beside(queue) if isinstance(
            queue, HandoffQueue) else None  # a stand-in queue (tests): no routing, no availability
    queue = queue or providers.handoff_queue()
    profiles = profiles or providers.profile_store()
    tickets = tickets or providers.ticket_store()
    priority = handoff_priority(
        reason=reason,
        tier=tracker.get_slot(names.TIER),
        # an accessibility need, and a segment with the priority-human privilege, queue like an elderly customer
        elderly=priority_care(tracker) or PRIORITY_HUMAN in segment_privileges(tracker),
        emotion=tracker.get_slot(names.EMOTION),
    )
    try:
        summary, package = await asyncio.to_thread(
            build_package,
            tracker,
            reason=reason,
            profiles=profiles,
            tickets=tickets,
            repeat_contacts=repeat_contacts,
            order_id=order_id,
        )
        team, available = route_team(reason, language_of(tracker), english_online=False), None
        if desk is not None:
            team = await asyncio.to_thread(desk.route, reason, language_of(tracker))
            available = await asyncio.to_thread(desk.anyone_available)
        queued = await asyncio.to_thread(
            queue.enqueue,
            conversation_id=tracker.sender_id,
            customer_id=tracker.get_slot(names.CUSTOMER_ID),
            channel=channel_of(tracker),
            language=language_of(tracker),
            reason=reason,
            priority=priority,
            summary=summary,
            package=package,
            team=team,
        )
        if available is False and queued.created:
            return await _nobody_online(dispatcher, tracker, queue=queue, tickets=tickets, handoff_id=queued.id,
                                        reason=reason, summary=summary, team=team, order_id=order_id)
    except QueueFull:  # logged by the queue; the bot stays with the customer
        dispatcher.utter_message(response=names.UTTER_HANDOFF_QUEUE_FULL)
        return [SlotSet(names.HUMAN_OFFERED, False)]
    except StoreUnavailable:
        logger.exception("handoff queue unavailable (conversation=%s)", tracker.sender_id)
        # the reply promises a callback ticket: spooled now, written when the database is back (desk/outbox.py)
        await asyncio.to_thread(providers.callback_outbox().add, CallbackRequest(
            conversation_id=tracker.sender_id, channel=channel_of(tracker),
            topic=(TicketTopic.REFUND if reason == HandoffReason.REFUND else TicketTopic.OTHER).value,
            subject=f"callback: {reason.value}", customer_id=tracker.get_slot(names.CUSTOMER_ID),
            order_id=order_id,
        ))
        dispatcher.utter_message(response=names.UTTER_HANDOFF_UNAVAILABLE)
        return [SlotSet(names.HUMAN_OFFERED, False)]
    wording = priority_wording(tracker)
    if wording:
        dispatcher.utter_message(response=wording)
    elif PRIORITY_HUMAN in segment_privileges(tracker):
        dispatcher.utter_message(response=names.UTTER_PRIVILEGE_PRIORITY)
    wait = queued.position * providers.settings().handoff_wait_minutes_per_position
    dispatcher.utter_message(
        response=names.UTTER_HANDOFF_QUEUED, position=queued.position, wait_minutes=wait
    )
    logger.info(
        "handoff %s queued (conversation=%s reason=%s priority=%s position=%s)",
        queued.id, tracker.sender_id, reason.value, priority, queued.position,
    )
    return [
        SlotSet(names.HANDOFF_ID, float(queued.id)),
        SlotSet(names.HUMAN_OFFERED, False),
        SlotSet(names.FALLBACK_COUNT, 0.0),
        ConversationPaused(),
    ]


async def _nobody_online(dispatcher: CollectingDispatcher, tracker: Tracker, *, queue: HandoffQueue,
                         tickets: TicketStore, handoff_id: int, reason: HandoffReason, summary: str, team: str,
                         order_id: str | None) -> list[EventType]:
    """No agent online: the request is closed at once, a callback ticket (the routed team's) is opened and
    the customer is told now; the bot stays with them."""
    await asyncio.to_thread(queue.close_unstaffed, handoff_id)
    record = await asyncio.to_thread(
        tickets.record_contact,
        customer_id=tracker.get_slot(names.CUSTOMER_ID),
        conversation_id=tracker.sender_id,
        channel=channel_of(tracker),
        topic=(TicketTopic.REFUND if reason == HandoffReason.REFUND else TicketTopic.OTHER).value,
        order_id=order_id,
        subject=f"callback: {summary}"[:300],
        team=team,
    )
    logger.info("handoff %s: nobody online, callback ticket %s (conversation=%s team=%s)",
                handoff_id, record.ticket.id, tracker.sender_id, team)
    dispatcher.utter_message(response=names.UTTER_HANDOFF_NOBODY_ONLINE, ticket_id=record.ticket.id)
    return [SlotSet(names.HUMAN_OFFERED, False), SlotSet(names.FALLBACK_COUNT, 0.0)]


def priority_wording(tracker: Tracker) -> str | None:
    """The priority line that matches who the customer is: VIP words for a VIP only, care words for an
    elderly customer or one with a declared accessibility need, nothing for anyone else."""
    if tracker.get_slot(names.TIER) == "vip":
        return names.UTTER_HANDOFF_PRIORITY
    if priority_care(tracker):
        return names.UTTER_HANDOFF_PRIORITY_CARE
    return None


def segment_privileges(tracker: Tracker) -> tuple[str, ...]:
    """The privileges of the customer's segment (``profiles/offers.yml``), e.g. priority human access."""
    return privileges(tracker.get_slot(names.SEGMENT), providers.offer_rules(),
                      is_guest=bool(tracker.get_slot(names.IS_GUEST)) or not tracker.get_slot(names.CUSTOMER_ID))


def offer_human(dispatcher: CollectingDispatcher, reason: HandoffReason) -> list[EventType]:
    dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN)
    return [SlotSet(names.HUMAN_OFFERED, True), SlotSet(names.OFFER_REASON, reason.value)]


class ActionRequestHandoff(Action):
    """Hand the conversation to a human agent, with everything the agent needs to know."""

    def __init__(
        self,
        queue: HandoffQueue | None = None,
        profiles: ProfileStore | None = None,
        tickets: TicketStore | None = None,
    ) -> None:
        self._queue, self._profiles, self._tickets = queue, profiles, tickets

    def name(self) -> str:
        return names.ACTION_REQUEST_HANDOFF

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reason = HandoffReason.USER_REQUEST
        if latest_intent(tracker) == names.AFFIRM and tracker.get_slot(names.OFFER_REASON):
            reason = HandoffReason(tracker.get_slot(names.OFFER_REASON))
        return await hand_over(
            dispatcher,
            tracker,
            reason=reason,
            queue=self._queue,
            profiles=self._profiles,
            tickets=self._tickets,
            order_id=tracker.get_slot(names.ORDER_ID),
        )


class ActionHandleFallback(Action):
    """Ask the customer to rephrase; after repeated misunderstandings, offer a human.

    An anxious, angry or worsening customer whose line the bot could not read is offered a human at
    once: asking an upset customer to rephrase twice is how a complaint grows.
    """

    def name(self) -> str:
        return names.ACTION_HANDLE_FALLBACK

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not latest_text(tracker).strip():
            dispatcher.utter_message(response=names.UTTER_EMPTY_MESSAGE)
            return []
        count = int(tracker.get_slot(names.FALLBACK_COUNT) or 0) + 1
        dispatcher.utter_message(response=names.UTTER_DEFAULT)
        events: list[EventType] = [SlotSet(names.FALLBACK_COUNT, float(count))]
        if escalation_of(tracker) is not Escalation.NONE:
            events += offer_human(dispatcher, HandoffReason.NEGATIVE_SENTIMENT)
        elif count >= fallback_threshold(priority_customer=priority_customer(tracker)):
            events += offer_human(dispatcher, HandoffReason.BOT_FAILURE)
        return events


class ActionDeclineHuman(Action):
    """The customer would rather go on with the bot: say so and carry on."""

    def name(self) -> str:
        return names.ACTION_DECLINE_HUMAN

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response=names.UTTER_HUMAN_DECLINED)
        return [SlotSet(names.HUMAN_OFFERED, False), SlotSet(names.FALLBACK_COUNT, 0.0)]
