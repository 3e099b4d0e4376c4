"""Every log record is masked once ``install_masking`` ran: message, arguments and tracebacks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from common.logging import install_masking, uninstall_masking

PHONE = "13812341234"


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("tests.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    install_masking()
    try:
        yield logger, out
    finally:
        uninstall_masking()
        logger.removeHandler(handler)


def test_messages_arguments_and_tracebacks_are_masked(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = log
    logger.info("customer said %s about order %s", f"call {PHONE}", "E20261120001")
    logger.warning("e-mail zhang.wei@example.com, id 110101199003071234")
    try:
        raise ValueError(f"bad input {PHONE}")
    except ValueError:
        logger.exception("failed for %s", PHONE)
    text = out.getvalue()
    assert PHONE not in text and "zhang.wei@" not in text and "199003071234" not in text
    assert "138****1234" in text and "E20261120001" in text and "ValueError" in text


def test_installing_twice_wraps_once() -> None:
    before = logging.getLogRecordFactory()
    install_masking()
    installed = logging.getLogRecordFactory()
    install_masking()
    assert logging.getLogRecordFactory() is installed
    uninstall_masking()
    assert logging.getLogRecordFactory() is before
