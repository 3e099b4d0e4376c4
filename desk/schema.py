"""The application's tables, in one place: who owns each one, and the one entry point that creates them.

Each library declares its tables on ``common.db.Base`` in its own modules and answers for the
customer's rows in them through one ``common.privacy.CustomerData`` owner. ``desk`` is the library at
the top (it may import every other one), so the list of owners lives here; ``common`` knows none of
them. Uses:

* ``create_all(engine)``: the embedded default's schema (``scripts/seed_demo.py``, run by ``make run``
  before any server starts, and the tests); no constructor and no server creates tables;
* ``application_metadata()``: what ``migrations/`` is generated from and compared with; production
  runs ``alembic upgrade head`` only (``make migrate``, compose's ``migrate`` service);
* ``OWNERS``: whom ``desk.privacy`` asks to export or erase one customer.

A library with new tables adds its owner to ``OWNERS`` (importing the owner imports the models);
``tests/desk/test_privacy_owners.py`` fails when a table naming a customer has no owner.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from common.db import Base, create_tables
from common.privacy import CustomerData
from desk import models as _desk_models  # noqa: F401  (the tables without customer rows: agents, sessions)
from desk.care import CareData
from desk.customer_data import ConversationData, FeedbackData, HandoffData, SearchData, TicketData, WeeklyReportData
from profiles.privacy import ProfileData
from wechat.outbox import OutboxData
from wechat.stores import KeyValueData

OWNERS: tuple[CustomerData, ...] = (
    ProfileData(),
    ConversationData(),
    TicketData(),
    HandoffData(),
    FeedbackData(),
    WeeklyReportData(),
    SearchData(),
    CareData(),
    OutboxData(),
    KeyValueData(),
)


def application_metadata() -> MetaData:
    """``Base.metadata`` with every application table (Rasa's own ``events`` table is Rasa's)."""
    return Base.metadata


def create_all(engine: Engine) -> None:
    """The embedded default's schema set-up (safe when several processes run it at once on PostgreSQL)."""
    create_tables(application_metadata(), engine)
