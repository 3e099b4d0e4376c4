"""Supervisor review, follow-ups: the low-CSAT call-backs (page, JSON, CSV) and closing one with a note."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.console.deps import SUPERVISOR_ONLY, CurrentAgent, ServicesDep, T
from desk.console.pages import render
from desk.console.routes import review_shared as shared
from desk.console.services import Services
from desk.review import ReviewError

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router]


async def _followups(request: Request, services: Services) -> list[Any]:
    open_only = request.query_params.get("open") in {"1", "true", "yes"}
    rows = await asyncio.to_thread(lambda: shared.store(services).followups(open_only=open_only))
    if request.query_params.get("overdue") in {"1", "true", "yes"}:
        rows = [r for r in rows if r.overdue]
    return rows


@router.get("/followups", response_class=HTMLResponse)
async def followups_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    rows = await _followups(request, services)
    return render(request, "review_followups.html", rows=rows, q=request.query_params,
                  csv_url=f"/supervisor/followups.csv?{request.url.query}")


@router.get("/api/followups")
async def followups_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    rows = await _followups(request, services)
    return {"count": len(rows), "followups": [
        {**r.__dict__, **{k: (getattr(r, k).isoformat() if getattr(r, k) else None)
                          for k in ("created_at", "due_at", "closed_at")}} for r in rows]}


@router.get("/followups.csv")
async def followups_csv(request: Request, services: ServicesDep) -> Response:
    rows = await _followups(request, services)
    header = ["ticket_id", "conversation_id", "customer_id", "rating", "comment", "created_at", "due_at", "status",
              "overdue", "closed_by", "note", "closed_at"]
    return shared.csv_response("followups", header, [[getattr(r, h) for h in header] for r in rows])


@router.post("/api/followups/{ticket_id}/close")
async def close_followup(ticket_id: int, request: Request, services: ServicesDep, who: CurrentAgent,
                         t: T) -> Any:
    data = await shared.payload(request)
    try:
        row = await asyncio.to_thread(shared.store(services).close_followup, ticket_id, supervisor=who.agent.username,
                                      note=str(data.get("note") or ""))
    except ReviewError as exc:
        raise HTTPException(status_code=404 if exc.not_found else 422, detail=shared.error(exc, t)) from exc
    if shared.wants_page(request):
        return RedirectResponse("/supervisor/followups", status_code=303)
    return {"ticket_id": row.ticket_id, "status": row.status, "closed_by": row.closed_by}
