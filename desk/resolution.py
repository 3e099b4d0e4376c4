"""Ending a handoff hands the conversation back to the bot (and, when resolved, the bot asks for a rating).

The handoff is closed in the database first (one conditional update decides any race with a claim),
then Rasa is asked to resume the conversation. When Rasa is out of reach at that moment the handoff
is marked ``resume_pending`` (``HandoffQueue.mark_resume_pending``) and the console's periodic sweep
(``desk.console.timeouts``) calls :func:`resume` again until Rasa accepts, so a customer is never left
in a paused conversation with no open handoff.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from common.db import StoreUnavailable
from desk.handoffs import HandoffQueue
from desk.models import HandoffStatus
from desk.rasa_client import RasaClient, RasaUnavailable
from desk.schemas import HandoffView

logger = logging.getLogger(__name__)

RESOLVED_INTENT = "EXTERNAL_conversation_resolved"
TIMED_OUT_INTENT = "EXTERNAL_handoff_timed_out"
# while paused Rasa logs the customer's lines without listening turns; `action_listen` closes
# the human part so the bot's rules see a fresh turn
RESUME = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
# a resolved handoff is rated on its own, even if the customer rated the bot earlier in the session
FEEDBACK_RESET = [
    {"event": "slot", "name": "feedback_given", "value": False},
    {"event": "slot", "name": "feedback_rating", "value": None},
    {"event": "slot", "name": "feedback_comment", "value": None},
]

# how a handoff ended → what Rasa is asked to do
RESOLVED = "resolved"  # resume, reset the rating slots, ask for a rating
BACK_TO_BOT = "back_to_bot"  # resume; the bot listens again from the customer's next line
TIMED_OUT = "timed_out"  # resume; the bot tells the customer nobody was free (a callback is booked)
ABANDONED = "abandoned"  # resume silently: a customer who comes back talks to the bot
ENDINGS: dict[str, tuple[HandoffStatus, list[dict[str, Any]], str | None]] = {
    RESOLVED: (HandoffStatus.RESOLVED, RESUME + FEEDBACK_RESET, RESOLVED_INTENT),
    BACK_TO_BOT: (HandoffStatus.RESOLVED, RESUME, None),
    TIMED_OUT: (HandoffStatus.TIMED_OUT, RESUME, TIMED_OUT_INTENT),
    ABANDONED: (HandoffStatus.ABANDONED, RESUME, None),
}


@dataclass(frozen=True)
class Ending:
    handoff: HandoffView
    messages: list[dict[str, Any]] = field(default_factory=list)  # what the bot said to the customer
    resumed: bool = True  # False: Rasa was out of reach; marked resume_pending, the sweep retries


async def resume(rasa: RasaClient, conversation_id: str, ending: str) -> list[dict[str, Any]]:
    """Ask Rasa to resume the conversation as ``ending`` requires; the bot's messages.

    Safe to repeat: a second ``resume`` / ``action_listen`` changes nothing for the bot.
    """
    _, events, intent = ENDINGS[ending]
    await rasa.append_events(conversation_id, list(events))
    return await rasa.trigger_intent(conversation_id, intent) if intent else []


async def resume_or_mark(queue: HandoffQueue, rasa: RasaClient, handoff: HandoffView, ending: str) -> Ending:
    """Resume a closed handoff's conversation; if Rasa is out of reach, mark it for the sweep to retry."""
    try:
        return Ending(handoff, await resume(rasa, handoff.conversation_id, ending))
    except RasaUnavailable as exc:
        logger.error("handoff %s %s; the bot is not resumed yet, retried by the sweep: %s", handoff.id, ending, exc)
    try:
        await asyncio.to_thread(queue.mark_resume_pending, handoff.id, ending)
    except StoreUnavailable:
        logger.exception("handoff %s: the pending resume was not recorded", handoff.id)
    return Ending(handoff, resumed=False)


async def end_handoff(queue: HandoffQueue, rasa: RasaClient, handoff_id: int, ending: str) -> Ending:
    """Close the handoff as ``ending`` (InvalidTransition when it cannot move), then resume the bot."""
    status, _, _ = ENDINGS[ending]
    handoff = await asyncio.to_thread(queue.transition, handoff_id, status)
    return await resume_or_mark(queue, rasa, handoff, ending)


async def resolve_and_resume(
    queue: HandoffQueue, rasa: RasaClient, handoff_id: int
) -> tuple[HandoffView, list[dict[str, Any]]]:
    """Mark the handoff resolved, resume the bot (``ConversationResumed``) and ask for CSAT.

    Returns the resolved handoff and the messages the bot sent to the customer (none while the
    resume is pending).
    """
    ending = await end_handoff(queue, rasa, handoff_id, RESOLVED)
    return ending.handoff, ending.messages


async def hand_back_to_bot(queue: HandoffQueue, rasa: RasaClient, handoff_id: int) -> HandoffView:
    """End the handoff without asking for a rating: the bot listens again from the customer's next line."""
    return (await end_handoff(queue, rasa, handoff_id, BACK_TO_BOT)).handoff
