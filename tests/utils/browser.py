"""Shared pieces of the browser tests: the console served in a thread, and Debian's Chromium.

Playwright drives the Chromium that ``scripts/system_deps.sh`` installs from Debian; no browser is
ever downloaded. A missing browser fails the test run (it is part of ``make test``), not a skip.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn

from common.settings import Settings
from desk.agents import AgentStore
from desk.console.app import create_app
from tests.integration.conftest import Assistant, free_port


def ensure_agent(assistant: Assistant, username: str, password: str, display_name: str, role: str = "agent") -> None:
    store = AgentStore(assistant.session_factory)
    if store.get(username) is None:
        store.add(username=username, password=password, role=role, display_name=display_name)


@contextmanager
def running_console(assistant: Assistant, **settings: Any) -> Iterator[str]:
    """The console app on a free loopback port, talking to the session's real Rasa server."""
    config = Settings(rasa_url=assistant.rasa_url, rasa_token=assistant.token, console_queue_poll_ms=200,
                      console_transcript_poll_ms=1000, **settings)
    app = create_app(config, session_factory=assistant.session_factory)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the console did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def debian_chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is missing: run scripts/system_deps.sh (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def wait_for(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


@contextmanager
def seeded_console(directory: Path, users: Sequence[tuple[str, str, str, str]],
                   prepare: Callable[[Any], None] | None = None) -> Iterator[SimpleNamespace]:
    """A console on its own demo-seeded SQLite database in ``directory``, for pages that need no Rasa server
    (the URL it is given answers nothing), with ``users`` as ``(username, password, role, display name)``
    and whatever ``prepare(factory)`` adds before the console starts. Yields ``url`` and ``factory``."""
    from common.db import make_engine, make_session_factory
    from demo.seed import seed_demo
    from desk.schema import create_all

    engine = make_engine(f"sqlite:///{directory / 'desk.db'}")
    create_all(engine)
    factory = make_session_factory(engine)
    seed_demo(factory, today=datetime.utcnow().date(), salt="browser-salt")
    agents = AgentStore(factory)
    for username, password, role, display_name in users:
        agents.add(username=username, password=password, role=role, display_name=display_name)
    if prepare is not None:
        prepare(factory)
    assistant = SimpleNamespace(session_factory=factory, rasa_url=f"http://127.0.0.1:{free_port()}", token="")
    try:
        # its own (empty) tracker store: a weekly report written from the console reads none of the project's
        with running_console(assistant, tracker_db_url=f"sqlite:///{directory / 'tracker.db'}") as url:  # type: ignore[arg-type]
            yield SimpleNamespace(url=url, factory=factory)
    finally:
        engine.dispose()


def sign_in(page: Any, url: str, username: str, password: str) -> None:
    """Sign in on the console's form and wait until it leaves the sign-in page."""
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
