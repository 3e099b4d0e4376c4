"""Rasa's REST channel with the checks a public channel needs (``bot/credentials.yml``).

Same name (``rest``), URL (``/webhooks/rest/webhook``) and behaviour as ``rasa.core.channels.rest.
RestInput``; before a message reaches the assistant it is refused with

* 413 when the body is larger than ``MAX_BODY_BYTES``;
* 400 when the body is not a JSON object, or ``sender``/``message``/``input_channel`` are not
  strings, ``metadata`` is not an object, or the sender id is longer than 128 characters
  (Rasa would otherwise fail with a 500 deep inside, or store a line nobody can read back), or
  a text holds a lone surrogate or a NUL (no database stores them: the line would be lost);
* 429 when the sender has used up its budget (``common.ratelimit``; keyed by sender id);
* 403 when a caller without the Rasa API token uses a conversation id that only the server's own
  channels may use (``common.ids.ConversationId.reserved``: ``web-<customer>`` of a signed-in widget
  customer, ``wg-`` widget guests, ``wechat:<openid>``, and aliases such as ``rest:web-C000001`` or
  ``web:web-C000003``): those lines come only from the console's widget socket and the WeChat channel,
  which check the customer's signed token or WeChat's signature first. Without the token the body's
  ``input_channel`` is forced to ``rest`` and its ``metadata`` is dropped whole (nothing a stranger
  sends is kept in the tracker, masked or archived), so a public caller always chats as a guest of the
  ``rest`` channel and cannot speak as a customer.

Settings and the limiter are built on the first request, never at import.
"""

from __future__ import annotations

import hmac
from typing import Any

from rasa.core.channels.rest import RestInput
from sanic.exceptions import Forbidden, InvalidUsage, PayloadTooLarge, SanicException
from sanic.request import Request

from common.ids import ConversationId
from common.ratelimit import RateLimiter, limiter_from_settings
from common.settings import Settings, get_settings

SENDER_MAX = 128
MESSAGE_MAX = 4000  # characters; bigger lines are refused as too large


def _encodable(text: str) -> bool:
    # JSON may carry "\\ud800": Python decodes it to a lone surrogate that no database can store
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class TooManyRequests(SanicException):
    status_code = 429
    quiet = True


class GuardedRestInput(RestInput):
    """The REST channel, with size limits, input checks and a per-sender rate limit."""

    def __init__(self, settings: Settings | None = None, limiter: RateLimiter | None = None) -> None:
        self._settings = settings
        self._limiter = limiter
        self._limiter_built = limiter is not None

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GuardedRestInput:
        return cls()

    def _config(self) -> Settings:
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    def _rate_limiter(self) -> RateLimiter | None:
        if not self._limiter_built:
            self._limiter = limiter_from_settings(self._config(), prefix="ratelimit:rest:")
            self._limiter_built = True
        return self._limiter

    def _trusted(self, req: Request) -> bool:
        """The caller holds the Rasa API token (the console's widget socket does); no token set: all trusted."""
        token = self._config().rasa_token
        if not token:
            return True
        given = req.args.get("token") or ""
        return hmac.compare_digest(given.encode(), token.encode())

    async def _extract_sender(self, req: Request) -> str | None:
        # the first thing the channel's handler calls: every check happens here, before Rasa sees the line
        if len(req.body or b"") > self._config().max_body_bytes:
            raise PayloadTooLarge("request body too large")
        body = req.json
        if not isinstance(body, dict):
            raise InvalidUsage("the body must be a JSON object")
        sender, message = body.get("sender"), body.get("message")
        if sender is not None and (not isinstance(sender, str) or not 0 < len(sender) <= SENDER_MAX):
            raise InvalidUsage(f"sender must be a string of 1-{SENDER_MAX} characters")
        if not isinstance(message, str):
            raise InvalidUsage("message must be a string")
        if len(message) > MESSAGE_MAX:
            raise PayloadTooLarge("message too long")
        if "\x00" in message:  # no keyboard types NUL and PostgreSQL cannot store it: drop it, keep the line
            message = body["message"] = message.replace("\x00", "")
        if not _encodable(message) or not _encodable(sender or "") or "\x00" in (sender or ""):
            raise InvalidUsage("text must be valid Unicode (no lone surrogates)")
        if body.get("input_channel") is not None and not isinstance(body.get("input_channel"), str):
            raise InvalidUsage("input_channel must be a string")
        if body.get("metadata") is not None and not isinstance(body.get("metadata"), dict):
            raise InvalidUsage("metadata must be a JSON object")
        if not self._trusted(req):
            if sender is not None and ConversationId.reserved(sender):
                raise Forbidden("this conversation id belongs to a verified channel")
            body.pop("metadata", None)
            body["input_channel"] = self.name()
        limiter = self._rate_limiter()
        if limiter is not None and not await limiter.allow(sender or "default"):
            raise TooManyRequests("too many messages; please wait a moment")
        return sender
