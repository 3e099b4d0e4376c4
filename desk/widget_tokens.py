"""Signed customer tokens for the web chat widget: how a shop page says who its signed-in customer is.

The shop's server (which knows the customer is signed in) signs ``customer_id|expiry`` with the
shared secret ``WIDGET_TOKEN_SECRET`` (HMAC-SHA256) and puts the token in the host page::

    <script src="https://desk.example/widget/widget.js" data-token="C000001|1767225600|9f2c…" defer></script>

The token is ``customer_id|expiry|hex signature`` (expiry: Unix seconds). The console verifies it
when the widget connects; a missing, malformed, forged or expired token makes the chat a guest chat.
Pure functions, no I/O; the shop can copy ``sign_token`` (eight lines) into any language.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from enum import Enum

CUSTOMER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TOKEN_MAX = 256
CLOCK_SKEW_S = 60


class TokenProblem(str, Enum):
    MISSING = "missing"
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"


@dataclass(frozen=True)
class TokenCheck:
    customer_id: str | None
    problem: TokenProblem | None = None

    @property
    def valid(self) -> bool:
        return self.customer_id is not None


def _signature(customer_id: str, expiry: int, secret: str) -> str:
    return hmac.new(secret.encode(), f"{customer_id}|{expiry}".encode(), hashlib.sha256).hexdigest()


def sign_token(customer_id: str, expiry: int, secret: str) -> str:
    """The token for ``customer_id``, valid until ``expiry`` (Unix seconds)."""
    if not CUSTOMER_ID_RE.match(customer_id):
        raise ValueError(f"customer id {customer_id!r} has characters a token cannot carry")
    return f"{customer_id}|{int(expiry)}|{_signature(customer_id, int(expiry), secret)}"


def verify_token(token: str | None, secret: str, *, now: float | None = None) -> TokenCheck:
    """The customer id when ``token`` is genuine and unexpired; otherwise why not."""
    if not token:
        return TokenCheck(None, TokenProblem.MISSING)
    parts = token.split("|") if len(token) <= TOKEN_MAX else []
    if len(parts) != 3 or not CUSTOMER_ID_RE.match(parts[0]) or not parts[1].isdigit():
        return TokenCheck(None, TokenProblem.MALFORMED)
    customer_id, expiry, signature = parts[0], int(parts[1]), parts[2]
    if not hmac.compare_digest(signature.encode(), _signature(customer_id, expiry, secret).encode()):
        return TokenCheck(None, TokenProblem.BAD_SIGNATURE)
    if expiry + CLOCK_SKEW_S < (time.time() if now is None else now):
        return TokenCheck(None, TokenProblem.EXPIRED)
    return TokenCheck(customer_id)
