"""Alembic environment: the application tables of ``desk.schema.application_metadata()`` on DATABASE_URL.

The URL comes from ``common.settings`` (the only reader of the environment) unless the caller passes
one: ``alembic -x url=...`` or ``config.attributes["url"]`` (tests). SQLite gets batch mode so that
later ``ALTER``s work there too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from common.db import make_engine
from desk.schema import application_metadata

config = context.config
target_metadata = application_metadata()


def _url() -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return str(url)
    from common.settings import get_settings

    return get_settings().database_url


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    dialect = connection.dialect.name if connection is not None else (url or "").split(":", 1)[0]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=dialect.startswith("sqlite"),
        compare_type=True,
        literal_binds=connection is None,
    )


def run_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller's open connection (tests)
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
