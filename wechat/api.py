"""The WeChat Official Account protocol, without Rasa: request checks, crypto, replies, the API client.

Signatures, AES and XML are wechatpy's (``check_signature``, ``WeChatCrypto``, ``parse_message``,
``replies``); this module adds the checks WeChat leaves to the server (timestamp skew, body size,
XML without DTDs) and a small async customer-service client with a shared, single-flight token.

Exceptions (``WeChatError`` and below):

- ``BadRequest``       400: malformed XML, missing fields, undecryptable body, wrong mode.
- ``Forbidden``        403: signature mismatch, stale or future timestamp, replayed nonce.
- ``TooLarge``         413: body over the configured limit.
- ``WeChatApiError``   the API answered ``errcode != 0`` (``.code``; 45015 = outside the 48-hour
                       window, 45047 = too many customer-service messages) or could not be reached
                       (``.code == -1``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from common.settings import Settings
from wechat.stores import KeyValueStore

ERR_TOKEN_INVALID = frozenset({40001, 40014, 42001})
ERR_OUT_OF_WINDOW = 45015
ERR_TOO_MANY_MESSAGES = 45047
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class WeChatError(Exception):
    status = 500


class BadRequest(WeChatError):
    status = 400


class Forbidden(WeChatError):
    status = 403


class TooLarge(WeChatError):
    status = 413


class WeChatApiError(WeChatError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"WeChat API error {code}: {message}")
        self.code = code


@dataclass(frozen=True)
class WeChatConfig:
    token: str
    aes_key: str | None = None
    app_id: str | None = None
    app_secret: str | None = None
    mode: str = "plain"  # plain | compatible | safe
    api_base: str = "https://api.weixin.qq.com"
    reply_budget_s: float = 4.5
    max_skew_s: int = 300
    max_body_bytes: int = 65536
    window_hours: int = 48
    window_messages: int = 5
    # a message the channel could not take (store unavailable) is left unanswered this long after
    # it arrived: past WeChat's 5 s, so that WeChat retries it rather than showing an error
    unanswered_s: float = 5.5

    @classmethod
    def from_settings(cls, settings: Settings) -> WeChatConfig | None:
        """None when the channel is not configured (no ``WECHAT_TOKEN``)."""
        if not settings.wechat_token:
            return None
        return cls(
            token=settings.wechat_token,
            aes_key=settings.wechat_aes_key,
            app_id=settings.wechat_app_id,
            app_secret=settings.wechat_app_secret,
            mode=settings.wechat_mode,
            api_base=settings.wechat_api_base,
            reply_budget_s=settings.wechat_reply_budget_ms / 1000,
            max_skew_s=settings.wechat_max_skew_s,
            max_body_bytes=settings.wechat_max_body_bytes,
            window_hours=settings.wechat_window_hours,
            window_messages=settings.wechat_window_messages,
        )


@dataclass(frozen=True)
class Inbound:
    """One message or event from a customer, as the channel needs it."""

    msg_type: str  # text, image, voice, ..., event
    openid: str
    account: str  # ToUserName: the Official Account's id
    create_time: int
    msg_id: str | None
    content: str | None = None  # text, or speech recognition of a voice message
    event: str | None = None  # subscribe, click, view, ...
    event_key: str | None = None

    @property
    def dedup_key(self) -> str:
        """WeChat retries carry the same MsgId; events have none, so sender + CreateTime (+ event)."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.openid}:{self.create_time}:{self.event or self.msg_type}"


@dataclass(frozen=True)
class Opened:
    inbound: Inbound
    encrypted: bool
    nonce: str
    timestamp: str
    body_digest: str


