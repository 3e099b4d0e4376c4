"""Conversation ids: the one place that knows how each channel spells the sender id Rasa keys a tracker by.

* ``web-<customer_id>``: channel ``web``, external id ``web-<customer_id>`` (the profiles key);
  verified: the widget checked the shop's signed token;
* ``wg-<32 hex digits>``: channel ``web``, a widget guest (only the widget speaks for it);
* ``wechat:<openid>``: channel ``wechat``, external id ``<openid>``; verified: WeChat's signature;
* anything else: channel ``rest``, external id = the sender id, unchanged; a guest.

A sender id is parsed exactly once and never "cleaned up": ``rest:web-C000001`` or ``web:web-C000003``
are plain ``rest`` ids (external id = the whole string), so they can never reach a customer's profile.
``reserved`` ids (the first three kinds, and any id that names a channel before a colon) belong to the
console's widget socket and the WeChat channel; a caller without the Rasa API token may not use them.

    >>> ConversationId.parse("wechat:o-abc")
    ConversationId(channel='wechat', external_id='o-abc')
    >>> str(ConversationId.web_customer("C000001"))
    'web-C000001'
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

__all__ = ["CHANNELS", "WEB_GUEST_RE", "ConversationId"]

WEB, WECHAT, REST = "web", "wechat", "rest"
CHANNELS = (WEB, WECHAT, REST)

_WEB_CUSTOMER = "web-"
_WEB_GUEST = "wg-"
_WECHAT = "wechat:"
WEB_GUEST_RE = _WEB_GUEST_RE = re.compile(r"^wg-[0-9a-f]{32}$")
# "<channel>:" at the start (any case): a channel's name written as an alias, refused from the public
_CHANNEL_PREFIX_RE = re.compile(r"^\s*(?:web|wg|wechat|weixin|rest|socketio|widget|console)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class ConversationId:
    """A conversation's channel and the channel's own id for the customer (see the module's table)."""

    channel: str
    external_id: str

    # ------------------------------------------------------------------------------ building
    @classmethod
    def web_customer(cls, customer_id: str) -> ConversationId:
        """A signed-in widget customer's conversation (their ``web`` identity in ``profiles``)."""
        if not customer_id:
            raise ValueError("customer_id is empty")
        return cls(WEB, _WEB_CUSTOMER + customer_id)

    @classmethod
    def new_web_guest(cls) -> ConversationId:
        return cls(WEB, _WEB_GUEST + secrets.token_hex(16))

    @classmethod
    def wechat(cls, openid: str) -> ConversationId:
        if not openid:
            raise ValueError("openid is empty")
        return cls(WECHAT, openid)

    @classmethod
    def parse(cls, sender_id: str) -> ConversationId:
        """The id Rasa keys the tracker by → channel + external id (never fails; unknown → ``rest``)."""
        if sender_id.startswith(_WECHAT) and len(sender_id) > len(_WECHAT):
            return cls(WECHAT, sender_id[len(_WECHAT):])
        if (sender_id.startswith(_WEB_CUSTOMER) and len(sender_id) > len(_WEB_CUSTOMER)) or _WEB_GUEST_RE.match(
            sender_id
        ):
            return cls(WEB, sender_id)
        return cls(REST, sender_id)

    # ------------------------------------------------------------------------------ reading
    def __str__(self) -> str:
        return _WECHAT + self.external_id if self.channel == WECHAT else self.external_id

    @property
    def sender_id(self) -> str:
        return str(self)

    @property
    def customer_id(self) -> str | None:
        """The signed-in widget customer's id (``web-C000001`` → ``C000001``); None otherwise."""
        if self.channel == WEB and self.external_id.startswith(_WEB_CUSTOMER):
            return self.external_id[len(_WEB_CUSTOMER):]
        return None

    @property
    def openid(self) -> str | None:
        return self.external_id if self.channel == WECHAT else None

    @property
    def is_web_guest(self) -> bool:
        return self.channel == WEB and bool(_WEB_GUEST_RE.match(self.external_id))

    @property
    def verified(self) -> bool:
        """The id names a customer whose identity a channel checked (signed widget token, WeChat signature)."""
        return self.channel == WECHAT or self.customer_id is not None

    @staticmethod
    def is_web_guest_id(sender_id: str) -> bool:
        return bool(_WEB_GUEST_RE.match(sender_id))

    @staticmethod
    def reserved(sender_id: str) -> bool:
        """Only the server's own channels may use this id: a web/wechat spelling, or ``<channel>:`` aliases."""
        stripped = sender_id.strip()
        return (
            stripped.lower().startswith((_WEB_CUSTOMER, _WEB_GUEST, _WECHAT))
            or ConversationId.parse(stripped).channel != REST
            or bool(_CHANNEL_PREFIX_RE.match(stripped))
        )

    def as_tuple(self) -> tuple[str, str]:
        return self.channel, self.external_id
