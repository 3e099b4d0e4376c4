"""WeChat Official Account channel for Rasa: ``POST/GET /webhooks/wechat/webhook``.

Registered in ``bot/credentials.yml`` as ``bot.connectors.wechat.WeChatInput``; configured by the
``WECHAT_*`` settings (``common/settings.py``, ``docs/wechat.md``). While ``WECHAT_TOKEN`` is empty
the webhook answers 503 and the rest of the assistant runs as before.

A message is checked and decoded by ``WeChatCodec`` (signature, timestamp, size, AES), its nonce is
checked against replays, and ``TurnRunner`` runs the bot turn under the 5-second rule (passive reply
or "success" + customer-service API, each message once). The customer is ``wechat:<openid>``, the
sender id ``actions.context`` and ``ProfileStore.resolve("wechat", openid)`` expect.
``WeChatOutput`` is what Rasa uses to speak in a WeChat conversation outside a customer's turn
(the desk's ``trigger_intent``, e.g. the rating request after a handoff).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.connectors.wechat_turns import RetryLater, TurnRunner
from common.db import StoreUnavailable
from common.ids import ConversationId
from common.settings import get_settings
from wechat.api import (
    CustomerServiceClient,
    Inbound,
    NoCustomerServiceApi,
    WeChatCodec,
    WeChatConfig,
    WeChatError,
)
from wechat.delivery import Sender, ServiceWindow, WeChatDelivery
from wechat.outbox import Outbox
from wechat.stores import KeyValueStore, make_store
from wechat.text import ButtonMemory, load_menu, render

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
def openid_of(recipient_id: str) -> str:
    return ConversationId.parse(recipient_id).openid or recipient_id


@dataclass
class WeChatParts:
    """What the channel is made of; built once, from settings unless given."""

    config: WeChatConfig
    store: KeyValueStore
    outbox: Outbox
    sender: Sender
    menu: dict[str, str]

    @cached_property
    def codec(self) -> WeChatCodec:
        return WeChatCodec(self.config)

    @cached_property
    def window(self) -> ServiceWindow:
        return ServiceWindow(self.store, hours=self.config.window_hours, messages=self.config.window_messages)

    @cached_property
    def delivery(self) -> WeChatDelivery:
        return WeChatDelivery(self.sender, self.window, self.outbox)

    @classmethod
    def from_settings(cls, config: WeChatConfig) -> WeChatParts:
        # the same pieces as wechat_delivery.delivery_from_settings, kept here because the channel
        # also needs the store (dedup, buttons) and the menu
        settings = get_settings()
        store = make_store(redis_url=settings.redis_url, database_url=settings.database_url)
        return cls(
            config=config,
            store=store,
            outbox=Outbox.from_url(settings.database_url),
            sender=(
                CustomerServiceClient(config, store)
                if config.app_id and config.app_secret
                else NoCustomerServiceApi()
            ),
            menu=load_menu(settings.wechat_menu_file),
        )


class WeChatOutput(OutputChannel):
    """Bot lines outside a customer's turn: through the customer-service API (or the outbox)."""

    def __init__(self, delivery: WeChatDelivery, buttons: ButtonMemory) -> None:
        self._delivery = delivery
        self._buttons = buttons

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        text, buttons = render([message])
        openid = openid_of(recipient_id)
        if buttons:
            await self._buttons.remember(openid, buttons)
        if text:
            await self._delivery.deliver(openid, text, source="bot")

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class WeChatInput(InputChannel):
    """WeChat Official Account: signed (and optionally encrypted) XML in, text out."""

    def __init__(self, config: WeChatConfig | None, *, parts: WeChatParts | None = None) -> None:
        self._config = config
        self._given_parts = parts
        self.turns: TurnRunner | None = None  # set when Rasa mounts the blueprint

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # settings come from the environment through common/settings.py (see bot/credentials.yml)
        return cls(WeChatConfig.from_settings(get_settings()))

    @cached_property
    def parts(self) -> WeChatParts:
        if self._given_parts is not None:
            return self._given_parts
        assert self._config is not None
        return WeChatParts.from_settings(self._config)

    def get_output_channel(self) -> OutputChannel | None:
        if self._config is None:
            return None
        return WeChatOutput(self.parts.delivery, ButtonMemory(self.parts.store))

    def runner(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> TurnRunner:
        async def run_bot(inbound: Inbound, text: str) -> list[dict[str, Any]]:
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    str(ConversationId.wechat(inbound.openid)),
                    input_channel=CHANNEL,
                    message_id=inbound.dedup_key,
                    metadata={"channel": CHANNEL, "wechat_msg_type": inbound.msg_type},
                )
            )
            return collector.messages

        assert self._config is not None
        return TurnRunner(
            run_bot,
            store=self.parts.store,
            delivery=self.parts.delivery,
            window=self.parts.window,
            menu=self.parts.menu,
            budget_s=self._config.reply_budget_s,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"wechat_webhook_{id(self)}", __name__)

        def turns() -> TurnRunner:
            if self.turns is None:
                self.turns = self.runner(on_new_message)
            return self.turns

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self._config else "not configured"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self._config is None:
                return response.text("wechat channel not configured (WECHAT_TOKEN)", status=503)
            try:
                return response.text(self.parts.codec.verify_url(_query(request)))
            except WeChatError as exc:
                logger.warning("wechat URL verification refused: %s", exc)
                return response.text(str(exc), status=exc.status)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            received_at = time.monotonic()
            if self._config is None:
                return response.text("wechat channel not configured (WECHAT_TOKEN)", status=503)
            codec = self.parts.codec
            try:
                opened = codec.open(_query(request), request.body or b"")
            except WeChatError as exc:
                logger.warning("wechat request refused (%s): %s", exc.status, exc)
                return response.text(str(exc), status=exc.status)
            runner = turns()
            try:
                if not await runner.ledger.nonce_ok(opened.nonce, opened.body_digest):
                    logger.warning("wechat request refused (403): replayed nonce %s", opened.nonce)
                    return response.text("replayed nonce", status=403)
                reply = await runner.handle(opened.inbound, received_at)
            except (StoreUnavailable, RetryLater) as exc:
                # not taken: no answer until WeChat has given up on this try, so that it retries
                # (the message text is not logged)
                logger.warning("wechat message %s left unanswered for WeChat to retry: %s",
                               opened.inbound.dedup_key, exc)
                await asyncio.sleep(max(0.0, received_at + self._config.unanswered_s - time.monotonic()))
                return response.text("temporarily unavailable", status=503)
            if not reply:
                return response.text("success")
            return response.text(codec.reply(opened, reply), content_type="application/xml; charset=utf-8")

        return webhook


def _query(request: Request) -> dict[str, str]:
    return {key: values[0] for key, values in request.args.items() if values}
