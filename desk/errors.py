"""Desk exceptions. The tree of ``DeskError`` (checked by tests/desk/test_errors.py):

DeskError
├── InvalidFeedback          a rating outside 1–5 (also a ValueError)
├── HandoffNotFound          (also a LookupError)
├── InvalidTransition        e.g. claiming a handoff another agent already took
├── AgentExists              desk.agents: a console user of that name exists
├── CustomerNotFound         desk.privacy: export or erasure for an unknown customer
├── QueueFull                desk.handoffs: a bound of the handoff queue is reached
├── RasaUnavailable          desk.rasa_client: the Rasa server did not answer
├── TicketInboxError         desk.ticket_inbox: a claim, note or resolution refused (carries its wording key)
├── TransferRefused          desk.teams: a transfer or team change refused (``why``: its wording key's end)
├── WeekRefused              desk.weekly_report: a week a supervisor cannot write now (also a ValueError)
└── ChannelUnavailable       desk.gateway: no way to reach the customer on this channel
    └── NotAWeChatConversation   (also a ValueError)

Not desk errors, on purpose: ``StoreUnavailable`` (``common.db``, a RuntimeError shared by every
library; re-exported here for the desk's callers), ``ReviewError`` (``desk.review``, a ValueError that
carries its wording key) and ``WeakPassword`` (``desk.passwords``, a ValueError).
"""

from __future__ import annotations

from common.db import StoreUnavailable


class DeskError(Exception):
    pass


class InvalidFeedback(DeskError, ValueError):
    pass


class HandoffNotFound(DeskError, LookupError):
    pass


__all__ = ["DeskError", "HandoffNotFound", "InvalidFeedback", "InvalidTransition", "StoreUnavailable"]


class InvalidTransition(DeskError):
    def __init__(self, handoff_id: int, current: str, wanted: str) -> None:
        super().__init__(f"handoff {handoff_id} is {current}; it cannot become {wanted}")
        self.handoff_id, self.current, self.wanted = handoff_id, current, wanted
