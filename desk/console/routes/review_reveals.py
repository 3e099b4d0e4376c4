"""Supervisor review, reveals and audit: one masked field in clear (the audit row written first) and the
audit log of every reveal (page, JSON, CSV)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from desk.console.deps import SUPERVISOR_ONLY, CurrentAgent, ServicesDep, T
from desk.console.pages import render
from desk.console.routes import review_shared as shared
from desk.review import ReviewError
from profiles.vault import FIELDS, VaultError

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router]


@router.post("/api/reveal")
async def reveal(request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    """One field of one customer, in clear, for this supervisor; the audit row is written first."""
    data = await shared.payload(request)
    field = str(data.get("field") or "")
    if field not in FIELDS:
        raise HTTPException(status_code=422, detail=f"field is one of {', '.join(FIELDS)}")
    try:
        value = await asyncio.to_thread(
            shared.store(services).reveal, supervisor=who.agent.username,
            customer_id=str(data.get("customer_id") or ""), field=field, reason=str(data.get("reason") or ""),
            conversation_id=data.get("conversation_id") or None,
        )
    except ReviewError as exc:
        raise HTTPException(status_code=422, detail=shared.error(exc, t)) from exc
    except VaultError as exc:
        raise HTTPException(status_code=404, detail=f"not available: {exc}") from exc
    return {"field": field, "value": value}


def _audit_args(request: Request) -> dict[str, str | None]:
    q = request.query_params
    return {"supervisor": q.get("supervisor") or None, "customer_id": q.get("customer_id") or None,
            "field": shared.choice(q.get("field"), FIELDS)}


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    rows = await asyncio.to_thread(lambda: shared.store(services).audit_log(**_audit_args(request)))
    return render(request, "review_audit.html", rows=rows, q=request.query_params,
                  fields=FIELDS, csv_url=f"/supervisor/audit.csv?{request.url.query}")


@router.get("/api/audit")
async def audit_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    rows = await asyncio.to_thread(lambda: shared.store(services).audit_log(**_audit_args(request)))
    return {"count": len(rows), "reveals": [{**r.__dict__, "created_at": r.created_at.isoformat()} for r in rows]}


@router.get("/audit.csv")
async def audit_csv(request: Request, services: ServicesDep) -> Response:
    rows = await asyncio.to_thread(lambda: shared.store(services).audit_log(**_audit_args(request)))
    header = ["id", "created_at", "supervisor", "customer_id", "field", "reason", "conversation_id"]
    return shared.csv_response("audit", header, [[getattr(r, h) for h in header] for r in rows])
