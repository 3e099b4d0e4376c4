"""A refund message reaches an available agent's screen: customer line -> agent's live queue, in ms.

    .venv/bin/python bench/agent_screen.py                # 40 refunds per path (about 3 minutes with start-up)
    .venv/bin/python bench/agent_screen.py --samples 10   # a quick look

The embedded default, on loopback: a fresh SQLite database seeded with the demo cast, the action server,
the Rasa server with ``models/assistant.tar.gz`` and the agent console (``python -m desk.console``, no
``REDIS_URL``: in-process live updates, ``CONSOLE_QUEUE_POLL_MS`` at its default), started by the shared
launcher (``devtools/stack.py``) as the integration tests and ``bench/turn_latency.py`` start them.

One agent signs in and keeps the live queue open (``GET /api/queue/stream``, the Server-Sent Events the
queue page draws): that is the agent's screen. One at a time, a new conversation of a demo customer says
a refund message (zh and en in turn: the refund rule queues a handoff to the refund team in that turn);
the time is taken from just before the customer's line is sent to the first queue snapshot on the agent's
stream that lists the conversation. Then the agent claims it and gives it back to the bot (untimed), so
every sample meets the same queue. Two paths, two rows:

* **web chat**: the customer's line through the console's own web channel socket (``/chat/ws``, the same
  forwarding as the widget's): the console hands it to Rasa and looks at the queue as soon as Rasa answers;
* **REST webhook**: the line straight to Rasa's REST channel (as another channel would): the console learns
  of the handoff only from its periodic look at the database (``CONSOLE_QUEUE_POLL_MS``).

``bot reply`` is the time until the customer's own answer arrived (the Rasa turn), for comparison. Target
(informational, never the exit status): p95 <= 1000 ms. Exit 2 without a trained model, 1 when a server
fails to start or a handoff never shows, else 0. Results also go to ``results/bench/agent_screen.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.stack import (  # noqa: E402  the one launcher of our servers (also the tests')
    StartFailed,
    embedded_trio,
    wait_all_ready,
)

MODEL = ROOT / "models" / "assistant.tar.gz"
RESULTS = ROOT / "results" / "bench"
SALT = "bench-salt"
RASA_AUTH_TOKEN = "bench-rasa-token"
ACTION_SERVER_TOKEN = "bench-action-token"
AGENT, PASSWORD = "bench-agent", "bench-agent-pass"
START_TIMEOUT = 600
SHOW_TIMEOUT = 30.0  # seconds for one handoff to reach the screen before the run fails
TARGET_P95_MS = 1000.0
REFUNDS = ("我要退款，东西不想要了", "I want a refund, the item is not what I ordered")
CUSTOMERS = ("demo-vip-zh", "demo-atrisk-en", "demo-regular-zh")
WARMUP = 2


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def prepare_database(work: Path, senders: list[str]) -> str:
    """A fresh seeded SQLite database, the agent, and each sender linked to a demo customer (``rest``)."""
    from common.db import make_engine, make_session_factory
    from demo.seed import DEMO_CAST, seed_demo
    from desk.agents import AgentStore
    from desk.schema import create_all
    from profiles.models import ChannelIdentity

    database_url = f"sqlite:///{work / 'app.db'}"
    engine = make_engine(database_url)
    try:
        create_all(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, salt=SALT)
        AgentStore(factory).add(username=AGENT, password=PASSWORD, role="agent", display_name="测速")
        with factory.begin() as session:
            session.add_all(ChannelIdentity(channel="rest", external_id=sender,
                                            customer_id=DEMO_CAST[CUSTOMERS[n % len(CUSTOMERS)]])
                            for n, sender in enumerate(senders))
        return database_url
    finally:
        engine.dispose()


class Screen:
    """The agent's live queue: every snapshot from the stream, with the time it arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # conversation id -> first snapshot listing it
        self.ids: dict[str, int] = {}
        self.changed = asyncio.Event()
        self.ready = asyncio.Event()

    async def watch(self, client: Any) -> None:
        async with client.stream("GET", "/api/queue/stream", headers={"Accept": "text/event-stream"},
                                 timeout=None) as response:
            response.raise_for_status()
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "queue":
                    now = time.perf_counter()
                    snapshot = json.loads(line[5:])
                    for row in [*snapshot["queued"], *snapshot["mine"]]:
                        self.arrivals.setdefault(row["conversation_id"], now)
                        self.ids[row["conversation_id"]] = row["id"]
                    self.ready.set()
                    self.changed.set()

    async def shown(self, sender: str, timeout: float) -> float:
        deadline = time.perf_counter() + timeout
        while sender not in self.arrivals:
            self.changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"the handoff of {sender} never reached the agent's screen")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return self.arrivals[sender]


