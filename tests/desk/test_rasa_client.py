"""The Rasa API client turns connection problems into a clear RasaUnavailable and puts any conversation
id into the URL as one percent-encoded path segment."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

import pytest
from aiohttp import web

from desk.rasa_client import RasaClient, RasaUnavailable


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_raises_rasa_unavailable() -> None:
    client = RasaClient(f"http://127.0.0.1:{_closed_port()}", timeout=2)
    with pytest.raises(RasaUnavailable):
        asyncio.run(client.trigger_intent("c-1", "EXTERNAL_conversation_resolved"))


ODD_ID = "shop/a?b=1#c d%"


async def _against_recording_server(call: Callable[[RasaClient], Awaitable[object]]) -> list[str]:
    """Run ``call`` against a real HTTP server on a free port; the raw request paths it saw."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.raw_path.split("?", 1)[0])
        return web.json_response({"events": [], "messages": []})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await call(RasaClient(f"http://127.0.0.1:{port}", timeout=5))
    finally:
        await runner.cleanup()
    return seen


@pytest.mark.parametrize(
    ("call", "suffix"),
    [
        (lambda client: client.tracker(ODD_ID), "/tracker"),
        (lambda client: client.append_events(ODD_ID, [{"event": "resume"}]), "/tracker/events"),
        (lambda client: client.trigger_intent(ODD_ID, "EXTERNAL_conversation_resolved"), "/trigger_intent"),
    ],
    ids=["tracker", "append_events", "trigger_intent"],
)
def test_the_conversation_id_is_one_encoded_path_segment(
    call: Callable[[RasaClient], Awaitable[object]], suffix: str
) -> None:
    [path] = asyncio.run(_against_recording_server(call))
    assert path.startswith("/conversations/") and path.endswith(suffix), path
    segment = path[len("/conversations/"):-len(suffix)]
    assert "/" not in segment and "?" not in segment and "#" not in segment, path
    assert unquote(segment) == ODD_ID
