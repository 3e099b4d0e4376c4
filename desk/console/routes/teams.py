"""Availability, teams and transfer: the agent's switch (online / away / offline), supervisors' capacity and
team members, and passing a conversation to a team or a named agent with a private note."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException

from desk.console.deps import AGENT_ONLY, SUPERVISOR_ONLY, CurrentAgent, ServicesDep, T
from desk.console.services import Services
from desk.errors import HandoffNotFound, InvalidTransition
from desk.live import QUEUE, conversation_topic
from desk.models import Availability, HandoffStatus
from desk.teams import TransferRefused

router = APIRouter(dependencies=AGENT_ONLY)
supervisors = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router, supervisors]


async def _moved(services: Services) -> None:
    services.assigner.poke()
    await services.broker.publish(QUEUE, {"type": "queue"})


@router.get("/api/me/availability")
async def my_availability(services: ServicesDep, who: CurrentAgent) -> dict[str, Any]:
    view = await asyncio.to_thread(services.agents.availability, who.agent.id)
    return {"status": view.status, "capacity": view.capacity}


@router.post("/api/me/availability")
async def set_my_availability(services: ServicesDep, who: CurrentAgent, t: T,
                              status: str = Body(..., embed=True)) -> dict[str, Any]:
    if status not in {a.value for a in Availability}:
        raise HTTPException(status_code=422, detail=t("availability_invalid"))
    view = await asyncio.to_thread(services.agents.set_availability, who.agent.id, status)
    await _moved(services)
    return {"status": view.status, "capacity": view.capacity, "label": t("availability_" + view.status)}


@router.get("/api/teams")
async def teams(services: ServicesDep, t: T) -> dict[str, Any]:
    """Teams with members, and the agents a conversation can be transferred to (with their status)."""
    found = await asyncio.to_thread(services.desk.teams)
    roster = {a.username: a for a in await asyncio.to_thread(services.agents.roster)}
    agents = await asyncio.to_thread(services.agents.all)
    return {
        "teams": [{"name": tm.name, "label": t("team_" + tm.name), "members": list(tm.members)} for tm in found],
        "agents": [{"username": a.username, "display_name": a.display_name,
                    "status": roster[a.username].status if a.username in roster else Availability.OFFLINE.value,
                    "capacity": roster[a.username].capacity if a.username in roster else None,
                    "load": roster[a.username].load if a.username in roster else 0}
                   for a in agents],
    }


@router.post("/api/handoffs/{handoff_id}/transfer")
async def transfer(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T,
                   team: str | None = Body(None), agent: str | None = Body(None),
                   note: str = Body("")) -> dict[str, Any]:
    try:
        handoff, record = await asyncio.to_thread(
            services.desk.transfer, handoff_id, by=who.agent.username, supervisor=who.agent.is_supervisor,
            to_team=(team or "").strip() or None, to_agent=(agent or "").strip() or None, note=note)
    except HandoffNotFound as exc:
        raise HTTPException(status_code=404, detail=t("handoff_not_found")) from exc
    except InvalidTransition as exc:
        raise HTTPException(status_code=409, detail=t("handoff_over", status=t("status_" + exc.current))) from exc
    except TransferRefused as exc:
        code = 403 if exc.why == "not_holder" else 422
        raise HTTPException(status_code=code, detail=t("transfer_refused_" + exc.why)) from exc
    await services.broker.publish(conversation_topic(handoff.conversation_id), {"type": "handoff", "id": handoff.id})
    await _moved(services)
    target = t("team_" + record.to_team) if record.to_team else record.to_agent
    return {"id": handoff.id, "status": handoff.status, "agent_id": handoff.agent_id, "team": handoff.team,
            "transfer_id": record.id, "notice": t("transfer_done", target=target or ""),
            "url": "/" if handoff.status == HandoffStatus.QUEUED.value or handoff.agent_id != who.agent.username
            else f"/handoffs/{handoff.id}"}


@router.get("/api/handoffs/{handoff_id}/transfers")
async def transfers(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    try:
        handoff = await asyncio.to_thread(services.queue.get, handoff_id)
    except HandoffNotFound as exc:
        raise HTTPException(status_code=404, detail=t("handoff_not_found")) from exc
    mine = handoff.status == HandoffStatus.QUEUED.value or handoff.agent_id == who.agent.username
    if not (mine or who.agent.is_supervisor):
        raise HTTPException(status_code=403, detail=t("handoff_supervisors_only"))
    rows = await asyncio.to_thread(services.desk.transfers, handoff_id)
    return {"transfers": [{"id": r.id, "from": r.from_agent, "to_team": r.to_team, "to_agent": r.to_agent,
                           "note": r.note, "created_at": r.created_at.isoformat(timespec="seconds")} for r in rows]}


@supervisors.post("/api/agents/{username}/capacity")
async def set_capacity(username: str, services: ServicesDep, t: T,
                       capacity: int = Body(..., embed=True)) -> dict[str, Any]:
    try:
        view = await asyncio.to_thread(services.agents.set_capacity, username, capacity)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=t("transfer_refused_unknown_agent")) from exc
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=t("capacity_invalid")) from exc
    await _moved(services)
    return {"username": view.username, "capacity": view.capacity, "status": view.status}


@supervisors.post("/api/teams/{team}/members")
async def set_members(team: str, services: ServicesDep, t: T,
                      members: Annotated[list[str], Body(embed=True)]) -> dict[str, Any]:
    try:
        view = await asyncio.to_thread(services.desk.set_members, team, members)
    except TransferRefused as exc:
        raise HTTPException(status_code=404 if exc.why == "unknown_team" else 422,
                            detail=t("transfer_refused_" + exc.why)) from exc
    await _moved(services)
    return {"name": view.name, "members": list(view.members)}
