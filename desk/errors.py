"""Desk exceptions.

DeskError
├── StoreUnavailable (re-exported from common.db: the database is down or refused the operation)
├── InvalidFeedback  (a rating outside 1–5)
└── HandoffNotFound
"""

from __future__ import annotations

from common.db import StoreUnavailable


class DeskError(Exception):
    pass


class InvalidFeedback(DeskError, ValueError):
    pass


class HandoffNotFound(DeskError, LookupError):
    pass


__all__ = ["DeskError", "HandoffNotFound", "InvalidFeedback", "StoreUnavailable"]
