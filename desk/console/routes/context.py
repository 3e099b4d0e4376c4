"""Context while chatting: from the handoff card, the customer's earlier conversations and tickets one
click away, and labels on conversations.

Access: the context of a handoff is for whoever may open its card (routes/handoffs.py); the links to
transcript review are given to supervisors only (agents get the tickets inbox, filtered by customer,
which shows them what the inbox lets them see). Labels: supervisors on any conversation, agents on the
conversation of a handoff they hold now.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request

from desk.console.deps import AGENT_ONLY, CurrentAgent, ServicesDep, T
from desk.console.routes.handoffs import _opened
from desk.console.routes.review_shared import payload, transcript_url
from desk.console.services import Services
from desk.labels import LabelError, LabelStore
from desk.metrics import ConversationRecord

router = APIRouter(dependencies=AGENT_ONLY)
EARLIER_MAX = 20


def routers() -> list[APIRouter]:
    return [router]


def _labels(services: Services) -> LabelStore:
    return services.labels


def _earlier(services: Services, customer_id: str | None, conversation_id: str) -> list[ConversationRecord]:
    ids = services.reports.customer_conversations(customer_id) if customer_id else [conversation_id]
    records = [r for cid in ids for r in services.review.sessions_of(cid)]
    records.sort(key=lambda r: r.started_at, reverse=True)
    return records[:EARLIER_MAX]


@router.get("/api/handoffs/{handoff_id}/context")
async def handoff_context(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    handoff = await _opened(services, who, handoff_id, t)
    supervisor = who.agent.is_supervisor
    customer = handoff.customer_id
    records = await asyncio.to_thread(_earlier, services, customer, handoff.conversation_id)
    labels = await asyncio.to_thread(_labels(services).labels_by_conversation, sorted({r.id for r in records}
                                                                                      | {handoff.conversation_id}))
    query = urlencode({"customer": customer}) if customer else None
    return {
        "conversation_id": handoff.conversation_id,
        "customer_id": customer,
        "labels": labels.get(handoff.conversation_id, []),
        "may_label": supervisor or (handoff.status == "assigned" and handoff.agent_id == who.agent.username),
        "tickets_url": f"/tickets?{query}" if query else None,
        "transcripts_url": (f"/supervisor/transcripts?{query}" if query else
                            f"/supervisor/transcripts/{quote(handoff.conversation_id, safe='')}") if supervisor else None,
        "conversations": [
            {"conversation_id": r.id, "session_id": r.session_id, "started_at": r.started_at.isoformat(timespec="minutes"),
             "channel": t.label("channel", r.channel) if r.channel else "–",
             "reason": t.label("reason", r.handoff_reason) if r.handoff_reason else t("context_self_service"),
             "agent": r.agent_id, "csat": r.rating, "labels": labels.get(r.id, []),
             "current": r.id == handoff.conversation_id and r.ended_at is None,
             "url": transcript_url(r) if supervisor else None}
            for r in records
        ],
    }


async def _may_label(services: Services, who: Any, conversation_id: str, t: Any) -> None:
    if who.agent.is_supervisor:
        return
    if not await asyncio.to_thread(services.reports.holds_conversation, conversation_id, who.agent.username):
        raise HTTPException(status_code=403, detail=t("label_not_yours"))


@router.get("/api/conversations/{conversation_id}/labels")
async def labels_of(conversation_id: str, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    await _may_label(services, who, conversation_id, t)
    return {"labels": await asyncio.to_thread(_labels(services).labels_of, conversation_id)}


@router.post("/api/conversations/{conversation_id}/labels")
async def add_label(conversation_id: str, request: Request, services: ServicesDep, who: CurrentAgent,
                    t: T) -> dict[str, Any]:
    await _may_label(services, who, conversation_id, t)
    data = await payload(request)
    try:
        label = await asyncio.to_thread(lambda: _labels(services).add(conversation_id, str(data.get("label") or ""),
                                                                      actor=who.agent.username))
    except LabelError as exc:
        raise HTTPException(status_code=422, detail=t(exc.key)) from exc
    return {"label": label, "labels": await asyncio.to_thread(_labels(services).labels_of, conversation_id)}


@router.post("/api/conversations/{conversation_id}/labels/delete")
async def remove_label(conversation_id: str, request: Request, services: ServicesDep, who: CurrentAgent,
                       t: T) -> dict[str, Any]:
    await _may_label(services, who, conversation_id, t)
    data = await payload(request)
    removed = await asyncio.to_thread(_labels(services).remove, conversation_id, str(data.get("label") or ""))
    return {"removed": removed, "labels": await asyncio.to_thread(_labels(services).labels_of, conversation_id)}
