"""Alembic's migrations build exactly the models' schema, on PostgreSQL and on SQLite, and undo it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from common.db import make_engine
from desk.schema import application_metadata

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    return config


def schema_diff(engine: sa.engine.Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, application_metadata())


def application_tables(engine: sa.engine.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("pg_url")


def test_upgrade_head_builds_the_models_schema_and_downgrade_base_removes_it(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(database_url), "head")
        assert application_tables(engine) == set(application_metadata().tables)
        assert schema_diff(engine) == []
        command.downgrade(alembic_config(database_url), "base")
        assert application_tables(engine) == set()
        command.upgrade(alembic_config(database_url), "head")  # and back again
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_migrated_schema_enforces_the_models_constraints(pg_url: str) -> None:
    command.upgrade(alembic_config(pg_url), "head")
    engine = make_engine(pg_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO feedback (conversation_id, channel, rating, idempotency_key, created_at) "
                "VALUES ('c1', 'rest', 5, 'k1', now())"
            ))
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO feedback (conversation_id, channel, rating, idempotency_key, created_at) "
                    "VALUES ('c1', 'rest', 6, 'k2', now())"
                ))
    finally:
        engine.dispose()


def test_one_linear_history_without_rasa_tables() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1
    tables = set(application_metadata().tables)
    assert {"customers", "tickets", "handoffs", "feedback", "agents"} <= tables
    assert not {"events", "tracker_checkpoints", "event_archive"} & tables
