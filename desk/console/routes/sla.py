"""SLA in the console: the live fields the queue and the tickets inbox show (badges), and the SLA report
for supervisors (met / breached by team, agent, reason, week, class; a page, JSON and CSV)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from desk import sla
from desk.console.deps import SUPERVISOR_ONLY, ServicesDep, T
from desk.console.i18n import Translator
from desk.console.pages import render
from desk.console.routes import review_shared as shared
from desk.console.services import Services
from desk.models import HandoffReason

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)
STEP_KEYS = ("met", "breached", "running", "warning")


def routers() -> list[APIRouter]:
    return [router]


# ------------------------------------------------------------------------------------ live badges
def badge(evaluated: sla.Evaluated, now: Any, t: Translator) -> dict[str, Any]:
    fields = sla.live_fields(evaluated, now)
    return {**fields, "sla_label": t(f"sla_state_{fields['sla_state']}"),
            "sla_step_label": t(f"sla_step_{fields['sla_step']}"),
            "sla_class_label": t(f"sla_class_{fields['sla_class']}")}


async def handoff_badges(services: Services, handoffs: Iterable[Any], t: Translator) -> dict[int, dict[str, Any]]:
    """The SLA fields of open handoffs by id (the queue's cards and rows)."""
    store = services.sla
    if store is None:
        return {}
    found = await asyncio.to_thread(store.for_handoffs, list(handoffs))
    now = services.clock()
    return {i: badge(e, now, t) for i, e in found.items()}


async def ticket_states(services: Services, ids: Iterable[int]) -> dict[int, sla.Evaluated]:
    store = services.sla
    if store is None:
        return {}
    return await asyncio.to_thread(store.for_tickets, list(ids))


# ------------------------------------------------------------------------------------ report
def group_label(t: Translator, by: str, value: str | None) -> str:
    if value is None:
        return t("sla_no_team") if by == "team" else t("sla_no_agent") if by == "agent" else "—"
    if by == "reason":
        if value in {r.value for r in HandoffReason}:
            return t.label("reason", value)
        return t(f"tickets_topic_{value}")
    if by in ("sla_class", "kind"):
        return t(f"sla_{'class' if by == 'sla_class' else 'kind'}_{value}")
    return value


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {"by": shared.choice(q.get("by"), sla.BREAKDOWNS) or "team",
            "kind": shared.choice(q.get("kind"), sla.KINDS),
            "date_from": shared.day(q.get("date_from")), "date_to": shared.day(q.get("date_to"))}


async def _report(services: Services, f: dict[str, Any]) -> tuple[list[sla.ReportRow], sla.ReportRow]:
    evaluated = await asyncio.to_thread(services.sla.evaluated, date_from=f["date_from"], date_to=f["date_to"])
    if f["kind"]:
        evaluated = [e for e in evaluated if e.item.kind == f["kind"]]
    order = sla.CLASSES if f["by"] == "sla_class" else sla.KINDS if f["by"] == "kind" else ()
    return sla.report(evaluated, f["by"], order)


def _tally(t: sla.Tally) -> dict[str, Any]:
    return {"met": t.met, "breached": t.breached, "running": t.running, "warning": t.warning,
            "met_rate": t.met_rate}


def _row(r: sla.ReportRow, label: str) -> dict[str, Any]:
    return {"value": r.value, "label": label, "items": r.items,
            "first_response": _tally(r.first_response), "resolution": _tally(r.resolution)}


@router.get("/api/sla")
async def sla_json(request: Request, services: ServicesDep, t: T) -> dict[str, Any]:
    f = _filters(request)
    rows, total = await _report(services, f)
    return {"by": f["by"], "groups": [_row(r, group_label(t, f["by"], r.value)) for r in rows],
            "all": _row(total, t("sla_all"))}


@router.get("/sla.csv")
async def sla_csv(request: Request, services: ServicesDep, t: T) -> Response:
    f = _filters(request)
    rows, total = await _report(services, f)
    header = [f["by"], "label", "items"] + [f"{step}_{key}" for step in sla.STEPS for key in (*STEP_KEYS, "met_rate")]

    def line(r: sla.ReportRow, value: Any, label: str) -> list[Any]:
        cells: list[Any] = [value, label, r.items]
        for step in (r.first_response, r.resolution):
            cells += [step.met, step.breached, step.running, step.warning, step.met_rate]
        return cells

    body = [line(r, r.value or "", group_label(t, f["by"], r.value)) for r in rows]
    body.append(line(total, "all", t("sla_all")))
    return shared.csv_response(f"sla-{f['by']}", header, body)


@router.get("/sla", response_class=HTMLResponse)
async def sla_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    f = _filters(request)
    rows, total = await _report(services, f)
    policy = services.sla.policy
    kept = [(k, v) for k, v in request.query_params.multi_items() if v]
    return render(request, "sla_report.html", f=f, rows=rows, total=total, breakdowns=sla.BREAKDOWNS,
                  kinds=sla.KINDS, classes=sla.CLASSES, policy=policy,
                  label=lambda value: group_label(t, f["by"], value),
                  csv_url=f"/supervisor/sla.csv?{urlencode(kept)}")
