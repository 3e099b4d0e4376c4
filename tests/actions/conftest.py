"""Actions tests: every collaborator is passed in; the process-wide providers must never be reached."""

from __future__ import annotations

import pytest

from actions import providers
from common.settings import Settings

_FORBIDDEN = (
    "session_factory",
    "profile_store",
    "ticket_store",
    "handoff_queue",
    "feedback_log",
    "conversation_log",
    "offer_store",
)


@pytest.fixture(autouse=True)
def _isolated_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Default settings whatever the environment, and no path to the real database."""
    monkeypatch.setattr(providers, "settings", lambda: Settings())
    for name in _FORBIDDEN:

        def forbidden(*_a: object, _name: str = name, **_k: object) -> None:
            raise AssertionError(f"actions.providers.{_name}() reached: pass the store to the action")

        monkeypatch.setattr(providers, name, forbidden)
