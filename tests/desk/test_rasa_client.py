"""The Rasa API client turns connection problems into a clear RasaUnavailable."""

from __future__ import annotations

import asyncio
import socket

import pytest

from desk.rasa_client import RasaClient, RasaUnavailable


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_raises_rasa_unavailable() -> None:
    client = RasaClient(f"http://127.0.0.1:{_closed_port()}", timeout=2)
    with pytest.raises(RasaUnavailable):
        asyncio.run(client.trigger_intent("c-1", "EXTERNAL_conversation_resolved"))
