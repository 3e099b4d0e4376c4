"""A local stand-in for the WeChat server, for tests and ``bench/wechat_5s.py``.

Inbound: it builds message XML, signs it the way WeChat does (SHA-1 of the sorted token, timestamp
and nonce; in AES mode also ``msg_signature`` over the ciphertext), encrypts it in compatible or
safe mode (wechatpy's ``PrpCrypto``, the same AES-CBC + PKCS#7 + AppID envelope), posts it with a
5-second timeout and retries an unanswered request after 5 s, up to three times, with the
identical request (as WeChat does). It decrypts and checks passive replies.

Outbound: an aiohttp server on loopback serves ``/cgi-bin/token`` and
``/cgi-bin/message/custom/send`` and records every delivery. It enforces what WeChat enforces:
valid AppID/secret and access token (40001 otherwise), the 48-hour window since the customer's last
message (45015) and at most ``window_messages`` messages in it (45047). ``advance()`` moves its
clock; ``fail_next()`` injects error codes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import secrets
import socket
import string
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.crypto import PrpCrypto, WeChatCrypto


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(fields: dict[str, Any]) -> str:
    nodes = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}>{_cdata(str(v))}</{k}>" for k, v in fields.items()
    )
    return f"<xml>{nodes}</xml>"


@dataclass
class Attempt:
    status: int  # 0 when the 5-second timeout cut the connection
    body: str
    elapsed_s: float


@dataclass
class Exchange:
    """One message as WeChat sent it, with every try and the passive reply's text (None: none)."""

    fields: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    reply: str | None = None

    @property
    def answered(self) -> Attempt | None:
        return next((a for a in self.attempts if a.status), None)

    @property
    def answered_first_try_within(self) -> float:
        return self.attempts[0].elapsed_s if self.attempts and self.attempts[0].status else float("inf")


@dataclass(frozen=True)
class Delivery:
    openid: str
    text: str
    at: float


