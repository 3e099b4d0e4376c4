"""WeChatGateway: an agent's line to a WeChat customer during a handoff.

It goes through the customer-service API (``bot.connectors.wechat_delivery``): sent, or, outside the
48-hour window / over the allowance / with the API unreachable, kept in the ``wechat_outbox`` table;
the result tells the caller (the agent console) which. Recording the line in the transcript is the
caller's job (``RasaClient.append_events``), as for every channel.
"""

from __future__ import annotations

from bot.connectors.wechat_delivery import Delivery, WeChatDelivery, delivery_from_settings
from common.ids import ConversationId
from common.settings import Settings
from desk.errors import DeskError



class NotAWeChatConversation(DeskError, ValueError):
    """The conversation id is not ``wechat:<openid>``."""


class WeChatGateway:
    channel = "wechat"

    def __init__(self, delivery: WeChatDelivery) -> None:
        self._delivery = delivery

    @classmethod
    def from_settings(cls, settings: Settings) -> "WeChatGateway | None":
        """None while WeChat is not configured (no ``WECHAT_TOKEN``)."""
        delivery = delivery_from_settings(settings)
        return None if delivery is None else cls(delivery)

    async def send(self, conversation_id: str, text: str, *, agent_id: str | None = None) -> Delivery:
        """Send ``text`` to the customer of ``wechat:<openid>``; ``Delivery.HELD``: it waits in the outbox."""
        openid = ConversationId.parse(conversation_id).openid
        if openid is None:
            raise NotAWeChatConversation(conversation_id)
        return await self._delivery.deliver(openid, text, source="agent")
