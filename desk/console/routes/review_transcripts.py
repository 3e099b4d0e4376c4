"""Supervisor review, transcripts: search (page, JSON, CSV) and one session of one conversation."""

from __future__ import annotations

import asyncio
import calendar
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from desk.console.deps import SUPERVISOR_ONLY, ServicesDep, T
from desk.console.pages import render
from desk.console.routes import review_shared as shared
from desk.console.services import Services
from desk.metrics import ConversationRecord
from desk.rasa_client import RasaUnavailable
from desk.review import CRITERIA
from desk.transcripts import read_events
from profiles.vault import FIELDS

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router]


@router.get("/transcripts", response_class=HTMLResponse)
async def transcripts_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    query, hits = await shared.narrow(request, services, shared.query(request))
    page = shared.page(request) or 1
    records = await asyncio.to_thread(
        lambda: shared.store(services).records(date_from=query.date_from, date_to=query.date_to))
    rows = [r for r in records if query.matches(r)]
    labels = await asyncio.to_thread(services.labels.labels_by_conversation)
    pages = max(1, -(-len(rows) // shared.PAGE_SIZE))
    csv_query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page"])  # all pages
    shown = rows[(page - 1) * shared.PAGE_SIZE: page * shared.PAGE_SIZE]
    return render(request, "review_transcripts.html", rows=shown, total=len(rows),
                  page=page, pages=pages, url_of=shared.transcript_url,
                  previous_url=shared.page_url(request, page - 1) if page > 1 else None,
                  next_url=shared.page_url(request, page + 1) if page < pages else None,
                  q=request.query_params, options=shared.options(records),
                  csv_url=f"/supervisor/transcripts.csv?{csv_query}", hits=hits, labels=labels,
                  all_labels=sorted({x for v in labels.values() for x in v}), criteria=CRITERIA)


@router.get("/api/transcripts")
async def transcripts_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Every matching session, or one page of them with ``?page=`` (``shared.PAGE_SIZE`` a page)."""
    page = shared.page(request)
    query, hits = await shared.narrow(request, services, shared.query(request))
    rows = await asyncio.to_thread(shared.store(services).search, query)
    shown = rows if page is None else rows[(page - 1) * shared.PAGE_SIZE: page * shared.PAGE_SIZE]
    return {"count": len(rows), "page": page, "page_size": shared.PAGE_SIZE if page else None,
            "transcripts": [{**shared.row(r), **({"match": hits[r.id].text} if r.id in hits else {})}
                            for r in shown]}


@router.get("/transcripts.csv")
async def transcripts_csv(request: Request, services: ServicesDep) -> Response:
    query, _ = await shared.narrow(request, services, shared.query(request))
    rows = [shared.row(r) for r in await asyncio.to_thread(shared.store(services).search, query)]
    header = list(shared.row(ConversationRecord(id="", started_at=datetime.utcnow())).keys())
    return shared.csv_response("transcripts", header, [[r[h] for h in header] for r in rows])


def _epoch(moment: datetime) -> float:
    return float(calendar.timegm(moment.utctimetuple())) + moment.microsecond / 1e6


def _session_lines(events: list[dict[str, Any]], record: ConversationRecord, oldest: bool) -> list[Any]:
    """The tracker's lines of this session: from its start (the oldest session also shows anything
    earlier) until the next session's start (the desk opens a session just before Rasa's own start)."""
    lines = read_events(events)
    low = None if oldest else _epoch(record.started_at)
    high = _epoch(record.ended_at) if record.ended_at else None
    return [m for m in lines if (low is None or m.timestamp >= low) and (high is None or m.timestamp < high)]


async def _transcript_detail(services: Services, conversation_id: str, session_id: int | None) -> dict[str, Any]:
    """One session of one conversation: only that conversation's rows are read."""
    store = shared.store(services)
    sessions = await asyncio.to_thread(store.sessions_of, conversation_id)
    if session_id is None:
        record = sessions[0] if sessions else None
    else:
        record = next((r for r in sessions if r.session_id == session_id), None)
    if record is None:
        raise HTTPException(status_code=404, detail="no such conversation")
    try:
        tracker = await services.rasa.tracker(conversation_id)
        lines = _session_lines(tracker.get("events") or [], record, oldest=record is sessions[-1])
        # the search index follows what was read
        await asyncio.to_thread(services.search.index_events, conversation_id, tracker.get("events") or [])
    except RasaUnavailable:
        lines = None
    reviews = await asyncio.to_thread(store.reviews_for, conversation_id)
    masked = await asyncio.to_thread(store.masked_fields, record.customer_id)
    labels = await asyncio.to_thread(services.labels.labels_of, conversation_id)
    proactive = await asyncio.to_thread(services.care.for_conversation, conversation_id)
    return {"record": record, "sessions": sessions, "lines": lines, "reviews": reviews, "masked": masked,
            "labels": labels, "proactive": proactive}


@router.get("/transcripts/{conversation_id}", response_class=HTMLResponse)
async def transcript_page(conversation_id: str, request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    detail = await _transcript_detail(services, conversation_id, shared.session_param(request))
    return render(request, "review_transcript.html", criteria=CRITERIA, fields=FIELDS,
                  url_of=shared.transcript_url, **detail)


@router.get("/api/transcripts/{conversation_id}")
async def transcript_json(conversation_id: str, request: Request, services: ServicesDep) -> dict[str, Any]:
    detail = await _transcript_detail(services, conversation_id, shared.session_param(request))
    return {
        **shared.row(detail["record"]),
        "sessions": [{"session_id": r.session_id, "started_at": r.started_at.isoformat()} for r in detail["sessions"]],
        "messages": [m.as_dict() for m in detail["lines"]] if detail["lines"] is not None else None,
        "reviews": [{**r.__dict__, "created_at": r.created_at.isoformat()} for r in detail["reviews"]],
        "masked": detail["masked"],
        "labels": detail["labels"],
        "proactive": detail["proactive"],
    }
