"""The weekly reports the scheduled job stored (desk.weekly_report): the list of weeks, one week as a
page and as a CSV (supervisors only)."""

from __future__ import annotations

import asyncio
from datetime import date

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from desk.console.deps import SUPERVISOR_ONLY, ServicesDep, T
from desk.console.pages import render
from desk.console.routes import review_shared as shared
from desk.console.routes.sla import group_label
from desk.console.services import Services
from desk.weekly_report import StoredReport, WeeklyReports, csv_rows

router = APIRouter(prefix="/supervisor/reports/weekly", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router]


def _reports(services: Services) -> WeeklyReports:
    return services.weekly


async def _one(services: Services, week: str, t: T) -> StoredReport:
    try:
        start = date.fromisoformat(week)
    except ValueError:
        raise HTTPException(status_code=404, detail=t("weekly_not_found")) from None
    report = await asyncio.to_thread(_reports(services).get, start)
    if report is None:
        raise HTTPException(status_code=404, detail=t("weekly_not_found"))
    return report


@router.get("", response_class=HTMLResponse)
async def weeks_page(request: Request, services: ServicesDep) -> HTMLResponse:
    weeks = await asyncio.to_thread(_reports(services).weeks)
    return render(request, "reports_weekly.html", weeks=weeks, report=None)


@router.get("/{week}.csv")
async def week_csv(week: str, services: ServicesDep, t: T) -> Response:
    report = await _one(services, week, t)
    header, rows = csv_rows(report)
    return shared.csv_response(f"weekly-report-{report.week_start.isoformat()}", header, rows)


@router.get("/{week}", response_class=HTMLResponse)
async def week_page(week: str, request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    report = await _one(services, week, t)
    weeks = await asyncio.to_thread(_reports(services).weeks)
    return render(request, "reports_weekly.html", weeks=weeks, report=report, f=report.figures,
                  reason_label=lambda value: group_label(t, "reason", value))
