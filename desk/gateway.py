"""ChannelGateway: the agent console's channel router. It carries a line (an agent's reply, or the
bot's after a handoff) to the customer; the Rasa tracker keeps the transcript (the caller appends it).

* ``web`` and ``rest``: ``WebGateway`` publishes to the customer's live connection (``/chat/ws`` in
  the console, through ``desk.live``, so whichever replica holds the socket sends it). A REST client
  without a live connection gets no push; the line stays in the transcript.
* ``wechat``: ``WeChatChannel`` wraps ``desk.wechat_gateway.WeChatGateway`` (customer-service API;
  outside the 48-hour window the line waits in the outbox and ``send`` returns False). It is
  registered when WeChat is configured (``GatewayRouter.from_settings``).
* any other channel: ``register(channel, gateway)``; until then ``send`` raises ``ChannelUnavailable``.

``carries_bot_lines``: after a resolve, the bot's lines (the rating question) come back in Rasa's HTTP
answer for web/rest and must be pushed; the WeChat output channel inside Rasa sends them itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from common.settings import Settings
from desk.errors import DeskError
from desk.live import Broker, customer_topic

logger = logging.getLogger(__name__)


class ChannelUnavailable(DeskError):
    """No way to reach the customer on this channel."""


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    sender: str = "agent"  # agent | bot
    buttons: tuple[dict[str, str], ...] = field(default_factory=tuple)
    agent_id: str | None = None
    agent_name: str | None = None

    @classmethod
    def from_rasa(cls, message: Mapping[str, Any]) -> "OutboundMessage":
        """A bot message as Rasa's REST channel returns it (text, buttons)."""
        buttons = tuple(
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in message.get("buttons") or []
        )
        return cls(text=str(message.get("text") or ""), sender="bot", buttons=buttons)

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.sender, "text": self.text, "buttons": list(self.buttons), "agent": self.agent_name}


class ChannelGateway(Protocol):
    carries_bot_lines: bool

    async def send(self, conversation_id: str, message: OutboundMessage) -> bool:
        """True: delivered now; False: kept for later delivery (the channel's own outbox)."""


class WebGateway:
    """The web channel: push to the customer's live connection(s) through the broker."""

    carries_bot_lines = True

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    async def send(self, conversation_id: str, message: OutboundMessage) -> bool:
        await self._broker.publish(customer_topic(conversation_id), {"type": "message", **message.as_dict()})
        return True


class WeChatChannel:
    """Agent lines to WeChat customers through the customer-service API (desk.wechat_gateway)."""

    carries_bot_lines = False

    def __init__(self, gateway: Any) -> None:  # desk.wechat_gateway.WeChatGateway
        self._gateway = gateway

    async def send(self, conversation_id: str, message: OutboundMessage) -> bool:
        from desk.wechat_gateway import NotAWeChatConversation

        try:
            delivery = await self._gateway.send(conversation_id, message.text, agent_id=message.agent_id)
        except NotAWeChatConversation as exc:
            raise ChannelUnavailable(str(exc)) from exc
        return str(getattr(delivery, "value", delivery)) == "sent"


class GatewayRouter:
    """Picks the gateway by the conversation's channel."""

    def __init__(self, gateways: Mapping[str, ChannelGateway] | None = None) -> None:
        self._gateways: dict[str, ChannelGateway] = dict(gateways or {})

    @classmethod
    def with_web(cls, broker: Broker, extra: Mapping[str, ChannelGateway] | None = None) -> "GatewayRouter":
        web = WebGateway(broker)
        return cls({"web": web, "rest": web, **dict(extra or {})})

    @classmethod
    def from_settings(cls, settings: Settings, broker: Broker) -> "GatewayRouter":
        router = cls.with_web(broker)
        if settings.wechat_token:
            from desk.wechat_gateway import WeChatGateway  # only where WeChat is configured

            wechat = WeChatGateway.from_settings(settings)
            if wechat is not None:
                router.register("wechat", WeChatChannel(wechat))
        return router

    def register(self, channel: str, gateway: ChannelGateway) -> None:
        self._gateways[channel] = gateway

    def carries_bot_lines(self, channel: str) -> bool:
        gateway = self._gateways.get(channel)
        return bool(gateway is not None and gateway.carries_bot_lines)

    async def send(self, channel: str, conversation_id: str, message: OutboundMessage) -> bool:
        gateway = self._gateways.get(channel)
        if gateway is None:
            raise ChannelUnavailable(f"no gateway for channel {channel!r}")
        return await gateway.send(conversation_id, message)