class WeChatCodec:
    """Check, decrypt and parse requests; render (and encrypt) passive replies."""

    def __init__(self, config: WeChatConfig, *, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._clock = clock
        self._crypto = (
            WeChatCrypto(config.token, config.aes_key, config.app_id)
            if config.aes_key and config.app_id
            else None
        )

    def _check(self, query: Mapping[str, str]) -> tuple[str, str]:
        signature, timestamp, nonce = (query.get(k, "") for k in ("signature", "timestamp", "nonce"))
        if not (signature and timestamp and nonce):
            raise Forbidden("signature, timestamp and nonce are required")
        try:
            check_signature(self._config.token, signature, timestamp, nonce)
        except InvalidSignatureException as exc:
            raise Forbidden("invalid signature") from exc
        try:
            skew = abs(self._clock() - int(timestamp))
        except ValueError as exc:
            raise Forbidden("timestamp is not a number") from exc
        if skew > self._config.max_skew_s:
            raise Forbidden(f"timestamp off by {int(skew)} s (limit {self._config.max_skew_s} s)")
        return timestamp, nonce

    def verify_url(self, query: Mapping[str, str]) -> str:
        """The GET handshake when the URL is saved in the console: echo ``echostr`` if signed."""
        self._check(query)
        return query.get("echostr", "")

    def open(self, query: Mapping[str, str], body: bytes) -> Opened:
        if len(body) > self._config.max_body_bytes:
            raise TooLarge(f"body of {len(body)} bytes (limit {self._config.max_body_bytes})")
        timestamp, nonce = self._check(query)
        if _DTD.search(body):
            raise BadRequest("XML with a DTD or entities is not accepted")
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if encrypted:
            if self._crypto is None or self._config.mode == "plain":
                raise BadRequest("encrypted message but the channel runs in plaintext mode")
            try:
                xml = self._crypto.decrypt_message(body, query.get("msg_signature", ""), timestamp, nonce)
            except InvalidSignatureException as exc:
                raise Forbidden("invalid msg_signature") from exc
            except InvalidAppIdException as exc:
                raise Forbidden("message for another AppID") from exc
            except Exception as exc:  # xmltodict/base64/padding errors of a malformed envelope
                raise BadRequest(f"undecryptable message ({type(exc).__name__})") from exc
        elif self._config.mode == "safe":
            raise Forbidden("plaintext message but the channel runs in safe mode")
        else:
            try:
                xml = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadRequest("body is not UTF-8") from exc
        inbound = parse_inbound(xml)
        return Opened(inbound, encrypted, nonce, timestamp, hashlib.sha256(body).hexdigest())

    def reply(self, opened: Opened, text: str) -> str:
        """The passive reply XML (encrypted when the request was)."""
        # wechatpy writes text into CDATA as is: a "]]>" in it would end the section early
        safe_text = text.replace("]]>", "]]]]><![CDATA[>")
        xml = TextReply(
            source=opened.inbound.account, target=opened.inbound.openid, content=safe_text, time=int(self._clock())
        ).render()
        if opened.encrypted and self._crypto is not None:
            return str(self._crypto.encrypt_message(xml, opened.nonce, str(int(self._clock()))))
        return str(xml)


def parse_inbound(xml: str | bytes) -> Inbound:
    try:
        message: BaseMessage = parse_message(xml)
        data: dict[str, Any] = dict(message._data)
    except Exception as exc:  # expat errors, a missing <xml> root or MsgType
        raise BadRequest(f"malformed XML ({type(exc).__name__})") from exc
    openid, account = data.get("FromUserName"), data.get("ToUserName")
    if not isinstance(openid, str) or not openid or not isinstance(account, str):
        raise BadRequest("FromUserName and ToUserName are required")
    try:
        create_time = int(data.get("CreateTime") or 0)
    except (TypeError, ValueError) as exc:
        raise BadRequest("CreateTime is not a number") from exc
    msg_type = str(data.get("MsgType") or "").lower()
    content = data.get("Content") if msg_type == "text" else data.get("Recognition")
    event = str(data["Event"]).lower() if msg_type == "event" and data.get("Event") else None
    return Inbound(
        msg_type=msg_type,
        openid=openid,
        account=account,
        create_time=create_time,
        msg_id=str(data["MsgId"]) if data.get("MsgId") else None,
        content=content if isinstance(content, str) else None,
        event=event,
        event_key=str(data["EventKey"]) if isinstance(data.get("EventKey"), str) else None,
    )


class AccessToken:
    """The access token, shared through the store, refreshed ``margin_s`` before it expires.

    One refresh at a time per process (an asyncio lock) and across processes (a store lock):
    a second process waits for the first one's token instead of fetching its own, which would
    invalidate the first one's token five minutes later.
    """

    def __init__(
        self,
        store: KeyValueStore,
        fetch: Callable[[], Any],
        *,
        app_id: str,
        margin_s: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._fetch = fetch  # async () -> (token, expires_in)
        self._key = f"token:{app_id}"
        self._margin = margin_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def _cached(self) -> str | None:
        raw = await self._store.get(self._key)
        if raw is None:
            return None
        token, _, expires = raw.rpartition("|")
        return token if float(expires) - self._margin > self._clock() else None

    async def get(self, *, stale: str | None = None) -> str:
        """A valid token; ``stale`` is one the API just refused (refresh even if cached)."""
        cached = await self._cached()
        if cached and cached != stale:
            return cached
        async with self._lock:
            cached = await self._cached()
            if cached and cached != stale:
                return cached
            for _ in range(100):
                if await self._store.add(self._key + ":lock", "1", 10):
                    try:
                        token, expires_in = await self._fetch()
                        self.fetches += 1
                        expires_at = self._clock() + float(expires_in)
                        await self._store.set(self._key, f"{token}|{expires_at}", float(expires_in))
                        return str(token)
                    finally:
                        await self._store.delete(self._key + ":lock")
                await asyncio.sleep(0.1)  # another process is refreshing: use its token
                cached = await self._cached()
                if cached and cached != stale:
                    return cached
            raise WeChatApiError(-1, "timed out waiting for another process to refresh the access token")


class CustomerServiceClient:
    """``/cgi-bin/token`` and ``/cgi-bin/message/custom/send``; ``api_base`` may be a simulator."""

    def __init__(self, config: WeChatConfig, store: KeyValueStore, *, timeout: float = 10.0) -> None:
        if not (config.app_id and config.app_secret):
            raise ValueError("WECHAT_APP_ID and WECHAT_APP_SECRET are needed for the customer-service API")
        self._config = config
        self._base = config.api_base.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.token = AccessToken(store, self._fetch_token, app_id=config.app_id)

    async def _call(self, method: str, path: str, *, params: dict[str, str], body: Any = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                async with session.request(
                    method, f"{self._base}{path}", params=params, data=data,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                ) as response:
                    payload = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise WeChatApiError(-1, f"{path}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(payload, dict):
            raise WeChatApiError(-1, f"{path}: unexpected answer")
        code = int(payload.get("errcode") or 0)
        if code:
            raise WeChatApiError(code, str(payload.get("errmsg", "")))
        return payload

    async def _fetch_token(self) -> tuple[str, int]:
        payload = await self._call(
            "GET", "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": str(self._config.app_id),
                    "secret": str(self._config.app_secret)},
        )
        return str(payload["access_token"]), int(payload.get("expires_in", 7200))

    async def send_text(self, openid: str, text: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        token = await self.token.get()
        try:
            await self._call("POST", "/cgi-bin/message/custom/send", params={"access_token": token}, body=body)
        except WeChatApiError as exc:
            if exc.code not in ERR_TOKEN_INVALID:
                raise
            token = await self.token.get(stale=token)  # revoked or expired early: refresh once, retry once
            await self._call("POST", "/cgi-bin/message/custom/send", params={"access_token": token}, body=body)


class NoCustomerServiceApi:
    """Stands in when WECHAT_APP_ID / WECHAT_APP_SECRET are not set: every send is held in the outbox."""

    async def send_text(self, openid: str, text: str) -> None:
        raise WeChatApiError(-1, "customer-service API not configured (WECHAT_APP_ID, WECHAT_APP_SECRET)")
