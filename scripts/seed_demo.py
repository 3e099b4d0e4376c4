"""Seed the demo data into the configured database: ``python scripts/seed_demo.py [--today YYYY-MM-DD]``.

The embedded default's one schema entry point (``desk.schema.create_all``: the tables missing are
created; production runs ``alembic upgrade head`` instead), then runs ``demo.seed.seed_demo`` (a no-op when customers exist).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.db import make_engine, make_session_factory  # noqa: E402
from common.settings import get_settings  # noqa: E402
from demo.seed import seed_demo  # noqa: E402
from desk.schema import create_all  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="date the demo data is relative to (default: today)")
    args = parser.parse_args(argv)

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        create_all(engine)
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
