"""Seed the demo data into the configured database: ``python scripts/seed_demo.py [--today YYYY-MM-DD]``.

First the schema (``prepare_schema``): a new database is made by the schema's one entry point
(``desk.schema.create_all``) and marked with Alembic's head revision; a database Alembic has marked
(an earlier release's) is brought up to date by the migrations; a database with tables but no mark
(made by an older checkout) is completed where only tables are missing, and otherwise refused with
what to do, rather than started with servers that would answer "busy". Production runs
``alembic upgrade head`` only. Then ``demo.seed.seed_demo`` (a no-op when customers exist).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from common.db import make_engine, make_session_factory  # noqa: E402
from common.settings import get_settings  # noqa: E402
from demo.seed import seed_demo  # noqa: E402
from desk.schema import application_metadata, create_all  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class SchemaOutdated(RuntimeError):
    """The database was made by an older checkout, without Alembic's mark, and lacks columns."""


def _alembic(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    return config


def prepare_schema(engine: Engine, url: str) -> str:
    """``created`` | ``upgraded`` | ``completed``: see the module's docstring (``SchemaOutdated`` when refused)."""
    metadata = application_metadata()
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        present = set(inspector.get_table_names())
        if "alembic_version" in present:
            outcome = "upgraded"
        elif not present & set(metadata.tables):
            outcome = "created"
        else:
            missing = [f"{table.name}.{column.name}" for table in metadata.tables.values() if table.name in present
                       for column in table.columns
                       if column.name not in {c["name"] for c in inspector.get_columns(table.name)}]
            if missing:
                raise SchemaOutdated(
                    f"{url} was made by an older version of this project (missing: {', '.join(missing[:8])}"
                    f"{' ...' if len(missing) > 8 else ''}). For the demo database, delete the file and run "
                    "`make run` again (the demo data is seeded anew); for data you keep, mark it with its revision "
                    "(`alembic stamp <revision>`) and run `make migrate`.")
            outcome = "completed"
    if outcome == "upgraded":
        command.upgrade(_alembic(url), "head")
    else:
        create_all(engine)
        command.stamp(_alembic(url), "head")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="date the demo data is relative to (default: today)")
    args = parser.parse_args(argv)

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        try:
            prepare_schema(engine, settings.database_url)
        except SchemaOutdated as exc:
            print(f"database: {exc}", file=sys.stderr)
            return 1
        summary = seed_demo(make_session_factory(engine), today=args.today, salt=settings.pii_hash_salt,
                            vault_key=settings.pii_vault_key)
    finally:
        engine.dispose()

    if not summary.seeded:
        print(f"demo data already present ({summary.customers} customers); nothing written")
        return 0
    print(
        f"seeded {summary.customers} customers, {summary.orders} orders, {summary.identities} identities, "
        f"{summary.tickets} tickets ({summary.ticket_contacts} contacts), "
        f"{summary.consents_off} with personalisation off"
    )
    for external_id, customer_id in summary.demo_cast.items():
        print(f"  {external_id:<16} -> {customer_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
