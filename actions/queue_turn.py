"""A customer's line while waiting for an agent (issue 10 item 3).

Rasa runs ``action_queue_turn`` for every customer line of a paused conversation that has a handoff
(``bot/queue_turns.py``), and through two rules when ``queue_wait`` / ``cancel_handoff`` come outside
the queue. The database decides what the bot may do:

* no open handoff, conversation not paused: the customer is not waiting (``utter_queue_not_waiting``);
* the handoff is claimed, or closed while the bot has not resumed yet: silence, the agent has the line;
* queued, the wait question: the current place and estimate;
* queued, a cancel (``cancel_handoff``, or the general ``cancel``): the handoff ends as cancelled by the
  customer, the bot resumes and says so; when the line withdraws a refund ("不退了", "no refund"),
  the open refund ticket is closed with that note;
* queued, anything else: kept on the handoff card for the agent (masked), acknowledged once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationResumed, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import names, providers
from actions.context import latest_intent, latest_text
from common.db import StoreUnavailable
from desk.errors import InvalidTransition
from desk.handoffs import HandoffQueue
from desk.models import HandoffStatus
from desk.tickets import TicketStore

logger = logging.getLogger(__name__)

ACTION_QUEUE_TURN = names.ACTION_QUEUE_TURN
QUEUE_WAIT = names.QUEUE_WAIT
# the queue's own intent, and the general cancel of the repair mechanism (nlu_data/*/repair.yml)
CANCEL_INTENTS = frozenset({names.CANCEL_HANDOFF, "cancel"})
UTTER_QUEUE_POSITION = names.UTTER_QUEUE_POSITION
UTTER_QUEUE_CANCELLED = names.UTTER_QUEUE_CANCELLED
UTTER_QUEUE_REFUND_KEPT = names.UTTER_QUEUE_REFUND_KEPT
UTTER_QUEUE_NOTE_ADDED = names.UTTER_QUEUE_NOTE_ADDED
UTTER_QUEUE_NOT_WAITING = names.UTTER_QUEUE_NOT_WAITING
# a bare "no" while waiting ("不用了", "cancel", "never mind") is the customer leaving the queue
_DENY_AS_CANCEL = re.compile(
    r"^\W*(算了|不用了|不需要了|不要了|取消|不等了|cancel|stop|never ?mind|forget it|no thanks|no need)",
    re.IGNORECASE,
)
REFUND_NOTE = "refund withdrawn by the customer while queued"
# a cancel that also takes back a refund: 不退 / 不要退款 / 退款不要了 / no refund / keep it
_REFUND_WITHDRAWN = re.compile(
    r"不(要|用|想|申请)?退|退款.{0,3}(不要|算了|撤|取消)|撤回.{0,2}退款|取消.{0,2}退款"
    r"|\brefund\b|\bkeep(ing)? (it|the (order|item))\b",
    re.IGNORECASE,
)


def withdraws_refund(text: str) -> bool:
    return bool(_REFUND_WITHDRAWN.search(text or ""))


# While queued, a line read as a refund or a human request that negates it ("退款就算了", "别转人工了",
# "no refund", "don't connect me") is the customer changing their mind, not asking again.
_NEGATED_REQUEST = re.compile(
    r"不(用|要|想|需要|申请|打算)(再)?(给我|帮我)?(退|转|人工|客服)|别(再)?(给我|帮我)?(退|转|人工)"
    r"|(退款|人工|客服|转接).{0,4}(算了|不要|不用|撤|取消)"
    r"|撤(回|销).{0,2}退款|取消.{0,2}(退款|人工|转接)"
    r"|\b(no|cancel|withdraw|drop|scrap)\b.{0,12}\b(refund|agent|human|person)"
    r"|\b(don'?t|do not)\b.{0,12}\b(refund|connect|transfer|put me through|pass me|agent|human|person)",
    re.IGNORECASE,
)
REQUEST_INTENTS = frozenset({"request_refund", "request_human"})
FALLBACK_INTENT = "nlu_fallback"


def reading_of(intent: str | None, ranking: list[dict[str, Any]] | None) -> str | None:
    """The intent to act on: an unsure line (``nlu_fallback``, e.g. "I changed my mind, no refund please"
    torn between the refund and the cancel) is read as the intent the model ranked first."""
    if intent != FALLBACK_INTENT:
        return intent
    for entry in ranking or []:
        name = (entry or {}).get("name")
        if name and name != FALLBACK_INTENT:
            return str(name)
    return intent


def leaves_queue(intent: str | None, text: str, ranking: list[dict[str, Any]] | None = None) -> bool:
    """A cancel while queued: the cancel intents, a plain "no / never mind" (``deny``), or a refund or
    human request that says the opposite. An unsure line counts by the intent ranked first."""
    intent = reading_of(intent, ranking)
    if intent in CANCEL_INTENTS:
        return True
    if intent == "deny":
        return bool(_DENY_AS_CANCEL.search(text or ""))
    return intent in REQUEST_INTENTS and bool(_NEGATED_REQUEST.search(text or ""))


class ActionQueueTurn(Action):
    def __init__(self, queue: HandoffQueue | None = None, tickets: TicketStore | None = None) -> None:
        self._queue, self._tickets = queue, tickets

    def name(self) -> str:
        return ACTION_QUEUE_TURN

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        queue = self._queue or providers.handoff_queue()
        paused = tracker.is_paused()
        try:
            handoff = await asyncio.to_thread(queue.open_for, tracker.sender_id)
        except StoreUnavailable:
            logger.exception("queue turn: handoff store unavailable (conversation=%s)", tracker.sender_id)
            return []  # the line stays in the transcript; the agent reads it there
        if handoff is None:
            if not paused:
                dispatcher.utter_message(response=UTTER_QUEUE_NOT_WAITING)
            return []  # closed, the console resumes the bot: nothing to say meanwhile
        if handoff.status != HandoffStatus.QUEUED.value:
            return []  # an agent has the conversation: the bot stays silent
        intent = latest_intent(tracker)
        text = latest_text(tracker)
        try:
            if intent == QUEUE_WAIT:
                return await self._wait(dispatcher, queue, handoff.id)
            if leaves_queue(intent, text, (tracker.latest_message or {}).get("intent_ranking")):
                return await self._cancel(dispatcher, tracker, queue, handoff, text)
            note = await asyncio.to_thread(queue.add_customer_note, handoff.id, text)
        except InvalidTransition:
            return []  # claimed a moment ago: the agent answers
        except StoreUnavailable:
            logger.exception("queue turn: handoff store unavailable (conversation=%s)", tracker.sender_id)
            return []
        if note.number == 1:
            dispatcher.utter_message(response=UTTER_QUEUE_NOTE_ADDED)
        return []

    async def _wait(self, dispatcher: CollectingDispatcher, queue: HandoffQueue, handoff_id: int) -> list[EventType]:
        position = await asyncio.to_thread(queue.position_of, handoff_id)
        if position < 1:
            return []  # claimed between the two reads
        wait = position * providers.settings().handoff_wait_minutes_per_position
        dispatcher.utter_message(response=UTTER_QUEUE_POSITION, position=position, wait_minutes=wait)
        return []

    async def _cancel(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, queue: HandoffQueue, handoff: Any, text: str
    ) -> list[EventType]:
        refund = withdraws_refund(text)
        await asyncio.to_thread(queue.cancel_by_customer, handoff.id, refund_withdrawn=refund)
        logger.info("handoff %s cancelled by the customer (conversation=%s refund_withdrawn=%s)",
                    handoff.id, tracker.sender_id, refund)
        dispatcher.utter_message(response=UTTER_QUEUE_CANCELLED)
        if refund:
            tickets = self._tickets or providers.ticket_store()
            order_id = ((handoff.package or {}).get("summary_facts") or {}).get("order_id")
            try:
                ticket = await asyncio.to_thread(
                    tickets.note_refund_withdrawn, customer_id=tracker.get_slot(names.CUSTOMER_ID),
                    conversation_id=tracker.sender_id, order_id=order_id, note=REFUND_NOTE,
                )
            except StoreUnavailable:
                logger.exception("refund ticket not updated (conversation=%s)", tracker.sender_id)
                ticket = None
            if ticket is not None:
                dispatcher.utter_message(response=UTTER_QUEUE_REFUND_KEPT)
        return [ConversationResumed(), SlotSet(names.HANDOFF_ID, None)]
