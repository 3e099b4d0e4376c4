"""Supervisor-only pages (the review and dashboards of issue 5 come here): console users for now."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from desk.console.deps import SUPERVISOR_ONLY, ServicesDep
from desk.console.pages import render

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router]


@router.get("/agents", response_class=HTMLResponse)
async def agents_page(request: Request, services: ServicesDep) -> HTMLResponse:
    roster = {a.username: a for a in await asyncio.to_thread(services.agents.roster)}
    return render(request, "agents.html", agents=await asyncio.to_thread(services.agents.all), roster=roster,
                  teams=await asyncio.to_thread(services.desk.teams))


@router.get("/api/agents")
async def agents_json(services: ServicesDep) -> dict[str, Any]:
    agents = await asyncio.to_thread(services.agents.all)
    return {"agents": [{"username": a.username, "display_name": a.display_name, "role": a.role} for a in agents]}
