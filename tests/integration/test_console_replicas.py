"""Two console replicas behind nginx, sharing Redis and the database.

The production topology on loopback (``devtools/stack.py``: a throwaway PostgreSQL migrated with Alembic
and seeded with the demo cast, redis-server, a Rasa server and an action server), then two
``python -m desk.console`` processes on that PostgreSQL database, both with ``REDIS_URL`` pointing at the
one redis-server, behind a real nginx whose upstream holds both (a test header, ``X-Test-Replica: N``, pins a request to replica N; without it requests
are round-robined). Both replicas look at the database only once a minute (``CONSOLE_QUEUE_POLL_MS``),
so what reaches replica B within a second can only have come through Redis:

* a customer asks for a person on replica A's web chat socket; the real Rasa server and action server
  queue the handoff; replica B's queue stream (an agent's screen) shows it within 1 s of its creation;
* the agent on replica B claims it and answers; the customer's socket on replica A gets the line;
* failed sign-ins spread over both replicas add up: the limit holds across replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from demo.seed import DEMO_CAST
from desk.agents import AgentStore
from desk.models import Handoff
from devtools.services import ServiceUnavailable, free_port
from devtools.stack import (
    HOST,
    ServerProcess,
    Stack,
    StartFailed,
    console_server,
    nginx_binary,
    wait_all_ready,
)
from profiles.models import ChannelIdentity

ROOT = Path(__file__).resolve().parents[2]
AGENT_A, AGENT_B, PASSWORD = "replica-agent-a", "replica-agent-b", "replica-agent-pass"
PER_USER_LIMIT = 3
pytestmark = pytest.mark.services  # its own PostgreSQL and redis-server (besides the integration marker)
WITHIN_S = 1.0

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  log_format upstream '$request_method $uri $status upstream=$upstream_addr rt=$request_time';
  access_log {dir}/access.log upstream;
  map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
  upstream console {{ {servers} keepalive 16; }}
{pinned}
  map $http_x_test_replica $console_pool {{ default console; {pin_map} }}
  server {{
    listen {host}:{port};
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    add_header X-Upstream $upstream_addr always;
    location = /nginx-health {{ access_log off; return 200 "ok\\n"; }}
    location ~ ^/(chat|widget)/ws$ {{
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
      proxy_pass http://$console_pool;
    }}
    location / {{
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_pass http://$console_pool;
    }}
  }}
}}
"""


def console_nginx(directory: Path, port: int, console_ports: list[int]) -> ServerProcess:
    binary = nginx_binary()
    if binary is None:
        pytest.fail("nginx is not installed: apt-get install -y nginx (scripts/system_deps.sh)")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "nginx.conf").write_text(NGINX_CONF.format(
        dir=directory, host=HOST, port=port,
        servers=" ".join(f"server {HOST}:{p} max_fails=0;" for p in console_ports),
        pinned="\n".join(f"  upstream console_{i} {{ server {HOST}:{p}; keepalive 8; }}"
                         for i, p in enumerate(console_ports)),
        pin_map=" ".join(f'"{i}" console_{i};' for i in range(len(console_ports))),
        user="user root;" if os.geteuid() == 0 else "",
    ))
    return ServerProcess("nginx", [binary, "-p", str(directory), "-c", str(directory / "nginx.conf")],
                         dict(os.environ), directory / "nginx.out", f"http://{HOST}:{port}/nginx-health")


@dataclass
class Replicas:
    url: str
    ws_url: str
    ports: list[int]
    session_factory: sessionmaker


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    # PostgreSQL, redis-server, one Rasa server and one action server (devtools/stack.py, the production
    # topology on loopback, without its console); then two consoles of our own behind our own nginx
    stack = Stack(replicas=1, with_console=False, log_dir=ROOT / "results" / "console-replicas")
    try:
        stack.start()
    except (StartFailed, ServiceUnavailable) as exc:
        pytest.fail(str(exc))
    engine = make_engine(stack.database_url)
    factory = make_session_factory(engine)
    servers: list[ServerProcess] = []
    try:
        agents = AgentStore(factory)
        for username, name in ((AGENT_A, "副本甲"), (AGENT_B, "副本乙")):
            agents.add(username=username, password=PASSWORD, role="agent", display_name=name)
        ports, nginx_port = [free_port(), free_port()], free_port()
        env = stack.env(
            RASA_URL=f"http://{stack.rasa_address(0)}",
            CONSOLE_QUEUE_POLL_MS="60000",  # only Redis can carry news between the replicas in time
            QUEUE_SWEEP_S="3600",
            LOGIN_MAX_FAILURES_PER_USER=str(PER_USER_LIMIT),
        )
        servers = [console_server(f"console-{n}", port, env, stack.log_dir / f"console-{n}.log")
                   for n, port in enumerate(ports)]
        servers.append(console_nginx(tmp_path_factory.mktemp("nginx"), nginx_port, ports))
        for server in servers:
            server.start()
        try:
            wait_all_ready(servers, 120)
        except StartFailed as exc:
            pytest.fail(str(exc))
        yield Replicas(url=f"http://{HOST}:{nginx_port}", ws_url=f"ws://{HOST}:{nginx_port}", ports=ports,
                       session_factory=factory)
    finally:
        for server in reversed(servers):
            server.stop()
        engine.dispose()
        stack.stop()


