"""The embeddable web chat widget: its files, its WebSocket, and a demo shop page.

* ``GET /widget/widget.js``, ``/widget/strings.json`` … : the files in ``widget/`` (plain JS, no build
  step), with ``Cache-Control`` and an ETag (304 on ``If-None-Match``).
* ``WS /widget/ws``: one socket per open widget. Protocol (JSON frames):

  - widget → server, first frame: ``{"type": "hello", "token": str|null, "guest": str|null}``.
    A genuine token (``desk.widget_tokens``) makes the conversation the signed-in customer's own
    (``web-<customer_id>``, the web identity every customer has in ``profiles``); otherwise it is a
    guest conversation (``wg-`` + 32 hex digits, kept by the widget in localStorage; a new one is made
    when missing). A token that does not verify → guest, plus ``{"type": "notice", "code": "token_invalid"}``.
  - server → widget: ``{"type": "welcome", "identity": "customer"|"guest", "guest": id|null}``, then
    ``{"type": "history", "messages": [{"from", "text", "timestamp"}...], "buttons": [...]}`` (the
    transcript from the Rasa tracker, ``desk.transcripts``; buttons of the last bot line).
  - widget → server: ``{"type": "message", "id": "<idempotency key>", "text": "..."}``. A key seen
    before is acknowledged and not processed again, so a resend after a reconnect is harmless.
  - server → widget: ``{"type": "ack", "id", "duplicate"}``; ``{"type": "error", "code", "id"}``
    (``too_long``, ``unavailable``, ``bad_request``, ``rate_limited``: too many lines, resend later); and, for every window of the conversation,
    ``{"type": "typing", "on": bool}`` and ``{"type": "message", "from": "bot"|"agent"|"customer", ...}``.

  - widget → server: ``{"type": "my_data", "lang": "zh"|"en"}``: the customer's transparency report;
    server → widget: ``{"type": "my_data", "level", "lines": [...]}`` (masked; a guest's says nothing
    personal is used). Proactive messages waiting for a signed-in customer (``desk.care``) arrive as
    ``message`` frames with ``"proactive": kind`` right after the history.

  The server never renders text into HTML; the widget shows every line with ``textContent``.
* ``GET /demo/shop``: a demo shop page with the widget (development only: it signs tokens for anyone).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse, Response

from common.db import StoreUnavailable
from common.ids import WEB_GUEST_RE, ConversationId
from common.settings import ROOT
from desk.care import WebCourier
from desk.console.i18n import pick_language
from desk.gateway import OutboundMessage
from desk.live import conversation_topic, customer_topic
from desk.my_data import MyData
from desk.rasa_client import RasaUnavailable
from desk.transcripts import AGENT_SENT, read_events
from desk.widget_tokens import sign_token, verify_token
from profiles.segmentation import load_thresholds

logger = logging.getLogger(__name__)
router = APIRouter()

WIDGET_DIR = ROOT / "widget"
STRINGS_FILE = WIDGET_DIR / "strings.json"
FILE_RE = re.compile(r"^[a-z0-9_-]+\.(js|json|css|svg)$")
MEDIA_TYPES = {"js": "text/javascript; charset=utf-8", "json": "application/json", "css": "text/css",
               "svg": "image/svg+xml"}
CACHE_CONTROL = "public, max-age=3600"
GUEST_RE = WEB_GUEST_RE  # a widget guest's conversation id (common.ids)
MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TEXT_MAX = 2000  # characters of one customer line
SHOWN_MAX = 200  # characters of a quick reply's title, shown in the other windows instead of its payload
FRAME_MAX = 16_384  # bytes of one incoming frame
HELLO_TIMEOUT_S = 10.0
HISTORY_MAX = 200
SEEN_MAX = 20_000
# the demo cast (demo/seed.py DEMO_CAST), including the accessibility customer and the dormant one with a birthday
DEMO_CUSTOMERS = ("C000001", "C000002", "C000003", "C000004", "C000005", "C000006", "C000901", "C000902")


def routers() -> list[APIRouter]:
    return [router]


def customer_conversation(customer_id: str) -> str:
    """A signed-in customer's web conversation: their ``web`` channel identity (``demo.seed``)."""
    return str(ConversationId.web_customer(customer_id))


