"""Resolving a handoff hands the conversation back to the bot, which asks for a rating in the channel."""

from __future__ import annotations

import asyncio
from typing import Any

from desk.handoffs import HandoffQueue
from desk.rasa_client import RasaClient
from desk.schemas import HandoffView

RESOLVED_INTENT = "EXTERNAL_conversation_resolved"
# a resolved handoff is rated on its own, even if the customer rated the bot earlier in the session
FEEDBACK_RESET = [
    {"event": "slot", "name": "feedback_given", "value": False},
    {"event": "slot", "name": "feedback_rating", "value": None},
    {"event": "slot", "name": "feedback_comment", "value": None},
]


async def resolve_and_resume(
    queue: HandoffQueue, rasa: RasaClient, handoff_id: int
) -> tuple[HandoffView, list[dict[str, Any]]]:
    """Mark the handoff resolved, resume the bot (``ConversationResumed``) and ask for CSAT.

    Returns the resolved handoff and the messages the bot sent to the customer.
    """
    handoff = await asyncio.to_thread(queue.resolve, handoff_id)
    # while paused Rasa logs the customer's lines without listening turns; `action_listen` closes
    # the human part so the bot's rules see a fresh turn
    await rasa.append_events(
        handoff.conversation_id,
        [{"event": "resume"}, {"event": "action", "name": "action_listen"}, *FEEDBACK_RESET],
    )
    messages = await rasa.trigger_intent(handoff.conversation_id, RESOLVED_INTENT)
    return handoff, messages


async def hand_back_to_bot(queue: HandoffQueue, rasa: RasaClient, handoff_id: int) -> HandoffView:
    """End the handoff without asking for a rating: the bot listens again from the customer's next line."""
    handoff = await asyncio.to_thread(queue.resolve, handoff_id)
    await rasa.append_events(handoff.conversation_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
    return handoff
