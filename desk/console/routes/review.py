"""Supervisor review (supervisors only; agents get 403 everywhere here): transcript search and view, QA
scores, low-CSAT follow-ups, the audited reveal of masked personal data, the audit log, the satisfaction
dashboard, and a CSV export of every list (formula-safe cells, ``desk.csv_export``)."""

from __future__ import annotations

import asyncio
import calendar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import yaml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from common.db import StoreUnavailable
from desk import metrics
from desk.console.dashboard_charts import bar_chart, diverging_chart, interval_chart, line_chart
from desk.console.deps import SUPERVISOR_ONLY, CurrentAgent, ServicesDep, T
from desk.console.pages import render
from desk.console.services import Services
from desk.csv_export import to_csv
from desk.experiment import STRATEGIES, experiment_from
from desk.metrics import ConversationRecord, Filters, sentiment_label
from desk.models import HandoffReason
from desk.rasa_client import RasaUnavailable
from desk.review import CRITERIA, ReviewError, ReviewStore, TranscriptQuery
from desk.transcripts import read_events
from profiles.vault import FIELDS, VaultError

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)
WORDING = Path(__file__).resolve().parent.parent / "review_i18n.yml"
CHANNELS = ("web", "wechat", "rest")
LANGUAGES = ("zh", "en")
SENTIMENTS = ("negative", "neutral", "positive")
SEGMENTS = ("important_value", "potential", "at_risk", "new", "regular", "guest")
TONES = ("neutral", "empathetic", "concise", "warm", "elder_friendly")
PAGE_SIZE = 50  # transcript rows per page (the CSV export has them all)


def routers() -> list[APIRouter]:
    return [router]


@lru_cache(maxsize=1)
def _wording() -> dict[str, dict[str, str]]:
    return yaml.safe_load(WORDING.read_text(encoding="utf-8"))


class Words:
    def __init__(self, language: str) -> None:
        self._w = _wording().get(language) or _wording()["en"]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._w.get(key) or _wording()["en"].get(key) or key
        return text.format(**values) if values else text


def _error(exc: ReviewError, t: Any) -> str:
    """The store's refusal in the supervisor's language (a criterion's name in its wording too)."""
    values = {k: (Words(t.language)(v) if k == "criterion" else v) for k, v in exc.values.items()}
    return t(exc.key, **values)


def _page(request: Request) -> int | None:
    raw = request.query_params.get("page")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise HTTPException(status_code=422, detail="page is a number from 1")
    return int(raw)


