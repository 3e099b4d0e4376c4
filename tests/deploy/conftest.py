"""A real PostgreSQL for the deployment tests: one throwaway cluster per session, one database per test.

The cluster comes from ``devtools/services.py`` (Debian's ``postgresql`` package, started as the
``postgres`` user when the tests run as root). Without the package the tests fail and say how to
install it (``scripts/system_deps.sh`` does).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from devtools.services import PostgresServer, RedisServer, ServiceUnavailable, running_redis

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        server.stop()
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """An empty PostgreSQL database of its own for one test (SQLAlchemy URL)."""
    name = f"test_{next(_names)}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server
