"""One production-shaped stack per pytest session for the scale and fault tests (``devtools/stack.py``).

PostgreSQL, redis-server and nginx from Debian packages, two Rasa servers with the production
endpoints, two action servers and the console, all on loopback. Every test in this folder is marked
``scale``. The fault tests stop and restart parts of the stack and leave it whole again when they end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from devtools.services import ServiceUnavailable
from devtools.stack import ROOT, Stack, StartFailed

# a hold reply when the action server does not answer comes after this many seconds of retries
# The load test drives 200 guest conversations at once, many asking for a person: a busy shop, not a
# flood, so the guest bound of the queue is raised here (the bound itself: tests/security/test_queue_bounds*).
STACK_ENV = {"ACTION_RETRY_SECONDS": "6", "HANDOFF_MAX_QUEUED_GUESTS": "1000"}
# How long one turn may take, in the load generator and in nginx alike. The load test checks that nothing
# is lost, doubled or misrouted when 200 conversations speak at once, not how fast (bench/scale.py measures
# that): its 200 first turns arrive together, so the last of them waits behind ~100 others in a replica's
# queue (35-40 s on two cores shared by every server of the stack, more while the machine is busy).
# With nginx's usual 60 s it would be a timing assert that a busy machine fails with 504s.
TURN_TIMEOUT_S = 180


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.scale)


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    shared = getattr(request.session, "_scale_stack", None)
    if shared is not None:
        yield shared
        return
    stack = Stack(replicas=2, log_dir=ROOT / "results" / "scale", extra_env=STACK_ENV,
                  upstream_timeout_s=TURN_TIMEOUT_S)
    try:
        stack.start()
    except (StartFailed, ServiceUnavailable) as exc:
        pytest.fail(str(exc))
    request.session._scale_stack = stack  # type: ignore[attr-defined]
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def app_db(stack: Stack) -> Iterator[sa.engine.Engine]:
    """The application database (handoffs, feedback, tickets) of the stack."""
    engine = sa.create_engine(stack.database_url, pool_pre_ping=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def tracker_db(stack: Stack) -> Iterator[sa.engine.Engine]:
    """Rasa's tracker database (``events``) and the transcript archive (``event_archive``)."""
    engine = sa.create_engine(stack.tracker_db_url, pool_pre_ping=True)
    yield engine
    engine.dispose()


def user_texts(engine: sa.engine.Engine, sender: str, table: str = "events") -> list[str]:
    """What the customer said, in the order it was stored."""
    import json

    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(f"SELECT data FROM {table} WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
            {"s": sender},
        ).scalars()
        return [json.loads(row).get("text") for row in rows]
