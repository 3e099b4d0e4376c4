"""Sign in, sign out, language switch."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from desk.console.deps import AGENT_ONLY, SESSION_COOKIE, CurrentAgent, ServicesDep
from desk.console.i18n import LANG_COOKIE, LANGUAGES
from desk.console.pages import render

LOGIN_CSRF_COOKIE = "login_csrf"
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
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return login_page_response(request, status_code=403, error="bad_login", next_url=_safe_next(next))
    agent = await asyncio.to_thread(services.agents.authenticate, username, password)
    if agent is None:
        return login_page_response(request, status_code=401, error="bad_login", next_url=_safe_next(next))
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
