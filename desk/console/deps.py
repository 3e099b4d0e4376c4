"""Who is asking, in which language, and may they: the dependencies every console route declares.

* ``CurrentAgent``: a valid session cookie, else 401.
* ``require_role(AgentRole.SUPERVISOR)``: else 403.
* ``check_csrf``: on POST/PUT/PATCH/DELETE the session's CSRF token must come back, as the
  ``X-CSRF-Token`` header or the ``csrf_token`` form field, else 403.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from desk.agents import SignedIn
from desk.console.i18n import LANG_COOKIE, Translator, pick_language
from desk.console.services import Services
from desk.models import AgentRole

SESSION_COOKIE = "desk_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


def translator(request: Request) -> Translator:
    return Translator(pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")))


T = Annotated[Translator, Depends(translator)]


async def signed_in(request: Request, services: ServicesDep) -> SignedIn:
    cached = getattr(request.state, "signed_in", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    who = await asyncio.to_thread(services.agents.signed_in, request.cookies.get(SESSION_COOKIE))
    if who is None:
        raise HTTPException(status_code=401, detail=translator(request)("please_sign_in"))
    request.state.signed_in = who
    return who


CurrentAgent = Annotated[SignedIn, Depends(signed_in)]


def require_role(role: AgentRole) -> Callable[..., Coroutine[Any, Any, SignedIn]]:
    async def check(request: Request, who: CurrentAgent) -> SignedIn:
        if role is AgentRole.SUPERVISOR and not who.agent.is_supervisor:
            raise HTTPException(status_code=403, detail=translator(request)("forbidden"))
        return who

    return check


async def check_csrf(request: Request, who: CurrentAgent) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get(CSRF_FIELD) or "")
    if not sent or not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), who.csrf_token.encode("utf-8")):
        raise HTTPException(status_code=403, detail=translator(request)("csrf_check"))


AGENT_ONLY = [Depends(require_role(AgentRole.AGENT)), Depends(check_csrf)]
SUPERVISOR_ONLY = [Depends(require_role(AgentRole.SUPERVISOR)), Depends(check_csrf)]
