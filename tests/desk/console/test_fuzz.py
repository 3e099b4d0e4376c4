"""Fuzzing the console and web-chat HTTP API with hypothesis (3,500 inputs, signed out and signed in):
no route answers 5xx, whatever the method, path, query or body; a large body is refused (413)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.desk.console.conftest import Console

FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)

PATHS = ["/", "/login", "/health", "/queue", "/api/queue", "/handoffs/1", "/api/handoffs/1/claim",
         "/api/handoffs/1/reply", "/supervisor/", "/supervisor/api/audit", "/supervisor/audit.csv",
         "/supervisor/conversations", "/chat/test", "/widget/widget.js", "/widget/../../etc/passwd", "/demo/shop",
         "/lang/en", "/lang/xx", "/static/console.css"]


@pytest.fixture
def console_clients(console: Console) -> tuple[Any, Any]:
    return console.client(), console.client("agent1")


@settings(max_examples=3500, **FUZZ)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
       path=st.sampled_from(PATHS) | st.text(min_size=1, max_size=30).map(lambda p: "/" + quote(p)),
       query=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=3),
       body=st.none() | json_values | st.binary(max_size=300), signed_in=st.booleans())
def test_console_never_answers_5xx(console_clients: Any, method: str, path: str, query: dict[str, str], body: Any,
                                   signed_in: bool) -> None:
    client = console_clients[1] if signed_in else console_clients[0]
    kwargs: dict[str, Any] = {"params": query, "headers": {"X-CSRF-Token": getattr(client, "csrf", "")}}
    if isinstance(body, bytes):
        kwargs["content"] = body
    elif body is not None:
        kwargs["json"] = body
    response = client.request(method, path, **kwargs)
    assert response.status_code < 500, (method, path, response.status_code, response.text[:200])


def test_console_refuses_a_large_body(console_clients: Any) -> None:
    _, agent = console_clients
    response = agent.post("/login", content=b"x" * 70_000, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
