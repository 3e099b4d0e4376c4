"""Database plumbing shared by ``profiles`` and ``desk``: one declarative Base, engines, sessions.

SQLite is the embedded default; PostgreSQL is chosen by ``DATABASE_URL``. Nothing connects at import.
Each library declares its tables on ``Base``; which libraries make up the application (and the one
entry point that creates their tables) is ``desk.schema``'s business: ``common`` names none of them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import StaticPool

Base = declarative_base()


class StoreUnavailable(RuntimeError):
    """The database could not be reached or refused the operation."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url in {"sqlite://", "sqlite:///:memory:"}:
            engine = create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=StaticPool, future=True
            )
        else:
            path = url.split("sqlite:///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, future=True
            )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if url not in {"sqlite://", "sqlite:///:memory:"}:
                # WAL lets the action server read while another process writes
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, future=True)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


DDL_LOCK_KEY = 72_616_336  # any constant: the PostgreSQL advisory lock that serialises create_tables


def create_tables(metadata: MetaData, engine: Engine) -> None:
    """``metadata.create_all`` that several processes may run at once (Rasa replicas starting together).

    PostgreSQL's ``CREATE TABLE`` is not safe against a concurrent one for the same name (the loser
    fails on ``pg_class``/``pg_type`` unique indexes, even after its own "does it exist" check), so
    on PostgreSQL the check and the DDL run under one transaction-scoped advisory lock.
    """
    if engine.dialect.name != "postgresql":
        metadata.create_all(engine)
        return
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DDL_LOCK_KEY})
        metadata.create_all(connection)
