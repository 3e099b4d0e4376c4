"""Issue 11 items 10 and 11: access logs format without a traceback and ``extra`` fields are masked;
a non-ASCII CSRF token is refused (403), never a 500."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from common.logging import install_masking, uninstall_masking
from tests.desk.console.conftest import Console, enqueue

PHONE = "13812341234"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, list[logging.LogRecord]]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tests.security.access")
    logger.propagate = False
    logger.addHandler(handler)
    logger.addHandler(Keep())
    logger.setLevel(logging.INFO)
    install_masking()
    try:
        yield logger, out, records
    finally:
        uninstall_masking()
        logger.handlers.clear()


def test_uvicorn_access_lines_are_formatted_and_masked(captured, capsys) -> None:
    logger, out, _ = captured
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/api/search?phone={PHONE}", "1.1", 200)
    text = out.getvalue()
    assert "Traceback" not in capsys.readouterr().err
    assert '127.0.0.1:5000 - "GET /api/search?phone=138****1234 HTTP/1.1" 200' in text, text
    assert PHONE not in text


def test_extra_fields_are_masked(captured) -> None:
    logger, _, records = captured
    logger.info("lookup", extra={"customer_phone": PHONE, "email": "zhang.wei@example.com", "order": "E20261120001",
                                 "nested": {"id": "110101199003071234"}, "count": 3})
    record = records[-1]
    assert record.customer_phone == "138****1234"  # type: ignore[attr-defined]
    assert record.email == "z***@example.com"  # type: ignore[attr-defined]
    assert record.order == "E20261120001" and record.count == 3  # type: ignore[attr-defined]
    assert "199003071234" not in str(record.nested)  # type: ignore[attr-defined]


def test_a_number_argument_that_is_a_phone_is_masked(captured) -> None:
    logger, _, records = captured
    logger.info("call back %d", 13812341234)
    assert PHONE not in records[-1].getMessage()


@pytest.mark.parametrize("token", ["令牌", "é" * 20, "\u00ff"])
def test_a_non_ascii_csrf_token_is_refused_not_an_error(console: Console, token: str) -> None:
    handoff_id = enqueue(console.queue)
    client = console.client("agent1")
    response = client.post(f"/api/handoffs/{handoff_id}/claim", data={"csrf_token": token})
    assert response.status_code == 403
    response = client.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": token.encode("utf-8")})
    assert response.status_code == 403
    fresh = console.client()
    page = fresh.get("/login", headers={"Accept": "text/html"})
    assert re.search(r'name="csrf_token"', page.text)
    response = fresh.post("/login", data={"username": "agent1", "password": "x", "csrf_token": token},
                          follow_redirects=False)
    assert response.status_code == 403