def as_customer(replicas: Replicas, demo_id: str) -> str:
    """A new conversation id, signed in as one of the demo customers (as the shop's widget would)."""
    sender = f"{demo_id}-{uuid.uuid4().hex[:10]}"
    with replicas.session_factory.begin() as session:
        session.add(ChannelIdentity(channel="rest", external_id=sender, customer_id=DEMO_CAST[demo_id]))
    return sender


def _pin(replica: int) -> dict[str, str]:
    return {"X-Test-Replica": str(replica)}


async def _sign_in(client: httpx.AsyncClient, username: str, password: str, replica: int) -> httpx.Response:
    page = await client.get("/login", headers={"Accept": "text/html", **_pin(replica)})
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    return await client.post("/login", headers=_pin(replica),
                             data={"username": username, "password": password, "csrf_token": token})


async def _agent(base_url: str, username: str, replica: int) -> httpx.AsyncClient:
    """An agent signed in (through nginx, on ``replica``), with the console's CSRF header set."""
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    signed_in = await _sign_in(client, username, PASSWORD, replica)
    assert signed_in.status_code == 303, signed_in.text
    home = await client.get("/", headers={"Accept": "text/html", **_pin(replica)})
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
    client.headers.update({"X-CSRF-Token": csrf, "Accept": "application/json"})
    return client


async def _queue_events(client: httpx.AsyncClient, replica: int, upstream: list[str]) -> AsyncIterator[dict[str, Any]]:
    """The agent's live queue (Server-Sent Events) on ``replica``: each snapshot as it arrives."""
    async with client.stream("GET", "/api/queue/stream", headers={**_pin(replica), "Accept": "text/event-stream"},
                             timeout=httpx.Timeout(30, read=None)) as response:
        assert response.status_code == 200
        upstream.append(response.headers.get("X-Upstream", ""))
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "queue":
                yield json.loads(line[5:])


def _handoff_of(replicas: Replicas, sender: str) -> Handoff | None:
    with replicas.session_factory() as session:
        return session.scalars(select(Handoff).where(Handoff.conversation_id == sender)).first()


async def test_a_handoff_queued_on_one_replica_reaches_the_other_within_a_second(replicas: Replicas) -> None:
    agent = await _agent(replicas.url, AGENT_B, replica=1)
    sender = as_customer(replicas, "demo-regular-zh")
    arrived: asyncio.Future[datetime] = asyncio.get_running_loop().create_future()
    stream_upstream: list[str] = []
    first_snapshot = asyncio.Event()

    async def watch_queue_on_b() -> None:
        async for snapshot in _queue_events(agent, 1, stream_upstream):
            first_snapshot.set()
            if any(row["conversation_id"] == sender for row in snapshot["queued"]) and not arrived.done():
                arrived.set_result(datetime.utcnow())

    watcher = asyncio.create_task(watch_queue_on_b())
    try:
        await asyncio.wait_for(first_snapshot.wait(), 30)
        assert stream_upstream == [f"{HOST}:{replicas.ports[1]}"]  # the agent's screen is served by replica B
        async with websockets.connect(f"{replicas.ws_url}/chat/ws?sender={sender}",
                                      extra_headers=_pin(0)) as customer:
            assert customer.response_headers.get("X-Upstream") == f"{HOST}:{replicas.ports[0]}"  # replica A
            await customer.send(json.dumps({"text": "转人工"}))
            seen_at = await asyncio.wait_for(arrived, 60)
            handoff = _handoff_of(replicas, sender)
            assert handoff is not None and handoff.status == "queued"
            delay = (seen_at - handoff.created_at).total_seconds()
            assert delay <= WITHIN_S, f"replica B showed the handoff {delay:.2f}s after it was queued"

            # the agent on replica B claims and answers; the customer's socket is on replica A
            claimed = await agent.post(f"/api/handoffs/{handoff.id}/claim", headers=_pin(1))
            assert claimed.status_code == 200, claimed.text
            sent_at = time.monotonic()
            answered = await agent.post(f"/api/handoffs/{handoff.id}/messages", headers=_pin(1),
                                        json={"text": "您好，我来帮您处理"})
            assert answered.status_code == 200 and answered.json()["delivered"] is True, answered.text
            deadline = time.monotonic() + 30
            while True:
                frame = json.loads(await asyncio.wait_for(customer.recv(), max(deadline - time.monotonic(), 0.1)))
                if frame.get("from") == "agent":
                    break
            assert frame["text"] == "您好，我来帮您处理"
            assert time.monotonic() - sent_at <= WITHIN_S + 1.0  # the agent's request itself included
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher
        await agent.aclose()


async def test_failed_sign_ins_on_both_replicas_add_up(replicas: Replicas) -> None:
    username = f"replica-guess-{time.monotonic_ns() % 10**8}"
    async with httpx.AsyncClient(base_url=replicas.url, timeout=30) as client:
        for n in range(PER_USER_LIMIT):  # spread over both replicas: neither alone reaches the limit
            failed = await _sign_in(client, username, "wrong password", replica=n % 2)
            assert failed.status_code == 401, failed.text
        for replica in (0, 1):  # both now refuse the next attempt for that user and address
            refused = await _sign_in(client, username, "wrong password", replica=replica)
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
            assert refused.headers["X-Upstream"] == f"{HOST}:{replicas.ports[replica]}"
        # another agent from the same address is not locked out, on either replica
        assert (await _sign_in(client, AGENT_A, PASSWORD, replica=0)).status_code == 303
