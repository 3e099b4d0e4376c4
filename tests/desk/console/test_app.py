"""The app around the routes: what a request meets whatever route it asks for."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from common.db import make_engine, make_session_factory
from common.settings import Settings
from desk.console.app import create_app
from devtools.services import free_port
from tests.desk.console.conftest import Console, enqueue


@pytest.mark.parametrize(("language", "expected"), [("en", "The database is unavailable at the moment"),
                                                    ("zh-CN,zh;q=0.9", "数据库暂时连接不上")])
def test_an_unreachable_database_is_a_503_in_the_agents_language(language: str, expected: str) -> None:
    # the real store on a PostgreSQL URL where nothing listens
    engine = make_engine(f"postgresql+psycopg2://nobody@127.0.0.1:{free_port()}/none")
    app = create_app(Settings(), session_factory=make_session_factory(engine), gateways={}, watch_queue=False)
    with TestClient(app) as client:
        response = client.get("/api/queue", headers={"Cookie": "desk_session=any", "Accept-Language": language})
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["detail"].startswith(expected)


def _inline_scripts(html: str) -> list[str]:
    """Script elements that would run inline: no src, and not a JSON data block."""
    return [tag for tag in re.findall(r"<script\b[^>]*>", html)
            if "src=" not in tag and 'type="application/json"' not in tag]


def test_console_pages_carry_a_strict_policy_and_are_never_framed(console: Console) -> None:
    handoff_id = enqueue(console.queue)
    boss = console.client("boss")
    for path in ("/login", "/", f"/handoffs/{handoff_id}", "/supervisor/agents", "/chat/test", "/api/queue",
                 "/static/console.js", "/health"):
        response = boss.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, path
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, path
        assert (headers["x-frame-options"], headers["x-content-type-options"], headers["referrer-policy"]) == (
            "DENY", "nosniff", "same-origin"), path
        if path.startswith(("/api/", "/static/", "/health")):
            continue
        # the policy holds the pages as they are: no inline script, handler or style attribute to block
        assert _inline_scripts(response.text) == [], path
        assert not re.search(r"\son[a-z]+=|\sstyle=|javascript:", response.text), path
    signed_out = console.client().get("/api/queue")
    assert signed_out.status_code == 401 and signed_out.headers["x-frame-options"] == "DENY"
    too_large = console.client().post("/login", content=b"x" * 70_000,
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert too_large.status_code == 413 and too_large.headers["x-content-type-options"] == "nosniff"


def test_the_widget_stays_embeddable_on_any_shop(console: Console) -> None:
    client = console.client()
    script = client.get("/widget/widget.js", headers={"Origin": "https://shop.example"})
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["access-control-allow-origin"] == "*" and script.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in script.headers and "x-frame-options" not in script.headers
    assert "cross-origin-resource-policy" not in script.headers
    shop = client.get("/demo/shop", headers={"Accept": "text/html"})
    assert shop.status_code == 200 and '<script src="/widget/widget.js"' in shop.text
    assert "x-frame-options" not in shop.headers
    policy = shop.headers["content-security-policy"]
    assert "frame-ancestors" not in policy and "script-src 'self';" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy  # the widget styles its own shadow root
    assert _inline_scripts(shop.text) == []
