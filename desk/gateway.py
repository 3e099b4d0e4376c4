"""ChannelGateway: the agent console's channel router. It carries a line (an agent's reply, or the
bot's after a handoff) to the customer; the Rasa tracker keeps the transcript (the caller appends it).

* ``web`` and ``rest``: ``WebGateway`` publishes to the customer's live connection (``/chat/ws`` in
  the console, through ``desk.live``, so whichever replica holds the socket sends it). A REST client
  without a live connection gets no push; the line stays in the transcript.
* ``wechat``: ``WeChatGateway`` sends through the customer-service API (``wechat.delivery``); outside
  the 48-hour window, over the allowance or with the API unreachable the line waits in the
  ``wechat_outbox`` table and ``send`` returns False. It is registered when WeChat is configured
  (``GatewayRouter.from_settings``).
* any other channel: ``register(channel, gateway)``; until then ``send`` raises ``ChannelUnavailable``.

``carries_bot_lines``: after a resolve, the bot's lines (the rating question) come back in Rasa's HTTP
answer for web/rest and must be pushed; the WeChat output channel inside Rasa sends them itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from common.ids import ConversationId
from common.settings import Settings
from desk.errors import DeskError
from desk.live import Broker, customer_topic
from wechat.delivery import Delivery, WeChatDelivery, delivery_from_settings

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
    def from_rasa(cls, message: Mapping[str, Any]) -> OutboundMessage:
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


class NotAWeChatConversation(ChannelUnavailable, ValueError):
    """The conversation id is not ``wechat:<openid>``."""


class WeChatGateway:
    """Agent lines to WeChat customers: sent through the customer-service API or kept in the outbox."""

    channel = "wechat"
    carries_bot_lines = False

    def __init__(self, delivery: WeChatDelivery) -> None:
        self._delivery = delivery

    @classmethod
    def from_settings(cls, settings: Settings) -> WeChatGateway | None:
        """None while WeChat is not configured (no ``WECHAT_TOKEN``)."""
        delivery = delivery_from_settings(settings)
        return None if delivery is None else cls(delivery)

    async def deliver(self, conversation_id: str, text: str, *, agent_id: str | None = None) -> Delivery:
        """Send ``text`` to the customer of ``wechat:<openid>``; ``Delivery.HELD``: it waits in the outbox."""
        openid = ConversationId.parse(conversation_id).openid
        if openid is None:
            raise NotAWeChatConversation(conversation_id)
        return await self._delivery.deliver(openid, text, source="agent")

    async def send(self, conversation_id: str, message: OutboundMessage) -> bool:
        return await self.deliver(conversation_id, message.text, agent_id=message.agent_id) is Delivery.SENT


class GatewayRouter:
    """Picks the gateway by the conversation's channel."""

    def __init__(self, gateways: Mapping[str, ChannelGateway] | None = None) -> None:
        self._gateways: dict[str, ChannelGateway] = dict(gateways or {})

    @classmethod
    def with_web(cls, broker: Broker, extra: Mapping[str, ChannelGateway] | None = None) -> GatewayRouter:
        web = WebGateway(broker)
        return cls({"web": web, "rest": web, **dict(extra or {})})

    @classmethod
    def from_settings(cls, settings: Settings, broker: Broker) -> GatewayRouter:
        router = cls.with_web(broker)
        if settings.wechat_token:
            wechat = WeChatGateway.from_settings(settings)
            if wechat is not None:
                router.register("wechat", wechat)
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
