"""Sign in, sign out, language switch; failed sign-ins are throttled per username and per client address.

``LoginThrottle`` counts *failed* sign-ins in a sliding window (``LOGIN_FAILURE_WINDOW_MINUTES``): at
``LOGIN_MAX_FAILURES_PER_USER`` for a username, or ``LOGIN_MAX_FAILURES_PER_IP`` for a client address,
further attempts are answered 429 (with ``Retry-After``) without checking the password, until the oldest
failure leaves the window. A successful sign-in clears the username's count. (``common.ratelimit``'s
token buckets charge every request and cannot be asked without charging or be cleared, so sign-in keeps
this counter of its own; one console process holds it. Behind a proxy the client address is the one
uvicorn takes from ``X-Forwarded-For`` for the proxies in its ``FORWARDED_ALLOW_IPS``.)
"""

from __future__ import annotations

import asyncio
import hmac
import math
import secrets
import time
from collections import OrderedDict, deque
from typing import Callable
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from desk.console.deps import AGENT_ONLY, SESSION_COOKIE, CurrentAgent, ServicesDep
from desk.console.i18n import LANG_COOKIE, LANGUAGES
from desk.console.pages import render

LOGIN_CSRF_COOKIE = "login_csrf"


class LoginThrottle:
    def __init__(
        self, *, per_user: int, per_ip: int, window_s: float, max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"user": per_user, "ip": per_ip}  # 0 = no limit of that kind
        self._window = window_s
        self._max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()  # "user:<name>" / "ip:<addr>" -> times

    @staticmethod
    def _keys(username: str, ip: str) -> dict[str, str]:
        return {"user": "user:" + username.strip().lower(), "ip": "ip:" + ip}

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key) or deque()
        while stamps and now - stamps[0] >= self._window:
            stamps.popleft()
        return stamps

    def retry_after(self, username: str, ip: str) -> int:
        """0 when this attempt may go ahead, else the seconds until it may."""
        now, wait = self._clock(), 0.0
        for kind, key in self._keys(username, ip).items():
            limit = self._limits[kind]
            stamps = self._recent(key, now)
            if limit > 0 and len(stamps) >= limit:
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

    def succeeded(self, username: str) -> None:
        self._failures.pop(self._keys(username, "")["user"], None)


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
    throttle: LoginThrottle = request.app.state.login_throttle
    ip = request.client.host if request.client else ""
    wait = throttle.retry_after(username, ip)
    if wait:
        response = login_page_response(request, status_code=429, error="login_throttled", next_url=_safe_next(next))
        response.headers["Retry-After"] = str(wait)
        return response
    agent = await asyncio.to_thread(services.agents.authenticate, username, password)
    if agent is None:
        throttle.failed(username, ip)
        return login_page_response(request, status_code=401, error="bad_login", next_url=_safe_next(next))
    throttle.succeeded(username)
    token, session = await asyncio.to_thread(services.agents.start_session, agent.id)
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
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@public.get("/lang/{code}")
async def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, samesite="lax", path="/", max_age=365 * 24 * 3600)
    return response
