"""Transcript retention: delete conversations whose last event is older than the configured age.

``python -m desk.retention [--older-than-days N] [--dry-run]`` (default ``TRANSCRIPT_RETENTION_DAYS``;
0 keeps everything). A conversation is expired when its newest stored event is older than the cut-off;
then all its tracker events, its checkpoint and its archived events (``event_archive``, where the
table exists) are deleted together, so a transcript is never cut in the middle. The application
tables (tickets, handoffs, feedback) are kept: they hold counts and ratings, not what was said; but the
transcript lines copied into a handoff package (``last_messages``) go with the conversation, and from
every closed handoff older than the cut-off.

In the application database (``DATABASE_URL``) each run also deletes, whatever the age setting, the
WeChat outbox rows already delivered and the expired ``wechat_kv`` keys; held WeChat lines older
than the cut-off are deleted too (each owner module does its own rows: bot/connectors), and so are the
proactive messages (``desk.care``) recorded before it.

Each run also writes the weekly report of the last complete week when it is not stored yet
(``desk.weekly_report.WeeklyReports.run_due``): the scheduled process of the desk.

Run it from cron or a systemd timer (daily); it is idempotent.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from desk import care
from desk.models import Handoff
from wechat import outbox as wechat_outbox
from wechat import stores as wechat_stores

logger = logging.getLogger(__name__)
EVENT_TABLES = ("events", "event_archive")
CHECKPOINTS = "tracker_checkpoints"
BATCH = 500
TRANSCRIPT_KEYS = ("last_messages",)  # handoff package keys that copy what was said
OPEN_HANDOFFS = ("queued", "assigned")


@dataclass(frozen=True)
class RetentionResult:
    conversations: int
    events: int


def _tables(engine: Engine) -> dict[str, sa.Table]:
    present = set(sa.inspect(engine).get_table_names())
    wanted = [t for t in (*EVENT_TABLES, CHECKPOINTS) if t in present]
    metadata = sa.MetaData()
    metadata.reflect(engine, only=wanted)
    return {name: metadata.tables[name] for name in wanted}


def expired_senders(engine: Engine, cutoff: float) -> list[str]:
    """Senders whose newest event (in any event table) has a timestamp before ``cutoff`` (epoch s)."""
    tables = _tables(engine)
    newest: dict[str, float] = {}
    with engine.connect() as connection:
        for name in EVENT_TABLES:
            if name not in tables:
                continue
            table = tables[name]
            for sender, stamp in connection.execute(
                sa.select(table.c.sender_id, sa.func.max(table.c.timestamp)).group_by(table.c.sender_id)
            ):
                newest[sender] = max(newest.get(sender, 0.0), float(stamp or 0.0))
    return sorted(sender for sender, stamp in newest.items() if stamp < cutoff)


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).replace(tzinfo=None)


def strip_handoff_transcripts(connection: sa.engine.Connection, senders: list[str], *, before: datetime) -> int:
    """Empty the transcript lines in the packages of ``senders``' handoffs and of closed ones created before
    ``before``; the number of handoffs changed."""
    if Handoff.__tablename__ not in sa.inspect(connection).get_table_names():
        return 0
    table = Handoff.__table__
    changed = 0
    chosen = sa.or_(table.c.conversation_id.in_(senders),
                    sa.and_(table.c.created_at < before, table.c.status.not_in(OPEN_HANDOFFS)))
    for handoff_id, package in connection.execute(sa.select(table.c.id, table.c.package).where(chosen)):
        package = dict(package or {})
        if not any(package.get(key) for key in TRANSCRIPT_KEYS):
            continue
        package.update({key: [] for key in TRANSCRIPT_KEYS})
        connection.execute(sa.update(table).where(table.c.id == handoff_id).values(package=package))
        changed += 1
    return changed


def purge_app(app_engine: Engine, senders: list[str], *, now: float, older_than_days: int) -> None:
    """The application database's share: WeChat outbox and keys, transcript lines in handoff packages."""
    with app_engine.begin() as connection:
        wechat_stores.purge_expired_rows(connection, now=now)
        if older_than_days <= 0:
            return
        cutoff = _utc(now - older_than_days * 86400)
        wechat_outbox.purge(connection, held_before=cutoff)
        care.purge(connection, before=cutoff)
        for start in range(0, max(len(senders), 1), BATCH):
            stripped = strip_handoff_transcripts(connection, senders[start:start + BATCH], before=cutoff)
            if stripped:
                logger.info("retention: transcript lines removed from %s handoff packages", stripped)


