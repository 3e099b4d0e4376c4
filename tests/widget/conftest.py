"""The widget's socket over the console with a fake Rasa server (tests/desk/console/conftest.py),
which also records the metadata each line carries. The browser tests (test_browser.py) use the real
servers of the session instead (tests/integration/conftest.py ``shared_assistant``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.desk.console.conftest import Console, FakeRasa, console_factory  # noqa: F401  (fixture)

SECRET = "test-widget-secret"


class RecordingRasa(FakeRasa):
    def __init__(self) -> None:
        super().__init__()
        self.metadata: list[dict[str, Any] | None] = []
        self.down = False

    async def send_message(self, conversation_id: str, text: str, *, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        from desk.rasa_client import RasaUnavailable

        if self.down:
            raise RasaUnavailable("down")
        self.metadata.append(metadata)
        return await super().send_message(conversation_id, text, metadata=metadata)


@pytest.fixture
def widget_console(console_factory: Callable[..., Console]) -> Iterator[Console]:  # noqa: F811
    console = console_factory()
    services = console.app.state.services
    console.rasa = RecordingRasa()
    console.app.state.services = dataclasses.replace(
        services, settings=dataclasses.replace(services.settings, widget_token_secret=SECRET), rasa=console.rasa
    )
    yield console





def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright (needs the real servers)")
