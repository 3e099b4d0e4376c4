"""Supervisor review, satisfaction dashboard: the figures, the charts, the breakdown by group (JSON, CSV)."""

from __future__ import annotations

import asyncio
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from common.db import StoreUnavailable
from desk import metrics
from desk.console.dashboard_charts import bar_chart, diverging_chart, interval_chart, line_chart
from desk.console.deps import SUPERVISOR_ONLY, ServicesDep, T
from desk.console.pages import render
from desk.console.routes import review_shared as shared
from desk.console.services import Services
from desk.experiment import experiment_from
from desk.metrics import ConversationRecord
from desk.ticket_inbox import Viewer

router = APIRouter(prefix="/supervisor", dependencies=SUPERVISOR_ONLY)


def routers() -> list[APIRouter]:
    return [router]


def _arms(services: Services, records: list[ConversationRecord]) -> list[str]:
    try:
        experiment = experiment_from(services.settings.tone_experiment)
    except ValueError:
        experiment = None
    arms = list(experiment.arms) if experiment else []
    return arms + sorted({r.arm for r in records if r.arm and r.arm not in arms})


TARGETS = metrics.Targets.load()  # desk/targets.yml
BREAKDOWN_ORDER = {
    "segment": shared.SEGMENTS, "channel": shared.CHANNELS, "language": shared.LANGUAGES, "tone": shared.TONES,
}


def _breakdown_by(request: Request) -> str:
    return shared.choice(request.query_params.get("breakdown"), metrics.BREAKDOWNS) or "segment"


async def _dashboard(request: Request, services: Services
                     ) -> tuple[metrics.Dashboard, metrics.Breakdown, list[ConversationRecord]]:
    """The figures, and the same sessions side by side by ``?breakdown=`` (segment by default)."""
    filters = shared.filters(request)
    by = _breakdown_by(request)
    try:
        records = await asyncio.to_thread(
            lambda: shared.store(services).records(date_from=filters.date_from, date_to=filters.date_to))
    except StoreUnavailable as exc:
        raise HTTPException(status_code=503, detail="database unavailable") from exc
    chosen = metrics.select(records, filters)
    return (metrics.dashboard(chosen, _arms(services, records), return_window_days=TARGETS.return_window_days), metrics.breakdown(chosen, by, BREAKDOWN_ORDER[by]),
            records)


def _interval(ci: metrics.Interval | None) -> dict[str, float] | None:
    return None if ci is None else {"estimate": ci.estimate, "low": ci.low, "high": ci.high, "n": ci.n}


def _figures(d: metrics.Dashboard) -> dict[str, Any]:
    """The figures the dashboard shows for one set of sessions (the breakdown has them for each group)."""
    return {
        "conversations": d.conversations, "ratings": d.ratings, "rating_requests": d.rating_requests,
        "handoffs": d.handoffs, "csat_average": d.csat_average, "satisfied": d.satisfied,
        "resolution_rate": d.resolution_rate, "resolved": d.resolved,
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


async def _offers(request: Request, services: Services) -> list[dict[str, Any]]:
    """The offers card: issued and redeemed by kind and experiment arm, from ``date_from`` on (all time
    without it). Redemption is the offer experiment's outcome."""
    since = shared.filters(request).date_from
    try:
        rows = await asyncio.to_thread(
            services.offers.summary, datetime.combine(since, time.min) if since else None)
    except StoreUnavailable as exc:
        raise HTTPException(status_code=503, detail="database unavailable") from exc
    return [{"kind": r.kind, "experiment": r.experiment, "arm": r.arm, "issued": r.issued, "redeemed": r.redeemed,
             "rate": r.rate} for r in rows]


@router.get("/api/dashboard")
async def dashboard_json(request: Request, services: ServicesDep) -> dict[str, Any]:
    d, b, _ = await _dashboard(request, services)
    return {
        "offers": await _offers(request, services),
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
    return shared.csv_response(f"breakdown-{b.by}", [b.by, "label", *columns], rows)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request, services: ServicesDep, t: T) -> HTMLResponse:
    d, b, records = await _dashboard(request, services)
    charts = {
        "csat": line_chart([(x.day.isoformat(), x.average) for x in d.csat_by_day], low=1, high=5,
                           title=t("review_csat_over_time"), testid="chart-csat",
                           target=TARGETS.csat_average, target_label=t("review_target")),
        "satisfied": line_chart([(x.day.isoformat(), x.satisfied) for x in d.csat_by_day], low=0, high=1,
                                title=t("review_satisfied"), testid="chart-satisfied"),
        "reasons": bar_chart([(t.label("reason", k), v) for k, v in d.handoff_rate_by_reason.items()],
                             maximum=max([*d.handoff_rate_by_reason.values(), 0.01]),
                             title=t("review_handoff_by_reason"), testid="chart-reasons"),
        "rates": bar_chart([(t("review_response_rate"), d.response_rate or 0),
                            (t("review_containment"), d.containment or 0),
                            (t("review_handoff_rate"), d.handoff_rate or 0),
                            (t("review_satisfied"), d.satisfied or 0)],
                           maximum=1, title=t("review_dashboard"), testid="chart-rates"),
        "sentiment": diverging_chart([(t("review_start"), d.sentiment_start), (t("review_end"), d.sentiment_end)],
                                     title=t("review_sentiment_start_end"), testid="chart-sentiment"),
        "arms_satisfied": interval_chart([(a.arm, a.satisfied) for a in d.arms], title=t("review_satisfied"),
                                         testid="chart-arms-satisfied"),
        "arms_containment": interval_chart([(a.arm, a.containment) for a in d.arms], title=t("review_containment"),
                                           testid="chart-arms-containment"),
    }
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "breakdown"]  # the other filters
    met = {"csat": TARGETS.met("csat_average", d.csat_average),
           "resolution": TARGETS.met("resolution_rate", d.resolution_rate)}
    overdue_tickets = await asyncio.to_thread(services.inbox.overdue_count, Viewer("", supervisor=True))
    offers = await _offers(request, services)
    return render(request, "review_dashboard.html", d=d, charts=charts, q=request.query_params, offers=offers,
                  targets=TARGETS, met=met, overdue_tickets=overdue_tickets,
                  options=shared.options(records), b=b, breakdowns=metrics.BREAKDOWNS, kept=kept,
                  group_label=lambda value: _group_label(t, b.by, value),
                  breakdown_csv_url=f"/supervisor/dashboard/breakdown.csv?{urlencode([('breakdown', b.by), *kept])}")
