"""ChannelGateway: an agent's line to a customer during a handoff, in the customer's channel.

WeChat lines go through the customer-service API (``bot.connectors.wechat_delivery``): sent, or,
outside the 48-hour window / over the allowance, kept in the outbox, and the caller (the agent
console) is told so by the result. Every line is also appended to the Rasa conversation, so the
transcript stays complete in one place. Web (socket.io) delivery belongs to the widget's piece.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.connectors.wechat_delivery import Delivery, WeChatDelivery
from desk.errors import DeskError

WECHAT_PREFIX = "wechat:"


class ChannelUnavailable(DeskError):
    """The conversation's channel is not configured here."""


class Transcript(Protocol):
    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> Any: ...


class ChannelGateway:
    def __init__(self, *, transcript: Transcript, wechat: WeChatDelivery | None) -> None:
        self._transcript = transcript
        self._wechat = wechat

    async def send(self, conversation_id: str, text: str, *, agent_id: str) -> Delivery:
        """Send ``text`` from ``agent_id``; ``Delivery.HELD`` means it waits in the outbox."""
        if not conversation_id.startswith(WECHAT_PREFIX):
            raise ChannelUnavailable(f"no agent delivery for {conversation_id!r} yet (web widget: next piece)")
        if self._wechat is None:
            raise ChannelUnavailable("WeChat is not configured (WECHAT_TOKEN)")
        result = await self._wechat.deliver(conversation_id[len(WECHAT_PREFIX):], text, source="agent")
        await self._transcript.append_events(
            conversation_id,
            [{"event": "bot", "text": text, "metadata": {"agent_id": agent_id, "delivery": result.value}}],
        )
        return result
