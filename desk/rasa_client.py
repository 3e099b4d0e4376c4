"""A small client for the Rasa server's HTTP API, as the desk uses it (no Rasa imports)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from desk.errors import DeskError


def _segment(conversation_id: str) -> str:
    """A conversation id as one URL path segment: '/', '?', '#' and the rest percent-encoded."""
    return quote(conversation_id, safe="")


class RasaUnavailable(DeskError):
    """The Rasa server could not be reached or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 15.0) -> None:
        self._base = base_url.rstrip("/")
        self._params = {"token": token} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _post(self, path: str, body: Any, **params: str) -> Any:
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                async with session.post(
                    f"{self._base}{path}", json=body, params={**self._params, **params}
                ) as response:
                    if response.status >= 400:
                        raise RasaUnavailable(f"{path}: HTTP {response.status}: {(await response.text())[:300]}")
                    return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaUnavailable(f"{path}: {exc}") from exc

    async def _get(self, path: str, **params: str) -> Any:
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                async with session.get(f"{self._base}{path}", params={**self._params, **params}) as response:
                    if response.status >= 400:
                        raise RasaUnavailable(f"{path}: HTTP {response.status}: {(await response.text())[:300]}")
                    return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaUnavailable(f"{path}: {exc}") from exc

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's tracker with every event since it began (the transcript's source)."""
        return dict(await self._get(f"/conversations/{_segment(conversation_id)}/tracker", include_events="ALL") or {})

    async def send_message(
        self, conversation_id: str, text: str, *, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """A customer's line through the REST channel; returns the bot's replies (none while paused)."""
        body: dict[str, Any] = {"sender": conversation_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        return list(await self._post("/webhooks/rest/webhook", body) or [])

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Append events to a conversation's tracker (e.g. ``resume``, slot resets, an agent's line)."""
        return await self._post(f"/conversations/{_segment(conversation_id)}/tracker/events", events)

    async def trigger_intent(
        self, conversation_id: str, intent: str, *, output_channel: str = "latest"
    ) -> list[dict[str, Any]]:
        """Run the bot as if the customer had expressed ``intent``; returns the bot's messages."""
        result = await self._post(
            f"/conversations/{_segment(conversation_id)}/trigger_intent",
            {"name": intent, "entities": {}},
            output_channel=output_channel,
        )
        return list((result or {}).get("messages") or [])
