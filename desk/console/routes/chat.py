"""The customer's web channel: one WebSocket per open chat window (``/chat/ws?sender=<conversation id>``).

Customer → assistant: ``{"text": "..."}`` is forwarded to Rasa's REST webhook with the conversation id
as sender, so Rasa stores every line (and stays silent while a human has the conversation); the
bot's replies come back as ``{"type": "message", "from": "bot", "text", "buttons"}``.
Agent → customer: lines published on the customer's topic (``desk.gateway.WebGateway``) are pushed
as ``{"type": "message", "from": "agent", ...}``.

This socket trusts the sender id it is given, so it is a development and test channel only: in
production it refuses every connection, and it never accepts the widget's identities (``web-…``
for signed-in customers, ``wg-…`` for guests) even in development. Customers use the widget's
``/widget/ws``, which verifies the shop's signed token. ``/chat/test`` is a bare page for trying it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

from common.ids import ConversationId
from desk.console.pages import render
from desk.gateway import OutboundMessage
from desk.live import conversation_topic, customer_topic
from desk.rasa_client import RasaUnavailable

logger = logging.getLogger(__name__)
router = APIRouter()
SENDER_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")
TEXT_MAX = 2000


def routers() -> list[APIRouter]:
    return [router]


@router.websocket("/chat/ws")
async def customer_socket(websocket: WebSocket, sender: str = "") -> None:
    production = websocket.app.state.services.settings.is_production
    if production or not SENDER_RE.match(sender) or ConversationId.reserved(sender):
        await websocket.close(code=1008)
        return
    services = websocket.app.state.services
    await websocket.accept()
    async with services.broker.subscribe(customer_topic(sender)) as subscription:

        async def push() -> None:
            while True:
                message = await subscription.next()
                if message is not None:
                    await websocket.send_json(message)

        pusher = asyncio.create_task(push())
        try:
            while True:
                try:
                    data = json.loads(await websocket.receive_text())
                except ValueError:
                    continue
                text = str(data.get("text") or "").strip()[:TEXT_MAX] if isinstance(data, dict) else ""
                if not text:
                    continue
                if services.limiter is not None and not await services.limiter.allow(sender):
                    await websocket.send_json({"type": "error", "code": "rate_limited"})
                    continue
                try:
                    replies = await services.rasa.send_message(sender, text)
                except RasaUnavailable:
                    logger.error("customer line not delivered to Rasa (conversation=%s)", sender)
                    await websocket.send_json({"type": "error", "code": "unavailable"})
                    continue
                # replies go through the customer's topic, so every open window of this chat shows them
                for reply in replies:
                    await services.gateways.send("web", sender, OutboundMessage.from_rasa(reply))
                await services.broker.publish(conversation_topic(sender), {"type": "transcript"})
                services.watcher.poke()  # this line may have queued a handoff
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pusher


@router.get("/chat/test", response_class=HTMLResponse)
async def customer_test_page(request: Request) -> HTMLResponse:
    if request.app.state.services.settings.is_production:
        raise HTTPException(status_code=404)
    return render(request, "chat_test.html")
