"""What the supervisor review pages share: the filters read from the query string, the review store,
the rows and CSV responses, and the refusals in the supervisor's language (``review_*`` keys of the
console's one wording file, ``desk/console/i18n.yml``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import HTTPException, Request
from fastapi.responses import Response

from desk.console.services import Services
from desk.csv_export import to_csv
from desk.experiment import STRATEGIES
from desk.metrics import ConversationRecord, Filters, sentiment_label
from desk.models import HandoffReason
from desk.review import CRITERIA, ReviewError, ReviewStore, TranscriptQuery

CHANNELS = ("web", "wechat", "rest")
LANGUAGES = ("zh", "en")
SENTIMENTS = ("negative", "neutral", "positive")
SEGMENTS = ("important_value", "potential", "at_risk", "new", "regular", "guest")
TONES = ("neutral", "empathetic", "concise", "warm", "elder_friendly")
PAGE_SIZE = 50  # transcript rows per page (the CSV export has them all)


def error(exc: ReviewError, t: Any) -> str:
    """The store's refusal in the supervisor's language (a criterion's name in its wording too)."""
    values = {k: (t(f"review_{v}") if k == "criterion" else v) for k, v in exc.values.items()}
    return t(exc.key, **values)


def page(request: Request) -> int | None:
    raw = request.query_params.get("page")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise HTTPException(status_code=422, detail="page is a number from 1")
    return int(raw)


def page_url(request: Request, page: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return f"{request.url.path}?{urlencode([*params, ('page', str(page))])}"


def store(services: Services) -> ReviewStore:
    return services.review


def day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise HTTPException(status_code=422, detail=f"not a date: {raw!r}") from None


def choice(raw: str | None, allowed: tuple[str, ...] | None = None) -> str | None:
    if not raw:
        return None
    if allowed is not None and raw not in allowed:
        raise HTTPException(status_code=422, detail=f"unknown value {raw!r}")
    return raw


def query(request: Request) -> TranscriptQuery:
    q = request.query_params
    csat = q.get("csat") or None
    if csat is not None and csat not in {"1", "2", "3", "4", "5"}:
        raise HTTPException(status_code=422, detail="csat is 1 to 5")
    return TranscriptQuery(
        date_from=day(q.get("date_from")), date_to=day(q.get("date_to")),
        channel=choice(q.get("channel")), language=choice(q.get("language")),
        reason=choice(q.get("reason")), sentiment=choice(q.get("sentiment"), SENTIMENTS),
        csat=int(csat) if csat else None, segment=choice(q.get("segment")), agent=choice(q.get("agent")),
        tone=choice(q.get("tone")), arm=choice(q.get("arm")), customer=customer_param(q.get("customer")),
    )


def customer_param(raw: str | None) -> str | None:
    if not raw:
        return None
    if len(raw) > 16:
        raise HTTPException(status_code=422, detail="not a customer id")
    return raw


def score(raw: str | None, name: str) -> int | None:
    if not raw:
        return None
    if raw not in {"1", "2", "3", "4", "5"}:
        raise HTTPException(status_code=422, detail=f"{name} is 1 to 5")
    return int(raw)


async def narrow(request: Request, services: Services, base: TranscriptQuery) -> tuple[TranscriptQuery, dict[str, Any]]:
    """The query narrowed to the conversations that match the full-text search (``q``), carry the label
    (``label``) and have a QA review scored between ``qa_min`` and ``qa_max`` (on ``qa_criterion``, else
    the mean of the criteria); with the newest matching line of each conversation (search hits)."""
    q = request.query_params
    ids: set[str] | None = None
    hits: dict[str, Any] = {}
    text = (q.get("q") or "").strip()
    if text:
        if not services.indexer.current():  # the background rounds stopped or are off: read the trackers now
            await services.search.refresh(services.rasa.tracker)
        hits = await asyncio.to_thread(services.search.conversation_ids, text)
        ids = set(hits)
    label = (q.get("label") or "").strip()
    if label:
        labelled = await asyncio.to_thread(services.labels.conversations_with, label)
        ids = labelled if ids is None else ids & labelled
    criterion = choice(q.get("qa_criterion"), CRITERIA)
    low, high = score(q.get("qa_min"), "qa_min"), score(q.get("qa_max"), "qa_max")
    if criterion or low is not None or high is not None:
        scored = await asyncio.to_thread(lambda: services.reports.qa_matching(
            criterion=criterion, minimum=low, maximum=high))
        ids = scored if ids is None else ids & scored
    return (replace(base, conversation_ids=frozenset(ids)) if ids is not None else base), hits


def filters(request: Request) -> Filters:
    q = request.query_params
    return Filters(
        segment=choice(q.get("segment")), channel=choice(q.get("channel")), language=choice(q.get("language")),
        tone=choice(q.get("tone")), arm=choice(q.get("arm")),
        date_from=day(q.get("date_from")), date_to=day(q.get("date_to")),
    )


async def payload(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return {k: v for k, v in (await request.form()).items() if k != "csrf_token"}
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and "application/json" not in request.headers.get(
        "accept", ""
    )


def row(r: ConversationRecord) -> dict[str, Any]:
    """One session of a conversation (``csat``: its latest rating; ``ratings``: all, oldest first)."""
    return {
        "conversation_id": r.id, "session_id": r.session_id, "started_at": r.started_at.isoformat(),
        "ended_at": r.ended_at.isoformat() if r.ended_at else None, "customer_id": r.customer_id,
        "status": r.status, "channel": r.channel, "language": r.language, "segment": r.segment, "tone": r.tone,
        "arm": r.arm, "handoff_reason": r.handoff_reason, "handoffs": len(r.handoffs), "agent": r.agent_id,
        "csat": r.rating, "ratings": " ".join(str(x) for x in r.ratings), "rating_requests": r.rating_requests,
        "sentiment_start": r.sentiment_start, "sentiment_end": r.sentiment_end,
        "sentiment": sentiment_label(r.sentiment_end),
    }


def transcript_url(r: ConversationRecord) -> str:
    url = f"/supervisor/transcripts/{quote(r.id, safe='')}"
    return f"{url}?session={r.session_id}" if r.session_id is not None else url


def csv_response(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    stamp = datetime.utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(
        to_csv(header, rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"', "Cache-Control": "no-store"},
    )


def options(records: list[ConversationRecord]) -> dict[str, Any]:
    return {
        "channels": sorted({*CHANNELS, *(r.channel for r in records if r.channel)}),
        "languages": LANGUAGES,
        "reasons": ["none", *(r.value for r in HandoffReason)],
        "sentiments": SENTIMENTS,
        "segments": sorted({*SEGMENTS, *(r.segment for r in records if r.segment)}),
        "agents": sorted({r.agent_id for r in records if r.agent_id}),
        "tones": TONES,
        "arms": sorted({*STRATEGIES, *(r.arm for r in records if r.arm)}),
    }


def session_param(request: Request) -> int | None:
    raw = request.query_params.get("session")
    if not raw:
        return None
    if not raw.isdigit():
        raise HTTPException(status_code=422, detail="session is a number")
    return int(raw)
