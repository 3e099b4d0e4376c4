"""Transcript retention: delete conversations whose last event is older than the configured age.

``python -m desk.retention [--older-than-days N] [--dry-run]`` (default ``TRANSCRIPT_RETENTION_DAYS``;
0 keeps everything). A conversation is expired when its newest stored event is older than the cut-off;
then all its tracker events, its checkpoint and its archived events (``event_archive``, where the
table exists) are deleted together, so a transcript is never cut in the middle. The application
tables (tickets, handoffs, feedback) are kept: they hold counts and ratings, not what was said.

Run it from cron or a systemd timer (daily); it is idempotent.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)
EVENT_TABLES = ("events", "event_archive")
CHECKPOINTS = "tracker_checkpoints"
BATCH = 500


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


def purge(engine: Engine, *, older_than_days: int, clock: Callable[[], float] = time.time,
          dry_run: bool = False) -> RetentionResult:
    if older_than_days <= 0:
        return RetentionResult(conversations=0, events=0)
    senders = expired_senders(engine, clock() - older_than_days * 86400)
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


def main(argv: list[str] | None = None, engine: Engine | None = None) -> int:
    from common.db import make_engine
    from common.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m desk.retention", description=__doc__.split("\n")[0])
    parser.add_argument("--older-than-days", type=int, default=settings.transcript_retention_days,
                        help="delete transcripts older than this (default TRANSCRIPT_RETENTION_DAYS; 0 = keep)")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    args = parser.parse_args(argv)
    if args.older_than_days <= 0:
        print("retention is off (TRANSCRIPT_RETENTION_DAYS = 0 and no --older-than-days): nothing deleted")
        return 0
    engine = engine or make_engine(settings.tracker_db_url)
    result = purge(engine, older_than_days=args.older_than_days, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {result.conversations} conversations ({result.events} events) older than "
          f"{args.older_than_days} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
