"""Supervisor review, QA: a supervisor's scores and notes on a conversation (criteria: ``desk.review.CRITERIA``)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from desk.console.deps import SUPERVISOR_ONLY, CurrentAgent, ServicesDep, T
from desk.console.routes import review_shared as shared
from desk.review import CRITERIA, ReviewError

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router]


@router.post("/api/transcripts/{conversation_id}/reviews")
async def add_review(conversation_id: str, request: Request, services: ServicesDep, who: CurrentAgent,
                     t: T) -> Any:
    data = await shared.payload(request)
    try:
        scores = {c: int(data.get(c)) for c in CRITERIA}  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise HTTPException(status_code=422, detail="each criterion needs a score from 1 to 5") from None
    try:
        review = await asyncio.to_thread(shared.store(services).add_review, conversation_id=conversation_id,
                                         reviewer=who.agent.username, scores=scores, notes=data.get("notes"))
    except ReviewError as exc:
        raise HTTPException(status_code=404 if exc.not_found else 422, detail=shared.error(exc, t)) from exc
    if shared.wants_page(request):
        session = shared.session_param(request)  # the form posts back to the session it was on
        suffix = f"?session={session}" if session is not None else ""
        return RedirectResponse(f"/supervisor/transcripts/{quote(conversation_id, safe='')}{suffix}#qa",
                                status_code=303)
    return {**review.__dict__, "created_at": review.created_at.isoformat()}
