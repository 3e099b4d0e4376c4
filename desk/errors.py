"""Desk exceptions.

DeskError
├── StoreUnavailable (re-exported from common.db: the database is down or refused the operation)
├── InvalidFeedback  (a rating outside 1–5)
├── HandoffNotFound
└── InvalidTransition (e.g. claiming a handoff another agent already took)
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
