"""Fixtures of the WeChat channel tests: the simulator, both store backends, the channel on a port.

Redis is a real ``redis-server`` (``scripts/services.sh redis``) on a free loopback port, started
once per session; without the binary the Redis tests fail and say how to install it. Tests that stop
Redis mid-test (outages) get their own server, ``redis_server``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from common.db import make_engine
from devtools.services import RedisServer, running_redis
from devtools.wechat_sim.simulator import WeChatSimulator, free_port
from wechat.outbox import Outbox
from wechat.stores import KeyValueStore, RedisStore, SQLStore

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server (needed by the WeChat store tests)")
    port = free_port()
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "services.sh"), "redis", str(port)], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"redis-server did not start: {process.stderr.read() if process.stderr else b''!r}")
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own, to stop and start again (``restart(server)``)."""
    with running_redis() as server:
        yield server


def restart(server: RedisServer) -> None:
    """Start a stopped ``redis_server`` again on the same port (the fixture stops it at the end)."""
    server._process = RedisServer(port=server.port).start()._process


def halt(server: RedisServer) -> None:
    """Freeze the server (SIGSTOP): connections hang and time out, the data stays; ``resume`` ends it."""
    assert server._process is not None
    os.kill(server._process.pid, signal.SIGSTOP)


def resume(server: RedisServer) -> None:
    assert server._process is not None
    os.kill(server._process.pid, signal.SIGCONT)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """An embedded database with the application's tables (constructors do not create them)."""
    from desk.schema import create_all

    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def outbox(database_url: str) -> Outbox:
    return Outbox(make_engine(database_url))


@pytest.fixture(params=["sql", pytest.param("redis", marks=pytest.mark.services)])
async def store(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[KeyValueStore]:
    if request.param == "sql":
        yield SQLStore(make_engine(database_url))
        return
    redis_store = RedisStore(request.getfixturevalue("redis_url"), prefix=f"t{time.monotonic_ns()}:")
    yield redis_store
    await redis_store.close()


@pytest.fixture
def sql_store(database_url: str) -> SQLStore:
    return SQLStore(make_engine(database_url))


@pytest.fixture(params=["plain", "compatible", "safe"])
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[WeChatSimulator]:
    aes_key = None if request.param == "plain" else WeChatSimulator.aes_key_for_tests()
    simulator = await WeChatSimulator(mode=request.param, aes_key=aes_key).start()
    yield simulator
    await simulator.close()


@pytest.fixture
async def plain_sim() -> AsyncIterator[WeChatSimulator]:
    simulator = await WeChatSimulator().start()
    yield simulator
    await simulator.close()
