"""Agent and QA reports (supervisors): per agent handled, first-response and resolution time, CSAT and
QA means per criterion; QA means per criterion per week. Page, JSON and CSV (``desk.reports``)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from desk.console.deps import SUPERVISOR_ONLY, ServicesDep, T
from desk.console.pages import render
from desk.console.routes import review_shared as shared
from desk.console.services import Services
from desk.reports import CRITERIA, AgentReport, QaWeek, Reports

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)
DEFAULT_DAYS = 28


def routers() -> list[APIRouter]:
    return [router]


def _reports(services: Services) -> Reports:
    return services.reports


def _range(request: Request, services: Services) -> tuple[date, date]:
    today = services.clock().date()
    date_to = shared.day(request.query_params.get("date_to")) or today
    date_from = shared.day(request.query_params.get("date_from")) or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise HTTPException(status_code=422, detail="date_from is after date_to")
    return date_from, date_to


async def _data(request: Request, services: Services) -> tuple[date, date, str | None, list[AgentReport], list[QaWeek]]:
    date_from, date_to = _range(request, services)
    agent = request.query_params.get("agent") or None
    reports = _reports(services)
    agents = await asyncio.to_thread(lambda: reports.agents(date_from=date_from, date_to=date_to))
    weeks = await asyncio.to_thread(lambda: reports.qa_weekly(date_from=date_from, date_to=date_to, agent=agent))
    return date_from, date_to, agent, agents, weeks


def _week(w: QaWeek) -> dict[str, Any]:
    return {"week": w.week.isoformat(), "reviews": w.reviews, **{f"qa_{c}": w.means[c] for c in CRITERIA}}


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    date_from, date_to, agent, agents, weeks = await _data(request, services)
    query = urlencode({"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
    return render(request, "reports.html", agents=agents, weeks=weeks, criteria=CRITERIA, agent=agent,
                  date_from=date_from, date_to=date_to, csv_url=f"/supervisor/reports/agents.csv?{query}",
                  qa_csv_url=f"/supervisor/reports/qa.csv?{urlencode({'date_from': date_from.isoformat(), 'date_to': date_to.isoformat(), **({'agent': agent} if agent else {})})}")


@router.get("/api/reports")
async def reports_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    date_from, date_to, agent, agents, weeks = await _data(request, services)
    return {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "agent": agent,
            "agents": [a.row() for a in agents], "qa_weekly": [_week(w) for w in weeks]}


@router.get("/reports/agents.csv")
async def agents_csv(request: Request, services: ServicesDep) -> Response:
    _, _, _, agents, _ = await _data(request, services)
    rows = [a.row() for a in agents]
    header = list(AgentReport(agent="").row().keys())
    return shared.csv_response("agents", header, [[r[h] for h in header] for r in rows])


@router.get("/reports/qa.csv")
async def qa_csv(request: Request, services: ServicesDep) -> Response:
    _, _, _, _, weeks = await _data(request, services)
    header = ["week", "reviews", *(f"qa_{c}" for c in CRITERIA)]
    return shared.csv_response("qa-weekly", header, [[_week(w)[h] for h in header] for w in weeks])
