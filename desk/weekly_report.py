"""The weekly summary for supervisors: CSAT, resolution, SLA, top handoff reasons and the customer lines
the bot did not understand, for one week (Monday to Sunday, UTC), stored so past weeks can be opened.

The scheduled job (``python -m desk.retention``, run daily, calls ``run_due``; or by hand
``python -m desk.weekly_report [--week YYYY-MM-DD] [--force]``) writes the last complete week once; the
console shows the stored weeks (``/supervisor/reports/weekly``) and each as a CSV, and a supervisor writes
a week there too (``write``: the job may be off, or data came late). Only a week that is over can be
written, and not one whose transcripts retention has deleted (writing it again would lose its lines).

Figures (``figures`` of ``weekly_reports``, counts and rates only):

* conversations, handoffs, ratings, CSAT average, % satisfied, resolution rate: ``desk.metrics.dashboard``
  over the sessions started that week (the same definitions as the satisfaction dashboard; a customer
  returning after the report was written is not counted back);
* SLA: first response and resolution met / breached (``desk.sla``) of the chats and tickets opened that
  week, in total and per class;
* top handoff reasons: handoffs opened that week per reason, most first;
* misunderstood: customer lines of that week in the tracker store that went to ``nlu_fallback`` or were
  understood with a confidence under ``LOW_CONFIDENCE``; kept masked per conversation
  (``weekly_report_messages``, at most ``MAX_MESSAGES``), the top ones are the most frequent texts.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from common.masking import mask_text
from desk import metrics, sla
from desk._unit import retry_on_conflict, unit_of_work
from desk.errors import DeskError
from desk.models import Handoff, WeeklyReport, WeeklyReportMessage
from desk.review import _records
from desk.sla_store import SlaStore
from profiles.segmentation import Thresholds, load_thresholds

logger = logging.getLogger(__name__)
LOW_CONFIDENCE = 0.5
FALLBACK_INTENT = "nlu_fallback"
MAX_MESSAGES = 500
TOP = 10
TEXT_MAX = 300
EVENTS = "events"
EARLIEST = date(2000, 1, 3)  # a Monday; an earlier day is a typing slip, not a week anyone reports on


REFUSALS = {"bad_week": "a day before 2000-01-03 is taken for a typing slip",
            "not_over": "it is not over yet (from the Monday after it, UTC)",
            "purged": "retention (TRANSCRIPT_RETENTION_DAYS) has deleted its transcripts"}


class WeekRefused(DeskError, ValueError):
    """A week that cannot be written now; ``why`` ends its wording key (``weekly_<why>``)."""

    def __init__(self, week_start: date, why: str) -> None:
        super().__init__(f"the week of {week_start.isoformat()} cannot be written: {why}")
        self.week_start, self.why = week_start, why


@dataclass(frozen=True)
class StoredReport:
    id: int
    week_start: date
    generated_at: datetime
    figures: dict[str, Any]
    top_messages: list[tuple[str, int]]  # (masked text, times), most first


def last_complete_week(now: datetime) -> date:
    """The Monday of the week before ``now``'s."""
    return sla.week_of(now) - timedelta(days=7)


def refusal(week_start: date, now: datetime, retention_days: int = 0) -> str | None:
    """Why the week starting on ``week_start`` cannot be written at ``now`` (``WeekRefused.why``), or None."""
    if week_start < EARLIEST:
        return "bad_week"
    if week_start > last_complete_week(now):
        return "not_over"
    if retention_days > 0 and week_start < (now - timedelta(days=retention_days)).date():
        return "purged"
    return None


def _tally(t: sla.Tally) -> dict[str, Any]:
    return {"met": t.met, "breached": t.breached, "running": t.running, "met_rate": t.met_rate}


def sla_figures(evaluated: list[sla.Evaluated]) -> dict[str, Any]:
    by_class, total = sla.report(evaluated, "sla_class", sla.CLASSES)
    return {
        "items": total.items,
        "first_response": _tally(total.first_response),
        "resolution": _tally(total.resolution),
        "by_class": [{"sla_class": r.value, "items": r.items, "first_response": _tally(r.first_response),
                      "resolution": _tally(r.resolution)} for r in by_class],
    }


