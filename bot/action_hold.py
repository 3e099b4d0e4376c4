"""A polite "please hold" when the action server does not answer, instead of a silent turn.

Rasa 3.6 calls every custom action through ``RemoteAction.run``. When the action server is down that
raises ``RasaException``; the processor logs it, drops the action's events and carries on, so the
customer hears nothing (and ``ActionExtractSlots`` skips the per-turn ``action_validate_slot_mappings``
with a warning). ``install_action_hold`` wraps ``RemoteAction.run`` once per Rasa process (called
from ``RemoteActionPatches`` at model load, like ``bot/runtime.py``), which is the one place every
remote call passes through; no processor, channel or agent subclass is needed:

* a call that could not connect (``aiohttp.ClientConnectorError``: the request never reached the
  server, so retrying cannot run an action twice) is retried with back-off for up to
  ``ACTION_RETRY_SECONDS``: an action server that is restarted within that window answers the same
  turn, and the customer notices nothing but the wait;
* if it is still unreachable (or answers with a server error), the action's result is the domain
  response ``utter_please_hold`` (zh/en by the ``language`` slot) and an error is logged. The
  customer's line stays in the tracker, the conversation's state (slots, forms) is untouched, and the
  next turn runs normally once the action server is back; for a while after a failure further calls
  in the same process skip the retry wait (no second wait for the next action of the same turn);
* ``action_validate_slot_mappings`` (run by ``ActionExtractSlots`` on every user turn) keeps Rasa's
  behaviour on failure (a warning, no slots), so the customer hears the hold reply at most once;
* a 400 (``ActionExecutionRejection``, a form's validation) is never touched;
* ``action_queue_turn`` (a line while queued for an agent, ``bot/queue_turns.py``) stays silent on
  failure, as a paused conversation always was: the line is kept in the tracker for the agent.

``install_action_hold`` also installs the queue turns (``bot/queue_turns.py``), the other wrapper
around how Rasa runs custom actions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

HOLD_RESPONSE = "utter_please_hold"
VALIDATION_ACTION = "action_validate_slot_mappings"
QUEUE_ACTION = "action_queue_turn"
_state: dict[str, float] = {"down_until": 0.0}
_INSTALLED = False


def _unreachable(exc: BaseException) -> bool:
    """True when the call never reached the action server (connection refused or reset before sending)."""
    import aiohttp

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, aiohttp.ClientConnectorError):
            return True
        current = current.__cause__ or current.__context__
    return False


def install_action_hold(retry_seconds: float) -> None:
    """Wrap ``RemoteAction.run`` (idempotent; see the module doc)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
    from rasa.shared.exceptions import RasaException

    from bot.queue_turns import install_queue_turns

    install_queue_turns()
    original = RemoteAction.run

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        now = time.monotonic()
        deadline = now + (retry_seconds if now >= _state["down_until"] else 0.0)
        delay = 0.2
        while True:
            try:
                return await original(self, output_channel, nlg, tracker, domain)
            except ActionExecutionRejection:
                raise
            except RasaException as exc:
                failure = exc
                if not _unreachable(exc) or time.monotonic() + delay > deadline:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        _state["down_until"] = time.monotonic() + max(retry_seconds, 1.0)
        if self.name() == VALIDATION_ACTION:
            raise failure
        if self.name() == QUEUE_ACTION:
            logger.error("action server unavailable: the queued line of conversation %s waits for the agent (%s)",
                         tracker.sender_id, failure)
            return []
        logger.error("action server unavailable: '%s' for conversation %s answered with %s (%s)",
                     self.name(), tracker.sender_id, HOLD_RESPONSE, failure)
        message = await nlg.generate(HOLD_RESPONSE, tracker, output_channel.name())
        return [create_bot_utterance(message)] if message else []

    RemoteAction.run = run  # type: ignore[method-assign]
    _INSTALLED = True
    logger.debug("custom actions: retry for %.1fs, then %s", retry_seconds, HOLD_RESPONSE)
