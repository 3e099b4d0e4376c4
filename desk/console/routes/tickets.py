"""The tickets and callbacks inbox: the page, a JSON list, and claim / note / resolve (desk.ticket_inbox decides)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from desk.agents import SignedIn
from desk.console.deps import AGENT_ONLY, CurrentAgent, ServicesDep, T
from desk.console.i18n import Translator
from desk.console.pages import render
from desk.console.routes.review_shared import payload, wants_page
from desk.console.routes.sla import badge, ticket_states
from desk.console.services import Services
from desk.models import TicketStatus, TicketTopic
from desk.ticket_inbox import RESOLUTION_REASONS, SCOPES, InboxRow, TicketInbox, TicketInboxError, Viewer

router = APIRouter(dependencies=AGENT_ONLY)


def routers() -> list[APIRouter]:
    return [router]


def _inbox(services: Services) -> TicketInbox:
    return services.inbox


def _viewer(who: SignedIn) -> Viewer:
    return Viewer(username=who.agent.username, supervisor=who.agent.is_supervisor)


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    status = q.get("status") or None
    topic = q.get("topic") or None
    scope = q.get("scope") or "all"
    if status not in (None, "open", *(s.value for s in TicketStatus)):
        status = None
    if topic not in (None, *(t.value for t in TicketTopic)):
        topic = None
    if scope not in SCOPES:
        scope = "all"
    customer = (q.get("customer") or "")[:16] or None  # the handoff card's link: one customer's tickets
    return {"status": status, "topic": topic, "scope": scope, "overdue": q.get("overdue") in {"1", "true", "yes"},
            "customer": customer}


SLA_FILTERS = ("at_risk", "breached")
OPEN = (TicketStatus.OPEN.value, TicketStatus.PENDING.value)


def _sla_filter(request: Request) -> str | None:
    value = request.query_params.get("sla") or None
    return value if value in SLA_FILTERS else None


async def _with_sla(services: Services, rows: list[InboxRow], wanted: str | None) -> tuple[list[InboxRow], dict]:
    """The SLA of each listed ticket (desk.sla), and the rows kept by the ``sla`` filter (open tickets
    only, the work still to do): ``at_risk`` = due soon or past target, ``breached`` = past target."""
    states = await ticket_states(services, [r.id for r in rows])
    if wanted:
        keep = ("breached",) if wanted == "breached" else ("warning", "breached")
        rows = [r for r in rows if r.status in OPEN and r.id in states and states[r.id].current[1].state in keep]
    return rows, states


def _json(row: InboxRow, t: Translator) -> dict[str, Any]:
    data = dict(row.__dict__)
    for key in ("created_at", "due_at"):
        data[key] = data[key].isoformat()
    data["topic_label"] = t(f"tickets_topic_{row.topic}")
    data["status_label"] = t(f"tickets_status_{row.status}")
    return data


def _refused(exc: TicketInboxError, t: Translator) -> HTTPException:
    code = 404 if exc.not_found else 403 if exc.forbidden else 409 if exc.key == "ticket_closed" else 422
    return HTTPException(status_code=code, detail=t(exc.key))


@router.get("/tickets", response_class=HTMLResponse)
async def tickets_page(request: Request, services: ServicesDep, who: CurrentAgent) -> HTMLResponse:
    filters = _filters(request)
    viewer = _viewer(who)
    rows = await asyncio.to_thread(lambda: _inbox(services).list(viewer, **filters))
    sla_filter = _sla_filter(request)
    rows, sla_states = await _with_sla(services, rows, sla_filter)
    at_risk = sum(1 for r in rows if r.id in sla_states and sla_states[r.id].current[1].state in ("warning", "breached")
                  and r.status in OPEN)
    events = {}
    for row in rows[:50]:
        events[row.id] = await asyncio.to_thread(_inbox(services).events, row.id, viewer)
    overdue = await asyncio.to_thread(_inbox(services).overdue_count, viewer) if viewer.supervisor else None
    return render(request, "tickets.html", rows=rows, events=events, f=filters, overdue_count=overdue,
                  sla_states=sla_states, sla_filter=sla_filter, sla_filters=SLA_FILTERS, sla_at_risk=at_risk,
                  topics=[t.value for t in TicketTopic], statuses=[s.value for s in TicketStatus],
                  scopes=SCOPES, reasons=RESOLUTION_REASONS, back=f"/tickets?{request.url.query}")


@router.get("/api/tickets")
async def tickets_json(request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    filters = _filters(request)
    rows = await asyncio.to_thread(lambda: _inbox(services).list(_viewer(who), **filters))
    rows, states = await _with_sla(services, rows, _sla_filter(request))
    now = services.clock()
    return {"count": len(rows), "overdue": sum(r.overdue for r in rows),
            "tickets": [{**_json(r, t), **(badge(states[r.id], now, t) if r.id in states else {})} for r in rows]}


def _back(request: Request, data: dict[str, Any]) -> str:
    back = str(data.get("back") or "")
    if back.startswith("/tickets") and "//" not in back:
        return back
    return "/tickets"


async def _act(request: Request, services: Services, who: SignedIn, t: Translator, ticket_id: int,
               action: str) -> Any:
    data = await payload(request)
    inbox, viewer = _inbox(services), _viewer(who)
    try:
        if action == "claim":
            result: Any = await asyncio.to_thread(inbox.claim, ticket_id, viewer)
        elif action == "note":
            result = await asyncio.to_thread(inbox.add_note, ticket_id, viewer, str(data.get("text") or ""))
        else:
            result = await asyncio.to_thread(lambda: inbox.resolve(ticket_id, viewer, reason=str(data.get("reason") or ""),
                                                                   note=str(data.get("note") or "")))
    except TicketInboxError as exc:
        raise _refused(exc, t) from exc
    if wants_page(request):
        return RedirectResponse(_back(request, data), status_code=303)
    if isinstance(result, InboxRow):
        return _json(result, t)
    return {"ticket_id": ticket_id, "actor": result.actor, "kind": result.kind, "text": result.text,
            "created_at": result.created_at.isoformat()}


@router.post("/api/tickets/{ticket_id}/claim")
async def claim(ticket_id: int, request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> Any:
    return await _act(request, services, who, t, ticket_id, "claim")


@router.post("/api/tickets/{ticket_id}/notes")
async def add_note(ticket_id: int, request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> Any:
    return await _act(request, services, who, t, ticket_id, "note")


@router.post("/api/tickets/{ticket_id}/resolve")
async def resolve(ticket_id: int, request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> Any:
    return await _act(request, services, who, t, ticket_id, "resolve")
