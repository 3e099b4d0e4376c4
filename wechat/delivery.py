"""Sending to a customer outside a passive reply: the customer-service API, its window, the outbox.

WeChat accepts customer-service messages for 48 hours after the customer's last message, and only
a few of them (``WECHAT_WINDOW_MESSAGES``, 5 by default) per message the customer sends.
``ServiceWindow`` tracks both in the shared store, so a message that would be refused is not even
tried; one refused anyway (45015, 45047) or not sent (API unreachable) goes to the outbox with the
reason, and the agent sees it there. Used by the channel (slow bot answers, agent lines during a
handoff, the bot's lines triggered by the desk) and by the desk. No Rasa imports.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Protocol

from common.db import StoreUnavailable
from common.settings import Settings
from wechat.api import (
    CustomerServiceClient,
    Inbound,
    NoCustomerServiceApi,
    WeChatApiError,
    WeChatConfig,
)
from wechat.outbox import Outbox
from wechat.stores import KeyValueStore, make_store

logger = logging.getLogger(__name__)


class Sender(Protocol):
    async def send_text(self, openid: str, text: str) -> None: ...


class Delivery(str, enum.Enum):
    SENT = "sent"
    HELD = "held"


FLUSH_LOCK_TTL_S = 60.0  # longer than a flush takes; a lock left by a stopped process expires


# What WeChat counts as a customer interaction that opens the 48-hour customer-service window
# (客服消息 documentation, "允许的动作列表"): the customer sends a message (any type: text, image,
# voice, video, location, link, ...), subscribes, clicks a custom-menu button of the kinds that
# push an event (click, scancode_push, scancode_waitmsg), or scans a QR code (scan). Conservative:
# anything else does not open it (unsubscribe, VIEW link clicks, periodic LOCATION reports, template
# job reports, photo and location-picker menus), so nothing is sent that WeChat would refuse, and
# held messages are not sent to someone who has just unsubscribed.
WINDOW_EVENTS = frozenset({"subscribe", "click", "scancode_push", "scancode_waitmsg", "scan"})


def opens_window(inbound: Inbound) -> bool:
    if inbound.msg_type == "event":
        return inbound.event in WINDOW_EVENTS
    return True


class ServiceWindow:
    def __init__(
        self, store: KeyValueStore, *, hours: int = 48, messages: int = 5, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self._store = store
        self._ttl = hours * 3600.0
        self._limit = messages
        self._clock = clock

    async def opened(self, openid: str) -> None:
        """The customer wrote: the window starts again, with a fresh message allowance."""
        await self._store.set(f"window:{openid}", str(self._clock()), self._ttl)
        await self._store.delete(f"window-count:{openid}")

    async def take(self, openid: str) -> bool:
        """Use one message of the allowance; False when the window is closed or used up."""
        if await self._store.get(f"window:{openid}") is None:
            return False
        return await self._store.incr(f"window-count:{openid}", self._ttl) <= self._limit

    async def refusal(self, openid: str) -> str:
        """Why ``take`` said no: ``window_closed`` (48 hours passed, or the customer never wrote) or
        ``window_used_up`` (the allowance per customer message is spent)."""
        try:
            opened = await self._store.get(f"window:{openid}")
        except StoreUnavailable:
            return "window_closed"
        return "window_closed" if opened is None else "window_used_up"


class WeChatDelivery:
    def __init__(self, sender: Sender, window: ServiceWindow, outbox: Outbox) -> None:
        self._sender = sender
        self._window = window
        self._outbox = outbox

    async def _send(self, openid: str, text: str) -> str | None:
        """None when sent, else the reason it was not."""
        try:
            if not await self._window.take(openid):
                return await self._window.refusal(openid)
        except StoreUnavailable as exc:  # the window is unknown: WeChat itself refuses (45015/45047)
            logger.warning("wechat window unknown for openid=%s (%s); sending anyway", openid, exc)
        try:
            await self._sender.send_text(openid, text)
        except WeChatApiError as exc:
            return f"errcode_{exc.code}"
        return None

    async def deliver(self, openid: str, text: str, *, source: str = "bot") -> Delivery:
        reason = await self._send(openid, text)
        if reason is None:
            return Delivery.SENT
        message_id = await self._outbox.hold(openid=openid, text=text, source=source, reason=reason)
        logger.warning("wechat message held for the agent (openid=%s, outbox=%s, reason=%s)", openid, message_id, reason)
        return Delivery.HELD

    async def flush(self, openid: str) -> int:
        """Send what is held for a customer who just wrote again; returns how many went out.

        One flush per customer at a time, in every process (a lock in the shared store): every
        inbound message starts one, and two quick messages would otherwise both send the same held
        rows. A flush that finds the lock taken does nothing; the running one sends them.
        """
        lock = f"flush:{openid}"
        if not await self._window.store.add(lock, str(time.time()), FLUSH_LOCK_TTL_S):
            return 0
        sent = 0
        try:
            for message in await self._outbox.held(openid):
                reason = await self._send(openid, message.text)
                if reason is not None:
                    await self._outbox.still_held(message.id, reason)
                    break
                await self._outbox.delivered(message.id)
                sent += 1
        finally:
            try:
                await self._window.store.delete(lock)
            except StoreUnavailable:  # it expires by itself
                logger.warning("wechat flush lock of openid=%s not released; it expires by itself", openid)
        return sent


def delivery_from_settings(settings: Settings) -> WeChatDelivery | None:
    """The delivery path as the desk builds it (None while WeChat is not configured)."""
    config = WeChatConfig.from_settings(settings)
    if config is None:
        return None
    store = make_store(redis_url=settings.redis_url, database_url=settings.database_url)
    sender: Sender = (
        CustomerServiceClient(config, store) if config.app_id and config.app_secret else NoCustomerServiceApi()
    )
    window = ServiceWindow(store, hours=config.window_hours, messages=config.window_messages)
    return WeChatDelivery(sender, window, Outbox.from_url(settings.database_url))