def new_guest_id() -> str:
    return str(ConversationId.new_web_guest())


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """The widget's zh/en interface wording (``widget/strings.json``)."""
    return json.loads(STRINGS_FILE.read_text(encoding="utf-8"))


class SeenMessages:
    """Idempotency keys of recent customer lines, per conversation (bounded; this process only)."""

    def __init__(self, limit: int = SEEN_MAX) -> None:
        self._keys: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._limit = limit

    def first_time(self, conversation_id: str, message_id: str) -> bool:
        key = (conversation_id, message_id)
        if key in self._keys:
            return False
        self._keys[key] = None
        while len(self._keys) > self._limit:
            self._keys.popitem(last=False)
        return True

    def forget(self, conversation_id: str, message_id: str) -> None:
        """Not processed after all (the assistant was unreachable): a resend may go through."""
        self._keys.pop((conversation_id, message_id), None)


def _seen(app: Any) -> SeenMessages:
    seen = getattr(app.state, "widget_seen", None)
    if seen is None:
        seen = app.state.widget_seen = SeenMessages()
    return seen


# --- files -------------------------------------------------------------------------------------


@router.get("/widget/{name}", include_in_schema=False)
async def widget_file(name: str, request: Request) -> Response:
    path = WIDGET_DIR / name
    if not FILE_RE.match(name) or not path.is_file():
        raise HTTPException(status_code=404)
    stat = path.stat()
    etag = '"' + hashlib.sha256(f"{name}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:20] + '"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Access-Control-Allow-Origin": "*",
               "X-Content-Type-Options": "nosniff"}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=MEDIA_TYPES[name.rsplit(".", 1)[1]], headers=headers)


# --- the socket ----------------------------------------------------------------------------------


def _titled(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A quick reply is stored as its payload (``/rate_service{...}``); show the button's title instead."""
    titles: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for event in events:
        buttons = (event.get("data") or {}).get("buttons") or [] if event.get("event") == "bot" else []
        if buttons:
            titles = {str(b.get("payload")): str(b.get("title")) for b in buttons}
        elif event.get("event") == "user":
            text, offered, titles = str(event.get("text") or ""), titles, {}
            if text.startswith("/"):
                if text not in offered:
                    continue  # an intent triggered by a channel, not typed by the customer
                event = {**event, "text": offered[text]}
        out.append(event)
    return out


async def _history(services: Any, conversation_id: str) -> dict[str, Any]:
    try:
        tracker = await services.rasa.tracker(conversation_id)
    except RasaUnavailable as exc:
        logger.warning("no history for the widget (conversation=%s): %s", conversation_id, exc)
        return {"type": "history", "messages": [], "buttons": [], "complete": False}
    events = _titled(list(tracker.get("events") or []))
    lines = [m.for_customer() for m in read_events(events)][-HISTORY_MAX:]  # display names, never sign-ins
    buttons: list[dict[str, str]] = []
    for event in reversed(events):  # quick replies still open: those of the last line, if the bot's
        if event.get("event") in ("user", "bot") and event.get("text"):
            metadata = event.get("metadata") or {}
            if event.get("event") == "bot" and metadata.get("sent_by") != AGENT_SENT:
                message = {"buttons": (event.get("data") or {}).get("buttons") or []}
                buttons = list(OutboundMessage.from_rasa(message).buttons)
            break
    return {"type": "history", "messages": lines, "buttons": buttons, "complete": True}


async def _hello(websocket: WebSocket, secret: str) -> tuple[str, bool, str | None, bool] | None:
    """(conversation id, signed in, guest id, token refused) from the widget's first frame."""
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT_S)
        hello = json.loads(raw) if len(raw) <= FRAME_MAX else None
    except (asyncio.TimeoutError, ValueError):
        return None
    if not isinstance(hello, dict) or hello.get("type") != "hello":
        return None
    token = hello.get("token")
    check = verify_token(token if isinstance(token, str) else None, secret)
    if check.customer_id is not None:
        return customer_conversation(check.customer_id), True, None, False
    guest = hello.get("guest")
    guest = guest if isinstance(guest, str) and ConversationId.is_web_guest_id(guest) else new_guest_id()
    return guest, False, guest, bool(token)


