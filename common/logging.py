"""Personal data never reaches a log: every log record is masked when it is made.

``install_masking()`` is called once at the start of each process (the Rasa server from its tracker
store, the action server from ``actions.server``, the console from ``desk.console.__main__``). It
wraps the log-record factory, so it covers every logger and handler, including those that Rasa,
Sanic and uvicorn configure later: the message is formatted with its arguments and passed through
``common.masking.mask_text`` (phones, ID numbers, bank cards, e-mail addresses); a traceback is
formatted and masked too (exception messages often carry the offending input). Order numbers are
not personal data and stay readable.

The arguments stay in place where masking them one by one masks the whole message (uvicorn's access
formatter reads ``record.args``): string arguments are masked, a number that reads as personal data
becomes its masked text; only when that is not enough are message and arguments replaced by the
masked text. Fields passed as ``extra=`` are masked too (``Logger.makeRecord`` sets them after the
record factory ran, so it is wrapped as well).

Text a library prints straight to stdout without logging is not covered; none of ours does.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from common.masking import mask_text

_installed: Callable[..., logging.LogRecord] | None = None
_make_record: Callable[..., logging.LogRecord] | None = None


def _mask_arg(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value)
        masked = mask_text(text)
        return value if masked == text else masked
    return value


def _mask_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if depth < 4 and isinstance(value, dict):
        return {k: _mask_value(v, depth + 1) for k, v in value.items()}
    if depth < 4 and isinstance(value, (list, tuple)):
        return type(value)(_mask_value(v, depth + 1) for v in value)
    return _mask_arg(value)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the record's message, arguments and traceback text, in place (arguments kept where possible)."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what logging would show, masked
        message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = mask_text(message), None
    else:
        masked = mask_text(message)
        if masked != message:
            kept = False
            if isinstance(record.msg, str) and mask_text(record.msg) == record.msg and record.args:
                args = record.args
                masked_args: Any = (
                    {k: _mask_arg(v) for k, v in args.items()} if isinstance(args, dict)
                    else tuple(_mask_arg(v) for v in args)
                )
                record.args = masked_args
                try:
                    kept = mask_text(record.getMessage()) == record.getMessage()
                except Exception:
                    kept = False
            if not kept:
                record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_text("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    return record


def install_masking() -> None:
    """Mask every log record of this process from now on (idempotent)."""
    global _installed, _make_record
    if _installed is not None:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    original = logging.Logger.makeRecord

    def make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = original(self, *args, **kwargs)
        extra = kwargs.get("extra") if "extra" in kwargs else (args[8] if len(args) > 8 else None)
        if extra:
            for key in extra:
                if key in record.__dict__:
                    record.__dict__[key] = _mask_value(record.__dict__[key])
        return record

    logging.setLogRecordFactory(factory)
    logging.Logger.makeRecord = make_record  # type: ignore[method-assign]
    _installed, _make_record = previous, original


def uninstall_masking() -> None:
    """Restore the factory that was in place before ``install_masking`` (tests)."""
    global _installed, _make_record
    if _installed is not None:
        logging.setLogRecordFactory(_installed)
        _installed = None
    if _make_record is not None:
        logging.Logger.makeRecord = _make_record  # type: ignore[method-assign]
        _make_record = None
