"""The agent console: FastAPI app factory.

``create_app()`` builds everything from ``common.settings`` (or what a test passes in); importing
this module connects to nothing. ``python -m desk.console`` serves it with uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import sessionmaker

from common.db import StoreUnavailable, make_engine, make_session_factory
from common.settings import Settings, get_settings
from desk.console.deps import translator
from desk.console.limits import BodySizeLimit
from desk.console.pages import make_environment, render
from desk.console.routes import (
    auth,
    canned,
    chat,
    context,
    handoffs,
    queue,
    reports,
    reports_weekly,
    review,
    sla,
    supervisor,
    teams,
    tickets,
    widget,
)
from desk.console.services import Services
from desk.gateway import ChannelGateway
from desk.live import Broker
from desk.rasa_client import RasaClient

STATIC = Path(__file__).with_name("static")
# The console's own pages: scripts and styles from this site only (its templates have no inline script,
# style or event handler; the JSON data blocks are not scripts), never framed, forms post here only.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The demo shop stands for a customer's shop page: the widget it embeds styles its own shadow root
# (a <style> element) and the page has its own <style>; scripts still come from this site only.
SHOP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
)
# What other sites embed: the widget's files (/widget/widget.js is a script loaded by any shop) and its
# socket. They get no page policy (no CSP, no frame-ancestors), only nosniff and the referrer policy.
EMBEDDED_PREFIXES = ("/widget/",)
SHOP_PAGE = "/demo/shop"
logger = logging.getLogger(__name__)


class SecurityHeaders:
    """Security headers on every HTTP response (ASGI middleware, so streams pass through untouched):
    ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` everywhere; on the console's
    pages also ``Content-Security-Policy`` (``CONSOLE_CSP``) and ``X-Frame-Options: DENY``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @staticmethod
    def headers_for(path: str) -> list[tuple[bytes, bytes]]:
        headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        if path.startswith(EMBEDDED_PREFIXES):
            return headers
        if path == SHOP_PAGE:
            return headers + [(b"content-security-policy", SHOP_CSP.encode())]
        return headers + [(b"content-security-policy", CONSOLE_CSP.encode()), (b"x-frame-options", b"DENY")]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope.get("path") or "/")

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers") or []}
                message = {**message, "headers": [*(message.get("headers") or []),
                                                  *((n, v) for n, v in extra if n not in present)]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/supervisor/api/")) and "text/html" in request.headers.get(
        "accept", ""
    )


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker | None = None,
    rasa: RasaClient | None = None,
    broker: Broker | None = None,
    gateways: Mapping[str, ChannelGateway] | None = None,
    clock: Callable[[], datetime] = datetime.utcnow,
    watch_queue: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    if session_factory is None:
        # the tables exist already: `make run` creates them (desk.schema), production migrates (alembic)
        session_factory = make_session_factory(make_engine(settings.database_url))
    services = Services.build(
        settings, session_factory, rasa=rasa, broker=broker, gateways=gateways, clock=clock
    )
    try:
        services.desk.ensure_teams()  # the seeded teams (the migration inserts them in production)
    except StoreUnavailable:
        logger.warning("console: database unavailable at start; the seeded teams are checked at the next start")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(services.watcher.run()) if watch_queue else None
        sweeper = asyncio.create_task(services.timeouts.run()) if watch_queue and services.timeouts else None
        assigner = asyncio.create_task(services.assigner.run()) if watch_queue else None
        care = asyncio.create_task(widget.care_courier(app)) if watch_queue else None
        indexer = (asyncio.create_task(services.indexer.run())
                   if watch_queue and services.indexer.interval_s > 0 else None)
        try:
            yield
        finally:
            for running in (task, sweeper, assigner, care, indexer):
                if running is not None:
                    running.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await running
            close = getattr(services.broker, "close", None)  # the Redis broker's connections
            if close is not None:
                await close()

    app = FastAPI(title="Agent console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: also on 413s and errors
    app.state.templates = make_environment()
    app.state.login_throttle = auth.login_throttle_from_settings(settings)  # in Redis when REDIS_URL is set

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        # a browser asking for a page gets the sign-in page (401) or a readable refusal (403)
        if exc.status_code == 401 and _wants_html(request):
            return auth.login_page_response(request, status_code=401, next_url=request.url.path)
        if exc.status_code == 403 and _wants_html(request):
            return render(request, "forbidden.html", status_code=403)
        if request.url.path.startswith(("/api/", "/supervisor/api/")):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return await http_exception_handler(request, exc)

    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: Exception) -> Response:
        # PostgreSQL unreachable: a clear 503 (and a log line) instead of a 500 with a stack trace
        logger.error("console: database unavailable on %s %s (%s)", request.method, request.url.path,
                     type(exc).__name__)
        return JSONResponse({"detail": translator(request)("database_down")}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (auth, queue, handoffs, supervisor, review, chat, widget, tickets, sla, reports_weekly, canned,
                   context, reports, teams):
        for router in module.routers():
            app.include_router(router)
    return app