def purge(engine: Engine, *, older_than_days: int, clock: Callable[[], float] = time.time,
          dry_run: bool = False, app_engine: Engine | None = None) -> RetentionResult:
    """``engine``: the tracker store; ``app_engine``: the application database (WeChat tables, handoffs)."""
    if older_than_days <= 0:
        if app_engine is not None and not dry_run:
            purge_app(app_engine, [], now=clock(), older_than_days=0)
        return RetentionResult(conversations=0, events=0)
    senders = expired_senders(engine, clock() - older_than_days * 86400)
    if app_engine is not None and not dry_run:
        purge_app(app_engine, senders, now=clock(), older_than_days=older_than_days)
    if dry_run or not senders:
        return RetentionResult(conversations=len(senders), events=0)
    tables = _tables(engine)
    events = 0
    for start in range(0, len(senders), BATCH):
        batch = senders[start:start + BATCH]
        with engine.begin() as connection:
            for name, table in tables.items():
                result = connection.execute(sa.delete(table).where(table.c.sender_id.in_(batch)))
                if name != CHECKPOINTS:
                    events += int(result.rowcount or 0)
    logger.info("retention: %s conversations, %s events older than %s days deleted", len(senders), events,
                older_than_days)
    return RetentionResult(conversations=len(senders), events=events)


def weekly_report(app_engine: Engine, tracker: Engine | None) -> None:
    """The scheduled weekly report (written once per week; a failure is logged, retention goes on)."""
    from common.db import make_session_factory
    from common.settings import get_settings
    from desk.weekly_report import WeeklyReports
    from profiles.segmentation import load_thresholds

    try:
        thresholds = load_thresholds(get_settings().segments_file)
        stored = WeeklyReports(make_session_factory(app_engine), tracker=tracker, thresholds=thresholds).run_due()
    except Exception:  # noqa: BLE001 - the report must not stop the deletion of expired data
        logger.exception("weekly report not written")
        return
    if stored is not None:
        print(f"weekly report for the week of {stored.week_start.isoformat()} stored")


def main(argv: list[str] | None = None, engine: Engine | None = None) -> int:
    from common.db import make_engine
    from common.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m desk.retention", description=__doc__.split("\n")[0])
    parser.add_argument("--older-than-days", type=int, default=settings.transcript_retention_days,
                        help="delete transcripts older than this (default TRANSCRIPT_RETENTION_DAYS; 0 = keep)")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    args = parser.parse_args(argv)
    app_engine = make_engine(settings.database_url)
    if not args.dry_run:
        engine = engine or make_engine(settings.tracker_db_url)
        weekly_report(app_engine, engine)
    if args.older_than_days <= 0:
        if not args.dry_run:
            purge(engine or make_engine(settings.tracker_db_url), older_than_days=0, app_engine=app_engine)
        print("retention is off (TRANSCRIPT_RETENTION_DAYS = 0 and no --older-than-days): no transcript deleted "
              "(delivered WeChat lines and expired wechat_kv keys are)")
        return 0
    engine = engine or make_engine(settings.tracker_db_url)
    result = purge(engine, older_than_days=args.older_than_days, dry_run=args.dry_run, app_engine=app_engine)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {result.conversations} conversations ({result.events} events) older than "
          f"{args.older_than_days} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
