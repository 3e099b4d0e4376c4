"""Sign in, sign out, language switch; failed sign-ins are throttled so that a stranger cannot lock anyone out.

``LoginThrottle`` counts *failed* sign-ins in a sliding window (``LOGIN_FAILURE_WINDOW_MINUTES``) under
three keys, and answers 429 (with ``Retry-After``, without checking the password) while one is full:

* the (username, client address) pair, ``LOGIN_MAX_FAILURES_PER_USER``: a guesser at one address waits,
  the owner signing in from anywhere else does not; a successful sign-in clears the pair;
* the client address, ``LOGIN_MAX_FAILURES_PER_IP``, whatever usernames it tries;
* the username from any address, ten times the pair limit (a guesser spread over many addresses):
  new addresses are slowed, but an address the user signed in from within the window still passes.

So wrong passwords sent by someone else only ever slow that someone else (and, in the distributed case,
strangers' addresses). The client address is the connection's; behind the proxy uvicorn takes it from
``X-Forwarded-For`` only for the addresses in ``FORWARDED_ALLOW_IPS`` (docker-compose.yml: nginx's, and
nginx overwrites that header with the address it sees). ``common.ratelimit``'s token buckets charge every
request and cannot be cleared, so sign-in keeps its own counts: in the console process (``LoginThrottle``,
the embedded default), or in Redis when ``REDIS_URL`` is set (``RedisLoginThrottle``: every replica
behind the proxy counts the same failures; while Redis is out of reach each replica keeps its own).
``login_throttle_from_settings`` picks one; the route uses their common async methods (``wait_s``,
``record_failure``, ``record_success``).

Outside development the published demo passwords (``desk.console.users.DEMO_USERS``) are refused (403).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import secrets
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from common.settings import Settings
from desk.console.deps import AGENT_ONLY, SESSION_COOKIE, CurrentAgent, ServicesDep
from desk.console.i18n import LANG_COOKIE, LANGUAGES
from desk.console.pages import render
from desk.console.users import DEMO_PASSWORDS

LOGIN_CSRF_COOKIE = "login_csrf"
ANYWHERE_FACTOR = 10  # failures for one username from any address, as a multiple of the pair limit
KNOWN_PER_USER = 20  # addresses remembered per user (recent successful sign-ins)
logger = logging.getLogger(__name__)


class SignInThrottle(Protocol):
    async def wait_s(self, username: str, ip: str) -> int:
        """0 when this attempt may go ahead, else the seconds until it may."""
        ...

    async def record_failure(self, username: str, ip: str) -> None: ...

    async def record_success(self, username: str, ip: str) -> None: ...


class LoginThrottle:
    def __init__(
        self, *, per_user: int, per_ip: int, window_s: float, per_user_anywhere: int | None = None,
        max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        anywhere = per_user * ANYWHERE_FACTOR if per_user_anywhere is None else per_user_anywhere
        self._limits = {"pair": per_user, "ip": per_ip, "user": anywhere}  # 0 = no limit of that kind
        self._window = window_s
        self._max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()  # key -> failure times
        self._known: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()  # user -> address -> last success

    @staticmethod
    def _user(username: str) -> str:
        return username.strip().lower()

    def _keys(self, username: str, ip: str) -> dict[str, str]:
        user = self._user(username)
        return {"pair": f"pair:{user}\n{ip}", "ip": "ip:" + ip, "user": "user:" + user}

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key) or deque()
        while stamps and now - stamps[0] >= self._window:
            stamps.popleft()
        return stamps

    def _known_address(self, username: str, ip: str, now: float) -> bool:
        seen = (self._known.get(self._user(username)) or {}).get(ip)
        return seen is not None and now - seen < self._window

    def retry_after(self, username: str, ip: str) -> int:
        """0 when this attempt may go ahead, else the seconds until it may."""
        now, wait = self._clock(), 0.0
        for kind, key in self._keys(username, ip).items():
            limit = self._limits[kind]
            if limit <= 0 or (kind == "user" and self._known_address(username, ip, now)):
                continue
            stamps = self._recent(key, now)
            if len(stamps) >= limit:
                wait = max(wait, stamps[len(stamps) - limit] + self._window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, username: str, ip: str) -> None:
        now = self._clock()
        for kind, key in self._keys(username, ip).items():
            if self._limits[kind] <= 0:
                continue
            stamps = self._recent(key, now)
            stamps.append(now)
            self._failures.pop(key, None)
            self._failures[key] = stamps  # most recent last: the least recent is dropped first
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, username: str, ip: str) -> None:
        """The right password from ``ip``: that pair starts afresh, and the address is known for the user."""
        user = self._user(username)
        self._failures.pop(self._keys(username, ip)["pair"], None)
        known = self._known.pop(user, None) or OrderedDict()
        known.pop(ip, None)
        known[ip] = self._clock()
        while len(known) > KNOWN_PER_USER:
            known.popitem(last=False)
        self._known[user] = known
        while len(self._known) > self._max_keys:
            self._known.popitem(last=False)

    async def wait_s(self, username: str, ip: str) -> int:
        return self.retry_after(username, ip)

    async def record_failure(self, username: str, ip: str) -> None:
        self.failed(username, ip)

    async def record_success(self, username: str, ip: str) -> None:
        self.succeeded(username, ip)


class RedisLoginThrottle:
    """``LoginThrottle``'s rules with the counts in Redis, shared by every console replica.

    Each key's failures are a sorted set of times (``prefix + "f:" + key``, kept for one window and
    at most ``MAX_STAMPS`` entries); a user's known addresses a sorted set address -> last success
    (``prefix + "k:" + user``, the ``KNOWN_PER_USER`` most recent). Times are wall-clock seconds, the
    same on every replica. While Redis cannot be reached an in-process ``LoginThrottle`` with the same
    limits decides (logged once a minute at most): sign-in stays throttled, per replica.
    """

    MAX_STAMPS = 1000

    def __init__(
        self, url: str, *, per_user: int, per_ip: int, window_s: float, per_user_anywhere: int | None = None,
        prefix: str = "login:", client: Any | None = None, clock: Callable[[], float] = time.time,
    ) -> None:
        anywhere = per_user * ANYWHERE_FACTOR if per_user_anywhere is None else per_user_anywhere
        self._limits = {"pair": per_user, "ip": per_ip, "user": anywhere}
        self._window = window_s
        self._url = url
        self._prefix = prefix
        self._client = client
        self._clock = clock
        self._fallback = LoginThrottle(per_user=per_user, per_ip=per_ip, window_s=window_s,
                                       per_user_anywhere=anywhere, max_keys=50_000)
        self._warned_at = float("-inf")

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio as redis_asyncio

            self._client = redis_asyncio.from_url(self._url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return self._client

    def _keys(self, username: str, ip: str) -> dict[str, str]:
        user = LoginThrottle._user(username)
        return {"pair": f"{self._prefix}f:pair:{user}\n{ip}", "ip": f"{self._prefix}f:ip:{ip}",
                "user": f"{self._prefix}f:user:{user}"}

    def _known_key(self, username: str) -> str:
        return f"{self._prefix}k:{LoginThrottle._user(username)}"

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at >= 60:
            self._warned_at = now
            logger.warning("sign-in throttle: Redis unavailable (%s); this replica's own counts apply",
                           type(exc).__name__)

    async def wait_s(self, username: str, ip: str) -> int:
        now = self._clock()
        keys = {kind: key for kind, key in self._keys(username, ip).items() if self._limits[kind] > 0}
        try:
            pipe = self._redis().pipeline(transaction=False)
            for key in keys.values():
                pipe.zremrangebyscore(key, "-inf", now - self._window)
                pipe.zrange(key, 0, -1, withscores=True)
            pipe.zscore(self._known_key(username), ip)
            results = await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - Redis out of reach: this replica's counts decide
            self._warn(exc)
            return self._fallback.retry_after(username, ip)
        seen = results[-1]
        known = seen is not None and now - float(seen) < self._window
        wait = 0.0
        for n, kind in enumerate(keys):
            limit = self._limits[kind]
            if kind == "user" and known:
                continue
            stamps = [score for _, score in results[2 * n + 1]]
            if len(stamps) >= limit:
                wait = max(wait, stamps[len(stamps) - limit] + self._window - now)
        return math.ceil(wait) if wait > 0 else 0

    async def record_failure(self, username: str, ip: str) -> None:
        now = self._clock()
        try:
            pipe = self._redis().pipeline(transaction=True)
            for kind, key in self._keys(username, ip).items():
                if self._limits[kind] <= 0:
                    continue
                pipe.zadd(key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
                pipe.zremrangebyrank(key, 0, -self.MAX_STAMPS - 1)
                pipe.expire(key, max(math.ceil(self._window), 1))
            await pipe.execute()
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)
            self._fallback.failed(username, ip)

    async def record_success(self, username: str, ip: str) -> None:
        now = self._clock()
        known = self._known_key(username)
        try:
            pipe = self._redis().pipeline(transaction=True)
            pipe.delete(self._keys(username, ip)["pair"])
            pipe.zadd(known, {ip: now})
            pipe.zremrangebyrank(known, 0, -KNOWN_PER_USER - 1)
            pipe.expire(known, max(math.ceil(self._window), 1))
            await pipe.execute()
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)
            self._fallback.succeeded(username, ip)


def login_throttle_from_settings(settings: Settings) -> SignInThrottle:
    """Counts in Redis when ``REDIS_URL`` is set (several console replicas), else in this process."""
    limits: dict[str, Any] = dict(per_user=settings.login_max_failures_per_user,
                                  per_ip=settings.login_max_failures_per_ip,
                                  window_s=settings.login_failure_window_minutes * 60)
    if settings.redis_url:
        return RedisLoginThrottle(settings.redis_url, **limits)
    return LoginThrottle(**limits)


public = APIRouter()
signed = APIRouter(dependencies=AGENT_ONLY)


def routers() -> list[APIRouter]:
    return [public, signed]


def _safe_next(url: str | None) -> str:
    # only local paths: never redirect a signed-in agent to another site
    if not url or not url.startswith("/") or url.startswith("//") or urlparse(url).netloc:
        return "/"
    return url


def login_page_response(
    request: Request, *, status_code: int = 200, error: str | None = None, next_url: str = "/"
) -> Response:
    """The sign-in form, with a fresh token for the form (double-submit cookie against login CSRF)."""
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", status_code=status_code, error=error, next_url=_safe_next(next_url), login_csrf=token
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", path="/login",
                        secure=request.app.state.services.settings.console_secure_cookies)
    return response


@public.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return login_page_response(request, next_url=_safe_next(next))


@public.post("/login")
async def login(
    request: Request,
    services: ServicesDep,
    username: str = Form(...),
    password: str = Form(...),
    csrf_token: str = Form(""),
    next: str = Form("/"),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), csrf_token.encode("utf-8", "surrogatepass")):
        return login_page_response(request, status_code=403, error="bad_login", next_url=_safe_next(next))
    throttle: SignInThrottle = request.app.state.login_throttle
    ip = request.client.host if request.client else ""
    wait = await throttle.wait_s(username, ip)
    if wait:
        response = login_page_response(request, status_code=429, error="login_throttled", next_url=_safe_next(next))
        response.headers["Retry-After"] = str(wait)
        return response
    if password in DEMO_PASSWORDS and not services.settings.is_development:
        await throttle.record_failure(username, ip)  # published: anyone may know it, so it never signs in here
        return login_page_response(request, status_code=403, error="demo_password_refused",
                                   next_url=_safe_next(next))
    agent = await asyncio.to_thread(services.agents.authenticate, username, password)
    if agent is None:
        await throttle.record_failure(username, ip)
        return login_page_response(request, status_code=401, error="bad_login", next_url=_safe_next(next))
    await throttle.record_success(username, ip)
    token, _session = await asyncio.to_thread(services.agents.start_session, agent.id)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
        secure=services.settings.console_secure_cookies, max_age=services.settings.console_session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@signed.post("/logout")
async def logout(request: Request, services: ServicesDep, who: CurrentAgent) -> Response:
    await asyncio.to_thread(services.agents.end_session, request.cookies.get(SESSION_COOKIE))
    await asyncio.to_thread(services.agents.go_offline, who.agent.id)  # signed out: offline
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@public.get("/lang/{code}")
async def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, samesite="lax", path="/", max_age=365 * 24 * 3600)
    return response
