"""``make run``'s database step (scripts/seed_demo.py): a new embedded database is created at the
current schema and marked with Alembic's head, one from an earlier release is upgraded by the
migrations, and one from an older checkout that Alembic cannot place gets a clear message instead of
servers that answer "busy"."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from common.db import make_engine
from desk.schema import application_metadata

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("seed_demo", ROOT / "scripts" / "seed_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alembic(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    return config


def _head() -> str:
    return ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_current_head()


def _state(url: str) -> tuple[set[str], str | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            version = (connection.execute(sa.text("select version_num from alembic_version")).scalar()
                       if "alembic_version" in tables else None)
        return tables, version
    finally:
        engine.dispose()


def test_a_new_database_is_created_at_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    try:
        assert _module().prepare_schema(engine, url) == "created"
    finally:
        engine.dispose()
    tables, version = _state(url)
    assert set(application_metadata().tables) <= tables
    assert version == _head()


def test_a_database_of_an_earlier_release_is_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    command.upgrade(_alembic(url), "0007_consent_intensity")
    engine = make_engine(url)
    try:
        assert _module().prepare_schema(engine, url) == "upgraded"
    finally:
        engine.dispose()
    tables, version = _state(url)
    assert version == _head() and set(application_metadata().tables) <= tables


def test_an_unmarked_database_missing_columns_gets_advice_not_busy_servers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # an older checkout's tables, made without Alembic
            connection.execute(sa.text("create table customers (id varchar(16) primary key, name varchar(64))"))
        module = _module()
        with pytest.raises(module.SchemaOutdated) as caught:
            module.prepare_schema(engine, url)
    finally:
        engine.dispose()
    assert "customers." in str(caught.value) and "delete" in str(caught.value)