class WeChatSimulator:
    def __init__(
        self,
        *,
        token: str = "sim-token",
        aes_key: str | None = None,
        app_id: str = "wx0123456789abcdef",
        app_secret: str = "sim-secret",
        mode: str = "plain",  # plain | compatible | safe
        account: str = "gh_simulated",
        timeout_s: float = 5.0,
        retries: int = 3,
        token_ttl_s: int = 7200,
        window_hours: int = 48,
        window_messages: int = 5,
        port: int = 0,
    ) -> None:
        if mode != "plain" and not aes_key:
            raise ValueError("compatible and safe mode need an AES key")
        self.token, self.aes_key, self.app_id, self.app_secret = token, aes_key, app_id, app_secret
        self.mode, self.account = mode, account
        self.timeout_s, self.retries = timeout_s, retries
        self.token_ttl_s = token_ttl_s
        self.window_s = window_hours * 3600
        self.window_messages = window_messages
        self.deliveries: list[Delivery] = []
        self.refused: list[tuple[str, int]] = []
        self.token_fetches = 0
        self._tokens: dict[str, float] = {}
        self._last_inbound: dict[str, float] = {}
        self._sent_in_window: dict[str, int] = {}
        self._inject: list[int] = []
        self._offset = 0.0
        self._msg_ids = iter(range(random.randint(10**15, 10**16), 10**17))
        self._runner: web.AppRunner | None = None
        self.port = port

    # ------------------------------------------------------------------ clock and knobs
    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def fail_next(self, *codes: int) -> None:
        """The next customer-service sends answer these error codes, in order."""
        self._inject.extend(codes)

    def expire_tokens(self) -> None:
        self._tokens.clear()

    @staticmethod
    def aes_key_for_tests() -> str:
        return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(43))

    # ------------------------------------------------------------------ the API side
    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> WeChatSimulator:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        self.port = self.port or free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("grant_type") != "client_credential" or q.get("appid") != self.app_id:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if q.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.token_fetches += 1
        token = secrets.token_urlsafe(32)
        self._tokens[token] = self.now() + self.token_ttl_s
        return web.json_response({"access_token": token, "expires_in": self.token_ttl_s})

    async def _custom_send(self, request: web.Request) -> web.Response:
        expires = self._tokens.get(request.query.get("access_token", ""))
        if expires is None or expires < self.now():
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        try:
            body = json.loads((await request.read()).decode("utf-8"))
            openid, text = str(body["touser"]), str(body["text"]["content"])
            assert body["msgtype"] == "text"
        except Exception:
            return web.json_response({"errcode": 47001, "errmsg": "data format error"})
        code = self._inject.pop(0) if self._inject else 0
        last = self._last_inbound.get(openid)
        if not code and (last is None or self.now() - last > self.window_s):
            code = 45015
        if not code and self._sent_in_window.get(openid, 0) >= self.window_messages:
            code = 45047
        if code:
            self.refused.append((openid, code))
            return web.json_response({"errcode": code, "errmsg": "refused by the simulator"})
        self._sent_in_window[openid] = self._sent_in_window.get(openid, 0) + 1
        self.deliveries.append(Delivery(openid, text, time.monotonic()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # ------------------------------------------------------------------ the message side
    def text(self, openid: str, content: str, *, msg_id: int | None = None) -> dict[str, Any]:
        return self._fields(openid, "text", Content=content, MsgId=msg_id or next(self._msg_ids))

    def image(self, openid: str) -> dict[str, Any]:
        return self._fields(openid, "image", PicUrl="http://mmbiz.qpic.cn/sim.jpg", MediaId="media-1",
                            MsgId=next(self._msg_ids))

    def voice(self, openid: str, recognition: str | None = None) -> dict[str, Any]:
        extra = {"Recognition": recognition} if recognition else {}
        return self._fields(openid, "voice", MediaId="media-2", Format="amr", MsgId=next(self._msg_ids), **extra)

    def event(self, openid: str, event: str, key: str | None = None) -> dict[str, Any]:
        extra = {"EventKey": key} if key is not None else {}
        return self._fields(openid, "event", Event=event, **extra)

    def _fields(self, openid: str, msg_type: str, **extra: Any) -> dict[str, Any]:
        return {"ToUserName": self.account, "FromUserName": openid, "CreateTime": int(self.now()),
                "MsgType": msg_type, **extra}

    def signed(self, fields: dict[str, Any], *, timestamp: int | None = None,
               nonce: str | None = None) -> tuple[dict[str, str], bytes]:
        """Query string and body exactly as WeChat would post them."""
        ts = str(timestamp if timestamp is not None else int(self.now()))
        nonce = nonce or str(random.randint(10**8, 10**10))
        query = {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce,
                 "openid": str(fields["FromUserName"])}
        plain = message_xml(fields)
        if self.mode == "plain":
            return query, plain.encode("utf-8")
        assert self.aes_key
        import base64

        key = base64.b64decode(self.aes_key + "=")
        encrypt = PrpCrypto(key).encrypt(plain, self.app_id).decode()
        query.update(encrypt_type="aes", msg_signature=sign(self.token, ts, nonce, encrypt))
        if self.mode == "compatible":  # plaintext and ciphertext side by side
            body = plain.replace("</xml>", f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>")
        else:
            body = message_xml({"ToUserName": fields["ToUserName"], "Encrypt": encrypt})
        return query, body.encode("utf-8")

    def read_reply(self, query: dict[str, str], body: str) -> str | None:
        """The text of a passive reply (decrypted and signature-checked in AES mode); None for none."""
        if body.strip() in ("", "success"):
            return None
        if query.get("encrypt_type") == "aes":
            assert self.aes_key
            root = ET.fromstring(body)
            crypto = WeChatCrypto(self.token, self.aes_key, self.app_id)
            body = crypto.decrypt_message(
                body, root.findtext("MsgSignature"), root.findtext("TimeStamp"), root.findtext("Nonce")
            )
        root = ET.fromstring(body)
        assert root.findtext("MsgType") == "text", body
        assert root.findtext("ToUserName") == query.get("openid"), body
        return root.findtext("Content")

    async def post(self, url: str, query: dict[str, str], body: bytes,
                   *, timeout_s: float | None = None) -> Attempt:
        started = time.monotonic()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s or self.timeout_s)) as s:
                async with s.post(url, params=query, data=body, headers={"Content-Type": "text/xml"}) as r:
                    return Attempt(r.status, await r.text(), time.monotonic() - started)
        except asyncio.TimeoutError:
            return Attempt(0, "", time.monotonic() - started)

    async def send(self, url: str, fields: dict[str, Any], *, lose_first_after_s: float | None = None) -> Exchange:
        """Post one message as WeChat does: 5-second timeout, the identical request retried.

        ``lose_first_after_s`` cuts the first try's connection after that long, as a network
        failure would, so that the retry is what gets an answer.
        """
        self._last_inbound[str(fields["FromUserName"])] = self.now()
        self._sent_in_window[str(fields["FromUserName"])] = 0
        exchange = Exchange(fields)
        query, body = self.signed(fields)
        for n in range(1 + self.retries):
            cut = lose_first_after_s if n == 0 else None
            attempt = await self.post(url, query, body, timeout_s=cut)
            exchange.attempts.append(attempt)
            if attempt.status:
                if attempt.status == 200:
                    exchange.reply = self.read_reply(query, attempt.body)
                break
        return exchange