async def signed_in_agent(console_url: str) -> Any:
    import httpx

    client = httpx.AsyncClient(base_url=console_url, timeout=60)
    page = await client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    response = await client.post("/login", data={"username": AGENT, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 303:
        raise StartFailed(f"the bench agent could not sign in ({response.status_code})")
    home = await client.get("/", headers={"Accept": "text/html"})
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
    client.headers.update({"X-CSRF-Token": csrf, "Accept": "application/json"})
    return client


async def via_web_chat(console_url: str, sender: str, text: str) -> tuple[float, float]:
    """(sent, bot reply arrived) on the console's web chat socket."""
    import websockets

    async with websockets.connect(f"ws://{console_url.split('://', 1)[1]}/chat/ws?sender={sender}") as socket:
        sent = time.perf_counter()
        await socket.send(json.dumps({"text": text}))
        while True:
            frame = json.loads(await asyncio.wait_for(socket.recv(), SHOW_TIMEOUT))
            if frame.get("type") == "message" and frame.get("from") == "bot":
                return sent, time.perf_counter()
            if frame.get("type") == "error":
                raise RuntimeError(f"web chat refused the line: {frame}")


async def via_rest(rasa_url: str, sender: str, text: str) -> tuple[float, float]:
    """(sent, bot reply arrived) on Rasa's REST channel."""
    import httpx

    async with httpx.AsyncClient(timeout=SHOW_TIMEOUT) as client:
        sent = time.perf_counter()
        response = await client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        response.raise_for_status()
        return sent, time.perf_counter()


async def measure(console_url: str, rasa_url: str, senders: dict[str, list[str]]) -> dict[str, Any]:
    agent = await signed_in_agent(console_url)
    screen = Screen()
    watcher = asyncio.create_task(screen.watch(agent))
    results: dict[str, Any] = {}
    try:
        await asyncio.wait_for(screen.ready.wait(), 30)
        for path, send in (("web chat", lambda s, t: via_web_chat(console_url, s, t)),
                           ("REST webhook", lambda s, t: via_rest(rasa_url, s, t))):
            screen_ms: list[float] = []
            reply_ms: list[float] = []
            for n, sender in enumerate(senders[path]):
                sent, replied = await send(sender, REFUNDS[n % len(REFUNDS)])
                shown = await screen.shown(sender, SHOW_TIMEOUT)
                if n >= WARMUP:
                    screen_ms.append((shown - sent) * 1000)
                    reply_ms.append((replied - sent) * 1000)
                handoff_id = screen.ids[sender]  # the agent takes it and hands it back: the next one meets the same queue
                for action in ("claim", "back-to-bot"):
                    done = await agent.post(f"/api/handoffs/{handoff_id}/{action}")
                    if done.status_code != 200:
                        raise RuntimeError(f"{action} of handoff {handoff_id} answered {done.status_code}")
            results[path] = {
                "samples": len(screen_ms), "screen_ms": screen_ms, "reply_ms": reply_ms,
                "p50": percentile(screen_ms, 0.5), "p95": percentile(screen_ms, 0.95), "max": max(screen_ms),
                "reply_p50": percentile(reply_ms, 0.5),
            }
    finally:
        watcher.cancel()
        with contextlib.suppress(BaseException):  # cancelled, or the stream closed with the servers
            await watcher
        await agent.aclose()
    return results


def render(results: dict[str, Any], poll_ms: int) -> str:
    lines = [
        "A refund message reaches an available agent's screen (embedded default: SQLite, in-process live updates)",
        "",
        f"| path | samples | p50 ms | p95 ms | max ms | bot reply p50 ms | target p95 <= {TARGET_P95_MS:.0f} ms |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for path, row in results.items():
        met = "met" if row["p95"] is not None and row["p95"] <= TARGET_P95_MS else "not met"
        lines.append(f"| {path} | {row['samples']} | {row['p50']:.0f} | {row['p95']:.0f} | {row['max']:.0f} | "
                     f"{row['reply_p50']:.0f} | {met} |")
    lines.append("")
    lines.append(f"web chat: the console looks at the queue as soon as Rasa answers; REST webhook: the console "
                 f"looks at the database every {poll_ms} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=40, help="timed refunds per path (default 40)")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"no trained model at {MODEL.relative_to(ROOT)}: run `make train` first", file=sys.stderr)
        return 2
    from common.settings import Settings

    poll_ms = Settings.from_env({}).console_queue_poll_ms
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-agent-screen-"))
    count = args.samples + WARMUP
    run = f"{os.getpid()}-{int(time.time())}"
    senders = {path: [f"bench-{key}-{run}-{n:03d}" for n in range(count)]
               for path, key in (("web chat", "chat"), ("REST webhook", "rest"))}
    database_url = prepare_database(work, [s for group in senders.values() for s in group])
    trio = embedded_trio(work, database_url, RESULTS, salt=SALT, rasa_token=RASA_AUTH_TOKEN,
                         action_token=ACTION_SERVER_TOKEN, log_prefix="agent_screen_",
                         drop=("REDIS_URL", "CONSOLE_QUEUE_POLL_MS"))
    servers = trio.servers
    try:
        print("==> starting the action server, the Rasa server and the console", flush=True)
        for server in servers:
            server.start()
        wait_all_ready(servers, START_TIMEOUT)
        print(f"==> ready; {args.samples} timed refunds per path (+{WARMUP} warm-up)", flush=True)
        results = asyncio.run(measure(trio.console_url, trio.rasa_url, senders))
    except (StartFailed, TimeoutError, RuntimeError) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    out = RESULTS / "agent_screen.json"
    out.write_text(json.dumps({"generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "poll_ms": poll_ms,
                               "results": results}, ensure_ascii=False, indent=2))
    print()
    print(render(results, poll_ms))
    print(f"\n(JSON: {out.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
