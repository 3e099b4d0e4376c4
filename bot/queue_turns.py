"""The queue is part of the conversation: the bot answers a customer who waits for an agent.

A handoff pauses the conversation (``ConversationPaused`` from ``actions/handoff.py``) so that the bot
stays out of the agent's way. Rasa 3.6 then logs every customer line and predicts nothing. While the
handoff is only *queued* that silence is wrong: the customer asks how long, changes their mind, or
adds a detail for the agent.

``install_queue_turns`` wraps ``MessageProcessor._run_prediction_loop`` once per Rasa process (called
by ``install_action_hold``): for a customer line in a paused conversation that has a ``handoff_id``,
the processor runs the one custom action ``action_queue_turn`` instead of predicting. The action
(``actions/queue_turn.py``) reads the handoff in the database, which is the one place that knows
whether an agent has claimed it:

* claimed (or already closed): no events, no reply — the bot stays silent as before;
* queued: it answers the wait question, or cancels the handoff and resumes the bot
  (``ConversationResumed``), or keeps the line for the agent.

After the action the turn is closed with ``action_listen``, as any bot turn is. External intents
(``EXTERNAL_*``) and ``/restart`` keep Rasa's own behaviour. When the action server is out of reach the
turn stays silent (``bot/action_hold.py``), which is what the customer heard before.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

QUEUE_ACTION = "action_queue_turn"
HANDOFF_SLOT = "handoff_id"
_INSTALLED = False


def is_queue_turn(tracker: Any) -> bool:
    """A customer's own line in a paused conversation that has been handed to a person."""
    if not tracker.is_paused() or tracker.get_slot(HANDOFF_SLOT) is None:
        return False
    latest = tracker.latest_message
    if latest is None or not (latest.text or "").strip():
        return False
    intent = (latest.intent or {}).get("name") or ""
    return not (intent.startswith("EXTERNAL_") or intent in ("restart", "session_start"))


def install_queue_turns() -> None:
    """Wrap ``MessageProcessor._run_prediction_loop`` (idempotent; see the module doc)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.actions.action import action_for_name_or_text
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted

    original = MessageProcessor._run_prediction_loop

    async def run_prediction_loop(self: Any, output_channel: Any, tracker: Any) -> None:
        if not is_queue_turn(tracker) or QUEUE_ACTION not in self.domain.action_names_or_texts:
            await original(self, output_channel, tracker)
            return
        action = action_for_name_or_text(QUEUE_ACTION, self.domain, self.action_endpoint)
        prediction = PolicyPrediction.for_action_name(self.domain, QUEUE_ACTION, "queue_turns")
        await self._run_action(action, tracker, output_channel, self.nlg, prediction)
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))

    MessageProcessor._run_prediction_loop = run_prediction_loop  # type: ignore[method-assign]
    _INSTALLED = True
    logger.debug("queued conversations: every customer line runs %s", QUEUE_ACTION)
