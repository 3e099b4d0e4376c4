"""The weekly reports the scheduled job stored (desk.weekly_report): the list of weeks, one week as a
page and as a CSV, and a week written (again) by a supervisor (supervisors only)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.console.deps import SUPERVISOR_ONLY, CurrentAgent, ServicesDep, T
from desk.console.pages import render
from desk.console.routes import review_shared as shared
from desk.console.routes.sla import group_label
from desk.console.services import Services
from desk.weekly_report import EARLIEST, StoredReport, WeeklyReports, WeekRefused, csv_rows, last_complete_week

logger = logging.getLogger(__name__)
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


def _write_form(services: Services) -> dict[str, str]:
    """The write form's default (the last complete week's Monday) and its latest day (that week's Sunday)."""
    monday = last_complete_week(services.clock())
    return {"value": monday.isoformat(), "max": (monday + timedelta(days=6)).isoformat(), "min": EARLIEST.isoformat()}


@router.get("", response_class=HTMLResponse)
async def weeks_page(request: Request, services: ServicesDep) -> HTMLResponse:
    weeks = await asyncio.to_thread(_reports(services).weeks)
    return render(request, "reports_weekly.html", weeks=weeks, report=None, form=_write_form(services))


@router.post("")
async def write_week(request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> Any:
    """Write the week holding ``week`` (a day, YYYY-MM-DD; default the last complete week), again if stored."""
    data = await shared.payload(request)
    raw = str(data.get("week") or "").strip()
    try:
        day = date.fromisoformat(raw) if raw else None
    except ValueError:
        raise HTTPException(status_code=422, detail=t("weekly_bad_week")) from None
    try:
        report = await asyncio.to_thread(_reports(services).write, day,
                                         retention_days=services.settings.transcript_retention_days)
    except WeekRefused as exc:
        raise HTTPException(status_code=422, detail=t(f"weekly_{exc.why}")) from exc
    logger.info("weekly report for the week of %s written by %s", report.week_start, who.agent.username)
    if shared.wants_page(request):
        return RedirectResponse(f"/supervisor/reports/weekly/{report.week_start.isoformat()}", status_code=303)
    return {"week_start": report.week_start.isoformat(), "generated_at": report.generated_at.isoformat(),
            "figures": report.figures, "top_messages": [[text, n] for text, n in report.top_messages]}


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
                  form=_write_form(services), reason_label=lambda value: group_label(t, "reason", value))