async def _needs_large_text(services: Any, conversation_id: str) -> bool:
    """A signed-in customer who declared an accessibility need gets the larger-text mode by default."""
    profiles = getattr(services, "profiles", None)
    customer_id = ConversationId.parse(conversation_id).customer_id
    if profiles is None or not customer_id:
        return False
    try:
        profile = await asyncio.to_thread(profiles.get_profile, customer_id)
    except StoreUnavailable:
        logger.warning("no profile for the widget's text size (conversation=%s)", conversation_id)
        return False
    return profile is not None and bool(profile.accessibility)


@router.websocket("/widget/ws")
async def widget_socket(websocket: WebSocket) -> None:
    services = websocket.app.state.services
    await websocket.accept()
    hello = await _hello(websocket, services.settings.widget_token_secret)
    if hello is None:
        await websocket.close(code=1008)
        return
    conversation_id, signed_in, guest, refused = hello
    seen = _seen(websocket.app)
    topic = customer_topic(conversation_id)
    async with services.broker.subscribe(topic) as subscription:
        welcome: dict[str, Any] = {"type": "welcome", "identity": "customer" if signed_in else "guest",
                                   "guest": guest}
        if signed_in and await _needs_large_text(services, conversation_id):
            welcome["large_text"] = True  # the widget turns larger text on unless the customer chose otherwise
        await websocket.send_json(welcome)
        if refused:
            await websocket.send_json({"type": "notice", "code": "token_invalid"})
        await websocket.send_json(await _history(services, conversation_id))
        if signed_in:
            await _courier(services).deliver(conversation_id)  # proactive messages held until now

        async def push() -> None:
            while True:
                message = await subscription.next()
                if message is not None:
                    await websocket.send_json(message)

        pusher = asyncio.create_task(push())
        metadata: dict[str, Any] = {"channel": "web", "signed_in": signed_in}
        if signed_in:
            metadata["customer_id"] = ConversationId.parse(conversation_id).customer_id
        try:
            while True:
                raw = await websocket.receive_text()
                reply = await _customer_line(services, seen, conversation_id, topic, raw, metadata)
                if reply is not None:
                    await websocket.send_json(reply)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pusher


async def _customer_line(
    services: Any, seen: SeenMessages, conversation_id: str, topic: str, raw: str, metadata: dict[str, Any]
) -> dict[str, Any] | None:
    """Forward one customer line to Rasa (once per idempotency key); the answer for this socket."""
    if len(raw.encode()) > FRAME_MAX:
        return {"type": "error", "code": "too_long", "id": None}  # not even parsed
    try:
        data = json.loads(raw)
    except ValueError:
        return {"type": "error", "code": "bad_request", "id": None}
    if isinstance(data, dict) and data.get("type") == MY_DATA:
        return await _my_data(services, conversation_id, data.get("lang"))
    if not isinstance(data, dict) or data.get("type") != "message":
        return None if isinstance(data, dict) and data.get("type") == "ping" else {
            "type": "error", "code": "bad_request", "id": None}
    message_id = data.get("id")
    if not isinstance(message_id, str) or not MESSAGE_ID_RE.match(message_id):
        return {"type": "error", "code": "bad_request", "id": None}
    text = data.get("text")
    if isinstance(text, str) and len(text) > TEXT_MAX:
        return {"type": "error", "code": "too_long", "id": message_id}
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return {"type": "error", "code": "bad_request", "id": message_id}
    if services.limiter is not None and not await services.limiter.allow(conversation_id):
        return {"type": "error", "code": "rate_limited", "id": message_id}  # not seen: a later resend goes through
    if not seen.first_time(conversation_id, message_id):
        return {"type": "ack", "id": message_id, "duplicate": True}
    # every window of this conversation shows the line and the typing indicator; a quick reply is sent
    # as its payload (/rate_service{...}) and shown as the button's title the widget clicked
    shown = data.get("shown")
    if not (text.startswith("/") and isinstance(shown, str) and 0 < len(shown.strip()) <= SHOWN_MAX):
        shown = text
    await services.broker.publish(topic, {"type": "message", "from": "customer", "text": shown.strip(),
                                          "id": message_id, "buttons": []})
    await services.broker.publish(topic, {"type": "typing", "on": True})
    try:
        replies = await services.rasa.send_message(conversation_id, text, metadata={**metadata, "message_id": message_id})
    except RasaUnavailable:
        logger.error("widget line not delivered to Rasa (conversation=%s)", conversation_id)
        seen.forget(conversation_id, message_id)
        await services.broker.publish(topic, {"type": "typing", "on": False})
        return {"type": "error", "code": "unavailable", "id": message_id}
    for reply in replies:
        await services.gateways.send("web", conversation_id, OutboundMessage.from_rasa(reply))
    await services.broker.publish(topic, {"type": "typing", "on": False})
    await services.broker.publish(conversation_topic(conversation_id), {"type": "transcript"})
    services.watcher.poke()  # this line may have queued a handoff
    return {"type": "ack", "id": message_id, "duplicate": False}


