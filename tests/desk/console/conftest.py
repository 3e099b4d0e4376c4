"""The console over the seeded in-memory database, with a fake Rasa server (recorded calls) and
signed-in test clients. The browser test (test_browser.py) uses the real servers instead."""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common.settings import Settings
from desk.agents import AgentStore
from desk.console.app import create_app
from desk.handoffs import HandoffQueue
from desk.models import Agent, AgentRole
from desk.passwords import hash_password

PASSWORD = "correct horse battery"
RATING_QUESTION = {
    "text": "请为本次服务打分（1-5）",
    "buttons": [{"title": str(n), "payload": f'/rate_service{{"rating":{n}}}'} for n in range(1, 6)],
}


@functools.lru_cache(maxsize=1)
def password_hash() -> str:
    """PASSWORD hashed once per test run, at the current cost (no upgrade at sign-in)."""
    return hash_password(PASSWORD)


class FakeRasa:
    """Stands in for desk.rasa_client.RasaClient: keeps each conversation's events, records calls."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []
        self.triggered: list[tuple[str, str]] = []
        self.sent: list[tuple[str, str]] = []
        self.replies: list[dict[str, Any]] = []

    def log(self, conversation_id: str, event: dict[str, Any]) -> None:
        self.events.setdefault(conversation_id, []).append({"timestamp": time.time(), **event})

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        return {"sender_id": conversation_id, "events": list(self.events.get(conversation_id, []))}

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        self.appended.append((conversation_id, events))
        for event in events:
            self.log(conversation_id, event)
        return {}

    async def trigger_intent(self, conversation_id: str, intent: str, *, output_channel: str = "latest") -> list[dict[str, Any]]:
        self.triggered.append((conversation_id, intent))
        self.log(conversation_id, {"event": "bot", "text": RATING_QUESTION["text"]})
        return [RATING_QUESTION]

    async def send_message(self, conversation_id: str, text: str, *, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.sent.append((conversation_id, text))
        self.log(conversation_id, {"event": "user", "text": text})
        for reply in self.replies:
            self.log(conversation_id, {"event": "bot", "text": reply.get("text")})
        return list(self.replies)


@contextlib.asynccontextmanager
async def rasa_server(port: int) -> AsyncIterator[list[tuple[str, Any]]]:
    """An HTTP server on ``port`` answering the three Rasa API calls the desk makes (tracker, append
    events, trigger intent) as a Rasa server does; yields the (path, body) of every call it received."""
    calls: list[tuple[str, Any]] = []

    async def tracker(request: web.Request) -> web.Response:
        calls.append((request.path, None))
        return web.json_response({"sender_id": request.match_info["id"], "events": []})

    async def append(request: web.Request) -> web.Response:
        calls.append((request.path, await request.json()))
        return web.json_response({"sender_id": request.match_info["id"], "events": []})

    async def trigger(request: web.Request) -> web.Response:
        calls.append((request.path, await request.json()))
        return web.json_response({"tracker": {}, "messages": [RATING_QUESTION]})

    app = web.Application()
    app.router.add_get("/conversations/{id}/tracker", tracker)
    app.router.add_post("/conversations/{id}/tracker/events", append)
    app.router.add_post("/conversations/{id}/trigger_intent", trigger)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield calls
    finally:
        await runner.cleanup()


@dataclass
class Console:
    app: FastAPI
    rasa: FakeRasa
    queue: HandoffQueue
    agents: AgentStore
    session_factory: sessionmaker

    def client(self, username: str | None = None) -> TestClient:
        """A test client, signed in as ``username`` when given (its CSRF token in ``client.csrf``)."""
        client = TestClient(self.app, headers={"Accept": "application/json"})
        client.csrf = ""  # type: ignore[attr-defined]
        if username:
            sign_in(client, username)
        return client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    page = client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    home = client.get("/", headers={"Accept": "text/html"})
    client.csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)  # type: ignore[attr-defined]


def enqueue(queue: HandoffQueue, conversation_id: str = "web-c0000001", **overrides: Any) -> int:
    fields: dict[str, Any] = dict(
        conversation_id=conversation_id, customer_id="C000001", channel="rest", language="zh", reason="refund",
        priority=4, summary="陈*（VIP）因「退款/退货」转人工。", package=make_package(),
    )
    fields.update(overrides)
    return queue.enqueue(**fields).id


def make_package(**overrides: Any) -> dict[str, Any]:
    package: dict[str, Any] = {
        "reason": "refund",
        "summary_facts": {"reason": "refund", "order_id": "E20261101001", "repeat_contacts": 3, "intents": []},
        "profile": {"name": "陈*", "tier": "vip", "segment": "important_value", "lifecycle": "active",
                    "elderly": False, "language": "zh", "phone_masked": "138****1234", "personalization": True},
        "sentiment": {"history": [0.1, -0.2, -0.6], "trend": "worsening", "latest": "negative",
                      "emotion": "anxiety", "tone": "empathetic"},
        "recent_tickets": [{"id": 7, "topic": "refund", "order_id": "E20261101001", "subject": "退款未到账",
                            "status": "open", "priority": "medium"}],
        "last_messages": [{"from": "customer", "text": "我要退款", "timestamp": 1.0}],
    }
    package.update(overrides)
    return package


@pytest.fixture
def console_factory(seeded: sessionmaker, clock: Callable[..., Any]) -> Callable[..., Console]:
    def make(session_factory: sessionmaker | None = None, **kwargs: Any) -> Console:
        factory = session_factory or seeded
        rasa = kwargs.pop("rasa", None) or FakeRasa()  # or a real RasaClient (e.g. on a closed port)
        settings = kwargs.pop("settings", None) or Settings(console_session_hours=8, console_queue_poll_ms=50,
                                                            console_transcript_poll_ms=50)
        now = kwargs.pop("clock", clock)
        gateways = kwargs.pop("gateways", {})  # extra channel gateways (web/rest: the console's own)
        app = create_app(settings, session_factory=factory, rasa=rasa, gateways=gateways, clock=now,
                         watch_queue=kwargs.pop("watch_queue", False), **kwargs)  # type: ignore[arg-type]
        agents = AgentStore(factory, clock=now)
        with factory.begin() as session:  # one hash of PASSWORD for every test: scrypt N=2^17 is slow on purpose
            for username, role in (("agent1", AgentRole.AGENT), ("agent2", AgentRole.AGENT),
                                   ("boss", AgentRole.SUPERVISOR)):
                if session.scalars(select(Agent).where(Agent.username == username)).first() is None:
                    session.add(Agent(username=username, display_name=username.title(), role=role.value,
                                      password_hash=password_hash(), active=True, created_at=now()))
        return Console(app=app, rasa=rasa, queue=HandoffQueue(factory, clock=now), agents=agents,
                       session_factory=factory)

    return make


@pytest.fixture
def console(console_factory: Callable[..., Console]) -> Iterator[Console]:
    yield console_factory()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright (needs the real servers)")