def _page_url(request: Request, page: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return f"{request.url.path}?{urlencode([*params, ('page', str(page))])}"


def _store(services: Services) -> ReviewStore:
    if services.review is None:
        raise HTTPException(status_code=503, detail="review unavailable")
    return services.review


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise HTTPException(status_code=422, detail=f"not a date: {raw!r}") from None


def _choice(raw: str | None, allowed: tuple[str, ...] | None = None) -> str | None:
    if not raw:
        return None
    if allowed is not None and raw not in allowed:
        raise HTTPException(status_code=422, detail=f"unknown value {raw!r}")
    return raw


def _query(request: Request) -> TranscriptQuery:
    q = request.query_params
    csat = q.get("csat") or None
    if csat is not None and csat not in {"1", "2", "3", "4", "5"}:
        raise HTTPException(status_code=422, detail="csat is 1 to 5")
    return TranscriptQuery(
        date_from=_day(q.get("date_from")), date_to=_day(q.get("date_to")),
        channel=_choice(q.get("channel")), language=_choice(q.get("language")),
        reason=_choice(q.get("reason")), sentiment=_choice(q.get("sentiment"), SENTIMENTS),
        csat=int(csat) if csat else None, segment=_choice(q.get("segment")), agent=_choice(q.get("agent")),
        tone=_choice(q.get("tone")), arm=_choice(q.get("arm")),
    )


def _filters(request: Request) -> Filters:
    q = request.query_params
    return Filters(
        segment=_choice(q.get("segment")), channel=_choice(q.get("channel")), language=_choice(q.get("language")),
        tone=_choice(q.get("tone")), arm=_choice(q.get("arm")),
        date_from=_day(q.get("date_from")), date_to=_day(q.get("date_to")),
    )


async def _payload(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return {k: v for k, v in (await request.form()).items() if k != "csrf_token"}
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and "application/json" not in request.headers.get(
        "accept", ""
    )


def _row(r: ConversationRecord) -> dict[str, Any]:
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


def _transcript_url(r: ConversationRecord) -> str:
    url = f"/supervisor/transcripts/{quote(r.id, safe='')}"
    return f"{url}?session={r.session_id}" if r.session_id is not None else url


def _csv_response(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    stamp = datetime.utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(
        to_csv(header, rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"', "Cache-Control": "no-store"},
    )


def _options(records: list[ConversationRecord]) -> dict[str, Any]:
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


# ------------------------------------------------------------------------------------ transcripts


@router.get("/transcripts", response_class=HTMLResponse)
async def transcripts_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    query = _query(request)
    page = _page(request) or 1
    records = await asyncio.to_thread(
        lambda: _store(services).records(date_from=query.date_from, date_to=query.date_to))
    rows = [r for r in records if query.matches(r)]
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    csv_query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page"])  # all pages
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return render(request, "review_transcripts.html", w=Words(t.language), rows=shown, total=len(rows),
                  page=page, pages=pages, url_of=_transcript_url,
                  previous_url=_page_url(request, page - 1) if page > 1 else None,
                  next_url=_page_url(request, page + 1) if page < pages else None,
                  q=request.query_params, options=_options(records), csv_url=f"/supervisor/transcripts.csv?{csv_query}")


@router.get("/api/transcripts")
async def transcripts_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Every matching session, or one page of them with ``?page=`` (``PAGE_SIZE`` a page)."""
    page = _page(request)
    rows = await asyncio.to_thread(_store(services).search, _query(request))
    shown = rows if page is None else rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return {"count": len(rows), "page": page, "page_size": PAGE_SIZE if page else None,
            "transcripts": [_row(r) for r in shown]}


@router.get("/transcripts.csv")
async def transcripts_csv(request: Request, services: ServicesDep) -> Response:
    rows = [_row(r) for r in await asyncio.to_thread(_store(services).search, _query(request))]
    header = list(_row(ConversationRecord(id="", started_at=datetime.utcnow())).keys())
    return _csv_response("transcripts", header, [[r[h] for h in header] for r in rows])


def _epoch(moment: datetime) -> float:
    return float(calendar.timegm(moment.utctimetuple())) + moment.microsecond / 1e6


def _session_lines(events: list[dict[str, Any]], record: ConversationRecord, oldest: bool) -> list[Any]:
    """The tracker's lines of this session: from its start (the oldest session also shows anything
    earlier) until the next session's start (the desk opens a session just before Rasa's own start)."""
    lines = read_events(events)
    low = None if oldest else _epoch(record.started_at)
    high = _epoch(record.ended_at) if record.ended_at else None
    return [m for m in lines if (low is None or m.timestamp >= low) and (high is None or m.timestamp < high)]


def _session_param(request: Request) -> int | None:
    raw = request.query_params.get("session")
    if not raw:
        return None
    if not raw.isdigit():
        raise HTTPException(status_code=422, detail="session is a number")
    return int(raw)


async def _transcript_detail(services: Services, conversation_id: str, session_id: int | None) -> dict[str, Any]:
    """One session of one conversation: only that conversation's rows are read."""
    store = _store(services)
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
    except RasaUnavailable:
        lines = None
    reviews = await asyncio.to_thread(store.reviews_for, conversation_id)
    masked = await asyncio.to_thread(store.masked_fields, record.customer_id)
    return {"record": record, "sessions": sessions, "lines": lines, "reviews": reviews, "masked": masked}


@router.get("/transcripts/{conversation_id}", response_class=HTMLResponse)
async def transcript_page(conversation_id: str, request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    detail = await _transcript_detail(services, conversation_id, _session_param(request))
    return render(request, "review_transcript.html", w=Words(t.language), criteria=CRITERIA, fields=FIELDS,
                  url_of=_transcript_url, **detail)


@router.get("/api/transcripts/{conversation_id}")
async def transcript_json(conversation_id: str, request: Request, services: ServicesDep) -> dict[str, Any]:
    detail = await _transcript_detail(services, conversation_id, _session_param(request))
    return {
        **_row(detail["record"]),
        "sessions": [{"session_id": r.session_id, "started_at": r.started_at.isoformat()} for r in detail["sessions"]],
        "messages": [m.as_dict() for m in detail["lines"]] if detail["lines"] is not None else None,
        "reviews": [{**r.__dict__, "created_at": r.created_at.isoformat()} for r in detail["reviews"]],
        "masked": detail["masked"],
    }


@router.post("/api/transcripts/{conversation_id}/reviews")
async def add_review(conversation_id: str, request: Request, services: ServicesDep, who: CurrentAgent,
                     t: T) -> Any:
    data = await _payload(request)
    try:
        scores = {c: int(data.get(c)) for c in CRITERIA}  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise HTTPException(status_code=422, detail="each criterion needs a score from 1 to 5") from None
    try:
        review = await asyncio.to_thread(_store(services).add_review, conversation_id=conversation_id,
                                         reviewer=who.agent.username, scores=scores, notes=data.get("notes"))
    except ReviewError as exc:
        raise HTTPException(status_code=404 if exc.not_found else 422, detail=_error(exc, t)) from exc
    if _wants_page(request):
        session = _session_param(request)  # the form posts back to the session it was on
        suffix = f"?session={session}" if session is not None else ""
        return RedirectResponse(f"/supervisor/transcripts/{quote(conversation_id, safe='')}{suffix}#qa",
                                status_code=303)
    return {**review.__dict__, "created_at": review.created_at.isoformat()}


# ------------------------------------------------------------------------------------ reveal + audit


@router.post("/api/reveal")
async def reveal(request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    """One field of one customer, in clear, for this supervisor; the audit row is written first."""
    data = await _payload(request)
    field = str(data.get("field") or "")
    if field not in FIELDS:
        raise HTTPException(status_code=422, detail=f"field is one of {', '.join(FIELDS)}")
    try:
        value = await asyncio.to_thread(
            _store(services).reveal, supervisor=who.agent.username, customer_id=str(data.get("customer_id") or ""),
            field=field, reason=str(data.get("reason") or ""), conversation_id=data.get("conversation_id") or None,
        )
    except ReviewError as exc:
        raise HTTPException(status_code=422, detail=_error(exc, t)) from exc
    except VaultError as exc:
        raise HTTPException(status_code=404, detail=f"not available: {exc}") from exc
    return {"field": field, "value": value}


def _audit_args(request: Request) -> dict[str, str | None]:
    q = request.query_params
    return {"supervisor": q.get("supervisor") or None, "customer_id": q.get("customer_id") or None,
            "field": _choice(q.get("field"), FIELDS)}


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    rows = await asyncio.to_thread(lambda: _store(services).audit_log(**_audit_args(request)))
    return render(request, "review_audit.html", w=Words(t.language), rows=rows, q=request.query_params,
                  fields=FIELDS, csv_url=f"/supervisor/audit.csv?{request.url.query}")


@router.get("/api/audit")
async def audit_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    rows = await asyncio.to_thread(lambda: _store(services).audit_log(**_audit_args(request)))
    return {"count": len(rows), "reveals": [{**r.__dict__, "created_at": r.created_at.isoformat()} for r in rows]}


@router.get("/audit.csv")
async def audit_csv(request: Request, services: ServicesDep) -> Response:
    rows = await asyncio.to_thread(lambda: _store(services).audit_log(**_audit_args(request)))
    header = ["id", "created_at", "supervisor", "customer_id", "field", "reason", "conversation_id"]
    return _csv_response("audit", header, [[getattr(r, h) for h in header] for r in rows])


# ------------------------------------------------------------------------------------ follow-ups


async def _followups(request: Request, services: Services) -> list[Any]:
    open_only = request.query_params.get("open") in {"1", "true", "yes"}
    rows = await asyncio.to_thread(lambda: _store(services).followups(open_only=open_only))
    if request.query_params.get("overdue") in {"1", "true", "yes"}:
        rows = [r for r in rows if r.overdue]
    return rows


@router.get("/followups", response_class=HTMLResponse)
async def followups_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    rows = await _followups(request, services)
    return render(request, "review_followups.html", w=Words(t.language), rows=rows, q=request.query_params,
                  csv_url=f"/supervisor/followups.csv?{request.url.query}")


@router.get("/api/followups")
async def followups_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    rows = await _followups(request, services)
    return {"count": len(rows), "followups": [
        {**r.__dict__, **{k: (getattr(r, k).isoformat() if getattr(r, k) else None)
                          for k in ("created_at", "due_at", "closed_at")}} for r in rows]}


@router.get("/followups.csv")
async def followups_csv(request: Request, services: ServicesDep) -> Response:
    rows = await _followups(request, services)
    header = ["ticket_id", "conversation_id", "customer_id", "rating", "comment", "created_at", "due_at", "status",
              "overdue", "closed_by", "note", "closed_at"]
    return _csv_response("followups", header, [[getattr(r, h) for h in header] for r in rows])


@router.post("/api/followups/{ticket_id}/close")
async def close_followup(ticket_id: int, request: Request, services: ServicesDep, who: CurrentAgent,
                         t: T) -> Any:
    data = await _payload(request)
    try:
        row = await asyncio.to_thread(_store(services).close_followup, ticket_id, supervisor=who.agent.username,
                                      note=str(data.get("note") or ""))
    except ReviewError as exc:
        raise HTTPException(status_code=404 if exc.not_found else 422, detail=_error(exc, t)) from exc
    if _wants_page(request):
        return RedirectResponse("/supervisor/followups", status_code=303)
    return {"ticket_id": row.ticket_id, "status": row.status, "closed_by": row.closed_by}


# ------------------------------------------------------------------------------------ dashboard


def _arms(services: Services, records: list[ConversationRecord]) -> list[str]:
    try:
        experiment = experiment_from(services.settings.tone_experiment)
    except ValueError:
        experiment = None
    arms = list(experiment.arms) if experiment else []
    return arms + sorted({r.arm for r in records if r.arm and r.arm not in arms})


BREAKDOWN_ORDER = {"segment": SEGMENTS, "channel": CHANNELS, "language": LANGUAGES, "tone": TONES}


def _breakdown_by(request: Request) -> str:
    return _choice(request.query_params.get("breakdown"), metrics.BREAKDOWNS) or "segment"


async def _dashboard(request: Request, services: Services
                     ) -> tuple[metrics.Dashboard, metrics.Breakdown, list[ConversationRecord]]:
    """The figures, and the same sessions side by side by ``?breakdown=`` (segment by default)."""
    filters = _filters(request)
    by = _breakdown_by(request)
    try:
        records = await asyncio.to_thread(
            lambda: _store(services).records(date_from=filters.date_from, date_to=filters.date_to))
    except StoreUnavailable as exc:
        raise HTTPException(status_code=503, detail="database unavailable") from exc
    chosen = metrics.select(records, filters)
    return (metrics.dashboard(chosen, _arms(services, records)), metrics.breakdown(chosen, by, BREAKDOWN_ORDER[by]),
            records)


def _interval(ci: metrics.Interval | None) -> dict[str, float] | None:
    return None if ci is None else {"estimate": ci.estimate, "low": ci.low, "high": ci.high, "n": ci.n}


def _figures(d: metrics.Dashboard) -> dict[str, Any]:
    """The figures the dashboard shows for one set of sessions (the breakdown has them for each group)."""
    return {
        "conversations": d.conversations, "ratings": d.ratings, "rating_requests": d.rating_requests,
        "handoffs": d.handoffs, "csat_average": d.csat_average, "satisfied": d.satisfied,
        "response_rate": d.response_rate, "containment": d.containment, "handoff_rate": d.handoff_rate,
        "first_response_median_s": d.first_response_median_s, "first_response_p90_s": d.first_response_p90_s,
        "first_responses": d.first_responses, "sentiment_start": d.sentiment_start, "sentiment_end": d.sentiment_end,
        "sentiment_pairs": d.sentiment_pairs,
    }


def _group_label(t: Any, by: str, value: str | None) -> str:
    """A group's name in the supervisor's language (the raw value where the console has no label for it)."""
    if value is None:
        return t("review_breakdown_none")
    if by == "segment":
        return t.label("segment", value)
    key = f"review_{by}_{value}"
    text = t(key)
    return value if text == key else text


@router.get("/api/dashboard")
async def dashboard_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    d, b, _ = await _dashboard(request, services)
    return {
        **_figures(d),
        "handoff_rate_by_reason": d.handoff_rate_by_reason,
        "csat_by_day": [{"day": x.day.isoformat(), "ratings": x.ratings, "average": x.average,
                         "satisfied": x.satisfied} for x in d.csat_by_day],
        "arms": [{"arm": a.arm, "conversations": a.conversations, "ratings": a.ratings,
                  "csat_average": a.csat_average, "satisfied": _interval(a.satisfied),
                  "containment": _interval(a.containment)} for a in d.arms],
        "arm_difference": {"satisfied": _interval(d.arm_difference_satisfied),
                           "containment": _interval(d.arm_difference_containment)},
        "breakdown": {"by": b.by, "groups": [{"value": g.value, **_figures(g.figures)} for g in b.groups],
                      "all": _figures(b.all)},
    }


@router.get("/dashboard/breakdown.csv")
async def breakdown_csv(request: Request, services: ServicesDep, t: T) -> Response:
    """The breakdown table: one row per group, then ``all``; ``label`` in the supervisor's language."""
    _, b, _ = await _dashboard(request, services)
    columns = list(_figures(b.all))
    rows = [[g.value, _group_label(t, b.by, g.value), *_figures(g.figures).values()] for g in b.groups]
    rows.append(["all", t("review_breakdown_all"), *_figures(b.all).values()])
    return _csv_response(f"breakdown-{b.by}", [b.by, "label", *columns], rows)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    d, b, records = await _dashboard(request, services)
    w = Words(t.language)
    charts = {
        "csat": line_chart([(x.day.isoformat(), x.average) for x in d.csat_by_day], low=1, high=5,
                           title=w("csat_over_time"), testid="chart-csat"),
        "satisfied": line_chart([(x.day.isoformat(), x.satisfied) for x in d.csat_by_day], low=0, high=1,
                                title=w("satisfied"), testid="chart-satisfied"),
        "reasons": bar_chart([(t.label("reason", k), v) for k, v in d.handoff_rate_by_reason.items()],
                             maximum=max([*d.handoff_rate_by_reason.values(), 0.01]), title=w("handoff_by_reason"),
                             testid="chart-reasons"),
        "rates": bar_chart([(w("response_rate"), d.response_rate or 0), (w("containment"), d.containment or 0),
                            (w("handoff_rate"), d.handoff_rate or 0), (w("satisfied"), d.satisfied or 0)],
                           maximum=1, title=w("dashboard"), testid="chart-rates"),
        "sentiment": diverging_chart([(w("start"), d.sentiment_start), (w("end"), d.sentiment_end)],
                                     title=w("sentiment_start_end"), testid="chart-sentiment"),
        "arms_satisfied": interval_chart([(a.arm, a.satisfied) for a in d.arms], title=w("satisfied"),
                                         testid="chart-arms-satisfied"),
        "arms_containment": interval_chart([(a.arm, a.containment) for a in d.arms], title=w("containment"),
                                           testid="chart-arms-containment"),
    }
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "breakdown"]  # the other filters
    return render(request, "review_dashboard.html", w=w, d=d, charts=charts, q=request.query_params,
                  options=_options(records), b=b, breakdowns=metrics.BREAKDOWNS, kept=kept,
                  group_label=lambda value: _group_label(t, b.by, value),
                  breakdown_csv_url=f"/supervisor/dashboard/breakdown.csv?{urlencode([('breakdown', b.by), *kept])}")
