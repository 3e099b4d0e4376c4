"""Fixtures of the tests that run against the session's real servers, registered for every test
package by ``tests/conftest.py`` (``pytest_plugins``), so no test module repeats them.

- ``assistant``: the session's one Rasa server + action server pair (``tests/integration/conftest.py``).
- ``console_url``: a console on those servers, with the agent the test module names: ``AGENT``,
  ``PASSWORD`` and optionally ``AGENT_NAME`` (the display name; the sign-in name when absent).
- ``browser``: Debian's Chromium driven by Playwright.

A module or folder that needs something else defines its own fixture of the same name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import Assistant, shared_assistant
from tests.utils.browser import debian_chromium, ensure_agent, running_console


@pytest.fixture(scope="session")
def assistant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return shared_assistant(request, tmp_path_factory)


@pytest.fixture(scope="module")
def console_url(request: pytest.FixtureRequest, assistant: Assistant) -> Iterator[str]:
    module = request.module
    ensure_agent(assistant, module.AGENT, module.PASSWORD, getattr(module, "AGENT_NAME", module.AGENT))
    with running_console(assistant) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with debian_chromium() as chromium:
        yield chromium