# --- proactive care and the customer's data panel ------------------------------------------------

MY_DATA = "my_data"  # widget → server: {"type": "my_data", "lang": "zh"|"en"}; the answer: the same type,
# {"level": off|low|medium|high, "lines": [...]}: the transparency report, masked (desk.my_data)


def _courier(services: Any) -> WebCourier:
    return WebCourier(services.care, services.broker, services.rasa,
                      poll_s=services.settings.care_web_poll_s)


async def care_courier(app: Any) -> None:
    """Hand waiting proactive messages to the widgets connected to this console (``desk.care``)."""
    while True:
        services = app.state.services
        try:
            await _courier(services).round()
        except Exception:  # the next round tries again
            logger.exception("care: delivery round failed")
        await asyncio.sleep(max(0.2, float(services.settings.care_web_poll_s)))


@lru_cache(maxsize=4)
def _my_data_reader(session_factory: Any, segments_file: str) -> MyData:
    return MyData(session_factory, load_thresholds(segments_file))


async def _my_data(services: Any, conversation_id: str, lang: Any) -> dict[str, Any]:
    language = lang if lang in ("zh", "en") else "zh"
    customer_id = ConversationId.parse(conversation_id).customer_id
    reader = _my_data_reader(services.care.session_factory, str(services.settings.segments_file))
    try:
        page = await asyncio.to_thread(reader.page, customer_id, language)
    except StoreUnavailable:
        return {"type": "error", "code": "unavailable", "id": None}
    return {"type": MY_DATA, "level": page.level, "lines": page.lines}


# --- the demo shop -------------------------------------------------------------------------------


@router.get("/demo/shop", response_class=HTMLResponse, include_in_schema=False)
async def demo_shop(request: Request, customer: str = "C000001", lang: str | None = None) -> HTMLResponse:
    """A shop page with the widget; ``?customer=C000003`` signs in another demo customer, ``guest``
    chats as a guest, ``expired`` passes an expired token (the widget says so and goes on as a guest)."""
    settings = request.app.state.services.settings
    if settings.is_production:
        raise HTTPException(status_code=404)
    language = pick_language(lang, request.headers.get("accept-language"))
    token = None
    if customer == "expired":
        token = sign_token("C000001", int(time.time()) - 3600, settings.widget_token_secret)
    elif customer in DEMO_CUSTOMERS:
        token = sign_token(customer, int(time.time()) + 3600, settings.widget_token_secret)
    html = request.app.state.templates.get_template("demo_shop.html").render(
        lang=language, lang_forced=lang in ("zh", "en"), s=strings()[language], token=token, customer=customer if token and customer in
        DEMO_CUSTOMERS else None, customers=DEMO_CUSTOMERS,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