def misunderstood(tracker: Engine | None, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The customer lines between ``start`` and ``end`` (UTC) the NLU did not understand, masked, oldest
    first (none when the tracker store has no events table)."""
    if tracker is None or EVENTS not in sa.inspect(tracker).get_table_names():
        return []
    table = sa.Table(EVENTS, sa.MetaData(), autoload_with=tracker)
    epoch = datetime(1970, 1, 1)
    lo, hi = (start - epoch).total_seconds(), (end - epoch).total_seconds()
    found: list[dict[str, Any]] = []
    with tracker.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.sender_id, table.c.timestamp, table.c.data)
            .where(table.c.type_name == "user", table.c.timestamp >= lo, table.c.timestamp < hi)
            .order_by(table.c.timestamp))
        for sender, stamp, data in rows:
            try:
                event = json.loads(data) if isinstance(data, str) else dict(data or {})
            except ValueError:
                continue
            text = " ".join(str(event.get("text") or "").split())
            intent = ((event.get("parse_data") or {}).get("intent") or {})
            name, confidence = intent.get("name"), intent.get("confidence")
            low = confidence is not None and float(confidence) < LOW_CONFIDENCE
            if not text or text.startswith("/") or not (name == FALLBACK_INTENT or low):
                continue
            found.append({"conversation_id": str(sender), "text": mask_text(text)[:TEXT_MAX], "intent": name,
                          "confidence": None if confidence is None else float(confidence),
                          "created_at": epoch + timedelta(seconds=float(stamp))})
            if len(found) >= MAX_MESSAGES:
                break
    return found


class WeeklyReports:
    def __init__(self, session_factory: sessionmaker, *, tracker: Engine | None = None,
                 clock: Callable[[], datetime] = datetime.utcnow, policy: sla.Policy | None = None,
                 targets: metrics.Targets | None = None, thresholds: Thresholds | None = None) -> None:
        self._session_factory = session_factory
        self._thresholds = thresholds
        self._tracker = tracker
        self._clock = clock
        self._policy = policy
        self._targets = targets or metrics.Targets.load()

    # ------------------------------------------------------------------------------ writing
    def write(self, day: date | None = None, *, retention_days: int = 0) -> StoredReport:
        """Write (again) the week holding ``day`` (default: the last complete week), asked for by a person.

        Raises ``WeekRefused`` for a week that is not over yet (``not_over``: its report would stop
        short, and the scheduled job would then keep that copy), one older than the transcripts kept
        (``purged``: with ``retention_days`` set, its lines are deleted) or before ``EARLIEST``."""
        now = self._clock()
        week = sla.week_of(day) if day is not None else last_complete_week(now)
        why = refusal(week, now, retention_days)
        if why is not None:
            raise WeekRefused(week, why)
        return self.generate(week, replace=True)

    def generate(self, week_start: date, *, replace: bool = True) -> StoredReport:
        """Compute and store the week starting on ``week_start`` (a Monday); an earlier copy is replaced.

        Two writers of the same week at once (the job and a supervisor): the later insert meets the
        unique week and is done again as a replacement (or, without ``replace``, returns the stored one)."""
        return retry_on_conflict(lambda: self._generate(week_start, replace=replace), attempts=2)

    def _generate(self, week_start: date, *, replace: bool) -> StoredReport:
        week_start = sla.week_of(week_start)
        week_end = week_start + timedelta(days=6)
        start, end = datetime.combine(week_start, time.min), datetime.combine(week_end + timedelta(days=1), time.min)
        now = self._clock()
        evaluated = SlaStore(self._session_factory, clock=self._clock, policy=self._policy,
                             thresholds=self._thresholds).evaluated(
            date_from=week_start, date_to=week_end)
        lines = misunderstood(self._tracker, start, end)
        with unit_of_work(self._session_factory) as session:
            records = _records(session, date_from=week_start, date_to=week_end)
            d = metrics.dashboard(records, return_window_days=self._targets.return_window_days)
            reasons = Counter(session.scalars(select(Handoff.reason).where(Handoff.created_at >= start,
                                                                           Handoff.created_at < end)))
            figures = {
                "week_start": week_start.isoformat(), "week_end": week_end.isoformat(),
                "conversations": d.conversations, "handoffs": d.handoffs, "ratings": d.ratings,
                "csat_average": d.csat_average, "satisfied": d.satisfied,
                "resolution_rate": d.resolution_rate, "resolved": d.resolved,
                "csat_met": self._targets.met("csat_average", d.csat_average),
                "resolution_met": self._targets.met("resolution_rate", d.resolution_rate),
                "targets": {"csat_average": self._targets.csat_average,
                            "resolution_rate": self._targets.resolution_rate},
                "sla": sla_figures(evaluated),
                "top_reasons": [[reason, count] for reason, count in
                                sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]],
                "misunderstood": len(lines),
            }
            existing = session.scalars(select(WeeklyReport).where(WeeklyReport.week_start == week_start)).first()
            if existing is not None:
                if not replace:
                    return self._stored(session, existing)
                session.execute(delete(WeeklyReportMessage).where(WeeklyReportMessage.report_id == existing.id))
                existing.figures, existing.generated_at = figures, now
                report = existing
            else:
                report = WeeklyReport(week_start=week_start, generated_at=now, figures=figures)
                session.add(report)
            session.flush()
            session.add_all(WeeklyReportMessage(report_id=report.id, **line) for line in lines)
            session.flush()
            logger.info("weekly report for the week of %s written (%s misunderstood lines)", week_start, len(lines))
            return self._stored(session, report)

    def run_due(self) -> StoredReport | None:
        """The scheduled step: write the last complete week unless it is stored already."""
        week = last_complete_week(self._clock())
        with unit_of_work(self._session_factory) as session:
            if session.scalars(select(WeeklyReport.id).where(WeeklyReport.week_start == week)).first() is not None:
                return None
        return self.generate(week, replace=False)

    # ------------------------------------------------------------------------------ reading
    def weeks(self) -> list[tuple[date, datetime]]:
        """The stored weeks, newest first: (week start, generated at)."""
        with unit_of_work(self._session_factory) as session:
            return [(w, g) for w, g in session.execute(
                select(WeeklyReport.week_start, WeeklyReport.generated_at).order_by(WeeklyReport.week_start.desc()))]

    def get(self, week_start: date) -> StoredReport | None:
        with unit_of_work(self._session_factory) as session:
            report = session.scalars(select(WeeklyReport).where(WeeklyReport.week_start == week_start)).first()
            return None if report is None else self._stored(session, report)

    @staticmethod
    def _stored(session: Any, report: WeeklyReport) -> StoredReport:
        texts = Counter(session.scalars(select(WeeklyReportMessage.text)
                                        .where(WeeklyReportMessage.report_id == report.id)))
        top = sorted(texts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
        return StoredReport(id=report.id, week_start=report.week_start, generated_at=report.generated_at,
                            figures=dict(report.figures or {}), top_messages=top)


def csv_rows(report: StoredReport) -> tuple[list[str], list[list[Any]]]:
    """The report as ``section, item, value`` rows (one CSV for spreadsheets)."""
    f = report.figures
    rows: list[list[Any]] = [["week", "start", f.get("week_start")], ["week", "end", f.get("week_end")]]
    for key in ("conversations", "handoffs", "ratings", "csat_average", "satisfied", "resolution_rate",
                "csat_met", "resolution_met", "misunderstood"):
        rows.append(["summary", key, f.get(key)])
    s = f.get("sla") or {}
    for step in sla.STEPS:
        for key in ("met", "breached", "running", "met_rate"):
            rows.append(["sla", f"{step}_{key}", (s.get(step) or {}).get(key)])
    for entry in s.get("by_class") or []:
        for step in sla.STEPS:
            for key in ("met", "breached", "met_rate"):
                rows.append([f"sla_{entry['sla_class']}", f"{step}_{key}", (entry.get(step) or {}).get(key)])
    for reason, count in f.get("top_reasons") or []:
        rows.append(["handoff_reason", reason, count])
    for text, count in report.top_messages:
        rows.append(["misunderstood", text, count])
    return ["section", "item", "value"], rows


def main(argv: list[str] | None = None, session_factory: sessionmaker | None = None,
         tracker: Engine | None = None) -> int:
    from common.db import make_engine, make_session_factory
    from common.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m desk.weekly_report", description=__doc__.split("\n")[0])
    parser.add_argument("--week", type=date.fromisoformat, help="a day of the week to write (default: last week)")
    parser.add_argument("--force", action="store_true", help="write it again when already stored")
    args = parser.parse_args(argv)
    settings = get_settings()
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.database_url))
    if tracker is None:
        tracker = make_engine(settings.tracker_db_url)
    reports = WeeklyReports(session_factory, tracker=tracker, thresholds=load_thresholds(settings.segments_file))
    week = sla.week_of(args.week) if args.week else last_complete_week(datetime.utcnow())
    why = refusal(week, datetime.utcnow(), settings.transcript_retention_days)
    if why is not None:
        print(f"the week of {week.isoformat()} is not written: {REFUSALS[why]}", file=sys.stderr)
        return 2
    stored = reports.generate(week, replace=args.force)
    print(f"weekly report for the week of {stored.week_start.isoformat()} stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
