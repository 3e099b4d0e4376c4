"""Canned replies: supervisors keep them (zh and en) at /supervisor/canned; every save is checked against
the forbidden words (``desk.canned``) and a refused one says which words, in the supervisor's language.
Agents read them on the handoff card and at /api/canned (routes/handoffs.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from desk.canned import LANGUAGES, TEXT_MAX, TITLE_MAX, CannedError, CannedReply, CannedStore
from desk.console.deps import SUPERVISOR_ONLY, CurrentAgent, ServicesDep, T
from desk.console.i18n import Translator
from desk.console.pages import render
from desk.console.routes.review_shared import payload, wants_page
from desk.console.services import Services

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router]


def _store(services: Services) -> CannedStore:
    return services.canned


def _json(reply: CannedReply) -> dict[str, Any]:
    return {"id": reply.row_id, "key": reply.id, "language": reply.language, "title": reply.title,
            "text": reply.text, "position": reply.position}


def _message(exc: CannedError, t: Translator) -> str:
    return t(exc.key, **exc.values)


async def _page(request: Request, services: Services, *, error: str | None = None, form: dict[str, Any] | None = None,
                status_code: int = 200) -> HTMLResponse:
    replies = await asyncio.to_thread(_store(services).replies)
    return render(request, "canned.html", replies=replies, languages=LANGUAGES, error=error, form=form or {},
                  title_max=TITLE_MAX, text_max=TEXT_MAX, status_code=status_code)


@router.get("/canned", response_class=HTMLResponse)
async def canned_page(request: Request, services: ServicesDep) -> HTMLResponse:
    return await _page(request, services)


@router.get("/api/canned")
async def canned_json(services: ServicesDep) -> dict[str, Any]:
    return {"replies": [_json(r) for r in await asyncio.to_thread(_store(services).replies)]}


def _position(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise HTTPException(status_code=422, detail="position is a number") from None


async def _save(request: Request, services: Services, who: Any, t: Translator, row_id: int | None) -> Any:
    data = await payload(request)
    try:
        reply = await asyncio.to_thread(lambda: _store(services).save(
            actor=who.agent.username, language=str(data.get("language") or ""), key=str(data.get("key") or ""),
            title=str(data.get("title") or ""), text=str(data.get("text") or ""),
            position=_position(data.get("position")), row_id=row_id))
    except CannedError as exc:
        if wants_page(request):
            return await _page(request, services, error=_message(exc, t), form={**data, "id": row_id},
                               status_code=404 if exc.not_found else 422)
        raise HTTPException(status_code=404 if exc.not_found else 422, detail=_message(exc, t)) from exc
    if wants_page(request):
        return RedirectResponse(f"/supervisor/canned#reply-{reply.row_id}", status_code=303)
    return _json(reply)


@router.post("/api/canned")
async def add_canned(request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> Any:
    return await _save(request, services, who, t, None)


@router.post("/api/canned/{row_id}")
async def change_canned(row_id: int, request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> Any:
    return await _save(request, services, who, t, row_id)


@router.post("/api/canned/{row_id}/delete")
async def remove_canned(row_id: int, request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> Any:
    try:
        await asyncio.to_thread(lambda: _store(services).remove(row_id, actor=who.agent.username))
    except CannedError as exc:
        raise HTTPException(status_code=404, detail=_message(exc, t)) from exc
    if wants_page(request):
        return RedirectResponse("/supervisor/canned", status_code=303)
    return {"removed": row_id}
