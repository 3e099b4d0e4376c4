"""Personal data never reaches a log: every log record is masked when it is made.

``install_masking()`` is called once at the start of each process (the Rasa server from its tracker
store, the action server from ``actions.server``, the console from ``desk.console.__main__``). It
wraps the log-record factory, so it covers every logger and handler, including those that Rasa,
Sanic and uvicorn configure later: the message is formatted with its arguments and passed through
``common.masking.mask_text`` (phones, ID numbers, bank cards, e-mail addresses); a traceback is
formatted and masked too (exception messages often carry the offending input). Order numbers are
not personal data and stay readable.

Text a library prints straight to stdout without logging is not covered; none of ours does.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, Callable

from common.masking import mask_text

_installed: Callable[..., logging.LogRecord] | None = None


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message (and traceback text) by its masked form, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what logging would show, masked
        message = f"{record.msg!r} {record.args!r}"
    record.msg = mask_text(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_text("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    return record


def install_masking() -> None:
    """Mask every log record of this process from now on (idempotent)."""
    global _installed
    if _installed is not None:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = previous


def uninstall_masking() -> None:
    """Restore the factory that was in place before ``install_masking`` (tests)."""
    global _installed
    if _installed is not None:
        logging.setLogRecordFactory(_installed)
        _installed = None
