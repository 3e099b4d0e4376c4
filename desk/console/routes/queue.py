"""The live queue: the page, a JSON snapshot, the Server-Sent Events stream and claiming."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from desk.agents import SignedIn
from desk.console.card import queue_row
from desk.console.deps import AGENT_ONLY, CurrentAgent, ServicesDep, T
from desk.console.i18n import Translator
from desk.console.pages import render, sse
from desk.console.routes.sla import handoff_badges
from desk.console.services import Services
from desk.errors import HandoffNotFound, InvalidTransition
from desk.live import QUEUE, conversation_topic
from desk.models import HandoffStatus

KEEPALIVE_S = 15.0
router = APIRouter(dependencies=AGENT_ONLY)


def routers() -> list[APIRouter]:
    return [router]


async def snapshot(services: Services, who: SignedIn, t: Translator) -> dict[str, Any]:
    """Waiting handoffs (priority, then waiting time) and the ones this agent holds."""
    rows = await asyncio.to_thread(services.queue.open_handoffs)
    now = services.clock()
    badges = await handoff_badges(services, rows, t)  # SLA: state, and seconds to the warning and the breach

    def row(h):  # type: ignore[no-untyped-def]
        found = queue_row(h, now=now, reason_label=t.label("reason", h.reason),
                          channel_label=t.label("channel", h.channel))
        return {**found, "team_label": t.label("team", h.team) if h.team else "", **badges.get(h.id, {})}

    return {
        "queued": [row(h) for h in rows if h.status == HandoffStatus.QUEUED.value],
        "mine": [
            row(h) for h in rows if h.status == HandoffStatus.ASSIGNED.value and h.agent_id == who.agent.username
        ],
    }


@router.get("/", response_class=HTMLResponse)
async def queue_page(request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> HTMLResponse:
    return render(request, "queue.html", initial=await snapshot(services, who, t))


@router.get("/api/queue")
async def queue_json(services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    return await snapshot(services, who, t)


async def queue_events(request: Request, services: Services, who: SignedIn, t: Translator) -> AsyncIterator[str]:
    """The queue as it changes; while it is open the agent counts as present (availability: not stale)."""
    loop = asyncio.get_running_loop()
    seen_at = loop.time()
    await asyncio.to_thread(services.agents.seen, who.agent.id)
    async with services.broker.subscribe(QUEUE) as subscription:
        yield "retry: 1000\n\n"
        yield sse("queue", await snapshot(services, who, t))
        while True:
            note = await subscription.next(timeout=KEEPALIVE_S)
            if await request.is_disconnected():
                return
            if loop.time() - seen_at >= KEEPALIVE_S:
                seen_at = loop.time()
                await asyncio.to_thread(services.agents.seen, who.agent.id)
            yield sse("queue", await snapshot(services, who, t)) if note is not None else ": keep-alive\n\n"


@router.get("/api/queue/stream")
async def queue_stream(request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> StreamingResponse:
    return StreamingResponse(
        queue_events(request, services, who, t),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/api/handoffs/{handoff_id}/claim")
async def claim(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    try:
        handoff = await asyncio.to_thread(services.queue.claim, handoff_id, agent_id=who.agent.username)
    except HandoffNotFound as exc:
        raise HTTPException(status_code=404, detail=t("handoff_not_found")) from exc
    except InvalidTransition as exc:
        raise HTTPException(status_code=409, detail=t("taken")) from exc
    await services.broker.publish(QUEUE, {"type": "queue"})
    await services.broker.publish(conversation_topic(handoff.conversation_id), {"type": "handoff", "id": handoff.id})
    return {"id": handoff.id, "status": handoff.status, "agent_id": handoff.agent_id, "url": f"/handoffs/{handoff.id}"}
