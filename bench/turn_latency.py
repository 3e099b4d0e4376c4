"""Turn latency and throughput of our assistant against Rasa's stock moodbot, in one run.

What it does (see bench/README.md for how to read the table):

1. ``rasa init --no-prompt`` in a temporary directory (trains the stock moodbot offline) and starts it
   with ``rasa run --enable-api`` on a free loopback port (the moodbot has no custom actions).
2. Starts our assistant the way the integration tests do: a fresh SQLite database seeded with the demo
   customers in a temporary directory, the action server and the Rasa server with
   ``models/assistant.tar.gz`` and ``bot/endpoints.yml`` (``ACTION_ENDPOINT_URL``, ``TRACKER_DB``).
3. Drives both over the REST channel (``POST /webhooks/rest/webhook``) with aiohttp at 1, 8 and 32
   concurrent conversations; then one 100-turn conversation per bot; then reads every server's memory.
4. Prints one table and writes ``results/bench/turn_latency.json``.

Exit status: 0 when the run completed (targets are informational), 1 when a server failed to start,
2 when ``models/assistant.tar.gz`` is missing (run ``make train``).

Everything talks to 127.0.0.1 only; every loop is bounded by a turn count and a time cap; every server
is shut down in a ``finally`` block.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import contextlib

from devtools.services import free_port  # noqa: E402
from devtools.stack import (  # noqa: E402  the one launcher of our servers (also the tests')
    ServerProcess,
    StartFailed,
    action_server,
    rasa_server,
    wait_all_ready,
)

Server = ServerProcess
MODEL = ROOT / "models" / "assistant.tar.gz"
VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "results" / "bench"
SALT = "bench-salt"
HOST = "127.0.0.1"

START_TIMEOUT = 600  # seconds for a server to become ready (loading our model takes about a minute)
INIT_TIMEOUT = 900  # seconds for `rasa init` (it trains the moodbot)
REQUEST_TIMEOUT = 120  # seconds for one turn
LEVELS = {1: 60, 8: 240, 32: 640}  # concurrency -> turns
LEVEL_TIME_CAP = 180.0  # seconds per (bot, level)
LONG_TURNS = 100
WARMUP_PASSES = 2  # passes over each bot's script before timing

# targets (informational)
TARGET_P50_RATIO = 1.5
TARGET_GROWTH = 1.3


# -- processes ----------------------------------------------------------------------------------------


# our Rasa API needs a token, and our action server answers only calls that carry its secret
# (as in the integration tests); a stock server ignores the token parameter
RASA_AUTH_TOKEN = "bench-rasa-token"
ACTION_SERVER_TOKEN = "bench-action-token"
ACTION_TOKEN_HEADER = "X-Action-Token"


def wait_ready(servers: list[Server], timeout: float = START_TIMEOUT) -> None:
    wait_all_ready(servers, timeout)


# -- memory from /proc ----------------------------------------------------------------------------------


def _status_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            kids.append(int(entry))
    return kids


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo and len(tree) < 256:
        p = todo.pop()
        tree.append(p)
        todo.extend(_children(p))
    return tree


def memory_of(pid: int) -> dict[str, Any]:
    """VmRSS (now) and VmHWM (peak) of a process and its children, in MiB."""
    pids = process_tree(pid)
    rss = hwm = 0
    for p in pids:
        status = _status_kb(p)
        rss += status.get("VmRSS", 0)
        hwm += status.get("VmHWM", 0)
    return {"pids": pids, "rss_mib": round(rss / 1024, 1), "hwm_mib": round(hwm / 1024, 1)}


# -- workloads ----------------------------------------------------------------------------------------


@dataclass
class Turn:
    ok: bool
    ms: float
    error: str | None = None
    texts: list[str] = field(default_factory=list)


class Workload(abc.ABC):
    """A bot's conversations: sender ids and the utterances each conversation says."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    @abc.abstractmethod
    def sender(self, tag: str, n: int) -> str: ...

    @abc.abstractmethod
    def script(self, sender: str) -> list[str]: ...

    @abc.abstractmethod
    def long_script(self, sender: str, turns: int) -> list[str]: ...


class StockWorkload(Workload):
    UTTERANCES: ClassVar[list[str]] = ["hi", "I am great", "are you a bot?", "bye"]

    def sender(self, tag: str, n: int) -> str:
        return f"stock-{tag}-{n:04d}"

    def script(self, sender: str) -> list[str]:
        return list(self.UTTERANCES)

    def long_script(self, sender: str, turns: int) -> list[str]:
        cycle = ["hi", "I am great", "are you a bot?", "hello", "amazing", "bye"]
        return [cycle[i % len(cycle)] for i in range(turns)]


class OurWorkload(Workload):
    """Senders linked to the demo customers on the ``rest`` channel (one in four is a guest)."""

    def __init__(self, name: str, url: str, orders_by_customer: dict[str, list[str]], cast: list[str]) -> None:
        super().__init__(name, url)
        self.orders_by_customer = orders_by_customer
        self.all_orders = sorted({o for orders in orders_by_customer.values() for o in orders})
        self.cast = cast
        self.links: dict[str, str] = {}  # sender -> customer id (absent: guest)

    def sender(self, tag: str, n: int) -> str:
        sender = f"bench-{tag}-{n:04d}"
        if sender not in self.links and n % 4 != 3:
            self.links[sender] = self.cast[n % len(self.cast)]
        return sender

    def order_for(self, sender: str, k: int) -> str:
        customer = self.links.get(sender)
        orders = self.orders_by_customer.get(customer or "", []) or self.all_orders
        return orders[(k + len(sender)) % len(orders)]

    def script(self, sender: str) -> list[str]:
        a, b = self.order_for(sender, 0), self.order_for(sender, 1)
        return [
            "你好",
            f"订单{a}到哪了",
            f"where is my order {b}",
            "退货政策是什么",
            "how long do refunds take",
            "谢谢",
            "hi",
        ]

    def long_script(self, sender: str, turns: int) -> list[str]:
        out = []
        greet = ["你好", "hi"]
        faq = ["退货政策是什么", "how long do refunds take"]
        thanks = ["谢谢", "thanks"]
        for i in range(turns):
            cycle, kind = divmod(i, 4)
            if kind == 0:
                out.append(greet[cycle % 2])
            elif kind == 1:
                out.append(faq[cycle % 2])
            elif kind == 2:
                order = self.order_for(sender, cycle)
                out.append(f"订单{order}到哪了" if cycle % 2 == 0 else f"where is my order {order}")
            else:
                out.append(thanks[cycle % 2])
        return out


async def say(session: Any, url: str, sender: str, text: str) -> Turn:
    import aiohttp

    start = time.perf_counter()
    try:
        async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)) as response:
            body = await response.read()
            ms = (time.perf_counter() - start) * 1000
            if response.status != 200:
                return Turn(False, ms, f"HTTP {response.status}")
            messages = json.loads(body or b"[]")
            texts = [str(m.get("text") or m.get("image") or m.get("buttons") or "") for m in messages]
            if not any(texts):
                return Turn(False, ms, "empty reply")
            return Turn(True, ms, texts=texts)
    except Exception as exc:  # noqa: BLE001 - every failure is counted, the run goes on
        return Turn(False, (time.perf_counter() - start) * 1000, f"{type(exc).__name__}: {exc}"[:200])


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


async def run_level(workload: Workload, concurrency: int, turns: int, tag: str,
                    time_cap: float = LEVEL_TIME_CAP) -> dict[str, Any]:
    """``concurrency`` workers, each running whole conversations (new sender each) until ``turns`` are done."""
    import aiohttp

    budget = {"left": turns}
    latencies: list[float] = []
    errors: list[str] = []
    conversation = {"n": 0}
    deadline = time.monotonic() + time_cap
    connector = aiohttp.TCPConnector(limit=concurrency + 4)

    async def worker(session: Any) -> None:
        while budget["left"] > 0 and time.monotonic() < deadline:
            n = conversation["n"]
            conversation["n"] += 1
            sender = workload.sender(tag, n)
            for text in workload.script(sender):
                if budget["left"] <= 0 or time.monotonic() >= deadline:
                    return
                budget["left"] -= 1
                turn = await say(session, workload.url, sender, text)
                latencies.append(turn.ms)
                if not turn.ok:
                    errors.append(f"{sender} {text!r}: {turn.error}")

    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    done = len(latencies)
    return {
        "concurrency": concurrency,
        "turns_planned": turns,
        "turns": done,
        "conversations": conversation["n"],
        "seconds": round(elapsed, 2),
        "capped": done < turns,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else None,
        "turns_per_s": done / elapsed if elapsed > 0 else None,
        "errors": len(errors),
        "error_samples": errors[:10],
    }


async def tracker_probe(session: Any, url: str, sender: str) -> dict[str, Any]:
    """Time ``GET /conversations/<id>/tracker`` (tracker store read + serialisation) and count events."""
    start = time.perf_counter()
    try:
        async with session.get(f"{url}/conversations/{sender}/tracker", params={"token": RASA_AUTH_TOKEN}) as response:
            body = await response.read()
        ms = (time.perf_counter() - start) * 1000
        events = len(json.loads(body).get("events") or [])
        return {"ms": round(ms, 1), "events": events, "bytes": len(body)}
    except Exception as exc:  # noqa: BLE001
        return {"ms": None, "events": None, "error": str(exc)[:200]}


async def run_long(workload: Workload, turns: int = LONG_TURNS, time_cap: float = 300.0) -> dict[str, Any]:
    import aiohttp

    sender = workload.sender("long", 0)
    script = workload.long_script(sender, turns)
    latencies: list[float | None] = []
    errors: list[str] = []
    probes: dict[str, Any] = {}
    deadline = time.monotonic() + time_cap
    async with aiohttp.ClientSession() as session:
        for i, text in enumerate(script, start=1):
            if time.monotonic() >= deadline:
                break
            turn = await say(session, workload.url, sender, text)
            latencies.append(turn.ms)
            if not turn.ok:
                errors.append(f"turn {i} {text!r}: {turn.error}")
            if i in (1, 50, turns):
                probes[f"after_turn_{i}"] = await tracker_probe(session, workload.url, sender)

    def window(first: int, last: int) -> float | None:
        values = [v for v in latencies[first - 1:last] if v is not None]
        return statistics.median(values) if values else None

    t1, t50, t100 = window(1, 3), window(49, 51), window(turns - 2, turns)
    # least-squares slope of latency over the turn number (ms added per turn), all turns
    xs = list(range(1, len(latencies) + 1))
    ys = [v or 0.0 for v in latencies]
    slope = None
    if len(xs) > 2:
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return {
        "turns": len(latencies),
        "turn_1_ms": t1,
        "turn_50_ms": t50,
        "turn_100_ms": t100,
        "ratio_100_1": (t100 / t1) if t1 and t100 else None,
        "slope_ms_per_turn": slope,
        "windows": {"turn_1": "median of turns 1-3", "turn_50": "median of turns 49-51",
                    "turn_100": f"median of turns {turns - 2}-{turns}"},
        "latencies_ms": [round(v, 1) for v in ys],
        "tracker": probes,
        "errors": len(errors),
        "error_samples": errors[:10],
    }


async def warm_up(workload: Workload) -> list[str]:
    import aiohttp

    problems = []
    async with aiohttp.ClientSession() as session:
        for n in range(WARMUP_PASSES):
            sender = workload.sender("warm", n)
            for text in workload.script(sender):
                turn = await say(session, workload.url, sender, text)
                if not turn.ok:
                    problems.append(f"{text!r}: {turn.error}")
    return problems


async def sample_replies(workload: Workload) -> list[dict[str, Any]]:
    """One untimed conversation, replies kept, so a reader can see what the workload exercises."""
    import aiohttp

    out = []
    async with aiohttp.ClientSession() as session:
        sender = workload.sender("sample", 0)
        for text in workload.script(sender):
            turn = await say(session, workload.url, sender, text)
            out.append({"sender": sender, "said": text, "ok": turn.ok, "error": turn.error,
                        "replies": [t[:120] for t in turn.texts]})
    return out


# -- diagnosis: a timing proxy in front of our action server ---------------------------------------------


class ActionProxy:
    """Forwards Rasa's action calls to the action server and records how long each took.

    Used only with ``--diagnose`` (it adds a hop to every action call, so the load numbers are not taken
    through it).
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.calls: list[dict[str, Any]] = []
        self._runner: Any = None
        self._session: Any = None

    async def start(self, port: int) -> None:
        import aiohttp
        from aiohttp import web

        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/webhook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: Any) -> Any:
        from aiohttp import web

        body = await request.read()
        start = time.perf_counter()
        headers = {"Content-Type": "application/json"}
        if ACTION_TOKEN_HEADER in request.headers:
            headers[ACTION_TOKEN_HEADER] = request.headers[ACTION_TOKEN_HEADER]
        async with self._session.post(self.target, data=body, headers=headers) as response:
            reply = await response.read()
            status = response.status
        ms = (time.perf_counter() - start) * 1000
        try:
            payload = json.loads(body)
            action = payload.get("next_action")
            events = len((payload.get("tracker") or {}).get("events") or [])
        except ValueError:
            action, events = None, None
        self.calls.append({"action": action, "ms": ms, "request_bytes": len(body), "events": events,
                           "t": time.perf_counter()})
        return web.Response(body=reply, status=status, content_type="application/json")


async def diagnose(ours: OurWorkload, proxy: ActionProxy, proxy_port: int, turns: int = LONG_TURNS) -> dict[str, Any]:
    """One long conversation through the timing proxy: per turn, action-server time vs everything else."""
    import aiohttp

    await proxy.start(proxy_port)
    try:
        await warm_up(ours)
        sender = ours.sender("long", 0)
        script = ours.long_script(sender, turns)
        rows = []
        async with aiohttp.ClientSession() as session:
            for i, text in enumerate(script, start=1):
                before = len(proxy.calls)
                turn = await say(session, ours.url, sender, text)
                calls = proxy.calls[before:]
                probe = await tracker_probe(session, ours.url, sender) if i in (1, 2, 3, 49, 50, 51, 98, 99, 100) \
                    else None
                rows.append({
                    "turn": i, "said": text, "ok": turn.ok, "ms": turn.ms,
                    "action_calls": len(calls),
                    "action_ms": sum(c["ms"] for c in calls),
                    "action_request_bytes": sum(c["request_bytes"] for c in calls),
                    "events_sent": max((c["events"] or 0 for c in calls), default=0),
                    "actions": {c["action"]: round(c["ms"], 1) for c in calls},
                    "get_tracker_ms": probe["ms"] if probe else None,
                })
    finally:
        await proxy.stop()

    def window(first: int, last: int, key: str) -> float | None:
        values = [r[key] for r in rows[first - 1:last] if r[key] is not None]
        return statistics.median(values) if values else None

    windows = {"turn 1 (1-3)": (1, 3), "turn 50 (49-51)": (49, 51), f"turn {turns} ({turns - 2}-{turns})":
               (turns - 2, turns)}
    summary = {}
    for label, (a, b) in windows.items():
        turn_ms = window(a, b, "ms")
        action_ms = window(a, b, "action_ms")
        summary[label] = {
            "turn_ms": turn_ms,
            "action_ms": action_ms,
            "rasa_ms": (turn_ms - action_ms) if turn_ms is not None and action_ms is not None else None,
            "action_calls": window(a, b, "action_calls"),
            "action_request_kib": (window(a, b, "action_request_bytes") or 0) / 1024,
            "events_sent": window(a, b, "events_sent"),
            "get_tracker_ms": window(a, b, "get_tracker_ms"),
        }
    return {"turns": rows, "summary": summary}


def render_diagnosis(diag: dict[str, Any]) -> str:
    widths = [22, 9, 11, 11, 8, 13, 12, 13]
    head = ["window (median)", "turn ms", "action ms", "other ms", "calls", "req KiB/turn", "events sent",
            "GET tracker"]
    lines = ["Diagnosis: our long conversation through a timing proxy in front of the action server",
             "(action ms = time in action-server calls during the turn; other ms = the rest: NLU, tracker store,",
             " policies, HTTP; GET tracker = GET /conversations/<id>/tracker right after the turn)",
             "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))),
             "  ".join("-" * w for w in widths)]
    for label, s in diag["summary"].items():
        cells = [label, fmt(s["turn_ms"]), fmt(s["action_ms"], 1), fmt(s["rasa_ms"]), fmt(s["action_calls"]),
                 fmt(s["action_request_kib"], 1), fmt(s["events_sent"]), fmt(s["get_tracker_ms"])]
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))))
    return "\n".join(lines)


# -- our database ---------------------------------------------------------------------------------------


def prepare_database(work: Path, senders: int) -> tuple[str, dict[str, list[str]], list[str], dict[str, str]]:
    """Seed a fresh database; link bench sender ids to demo customers on the ``rest`` channel."""
    from sqlalchemy import select

    from common.db import make_engine, make_session_factory
    from demo.seed import DEMO_CAST, seed_demo
    from desk.schema import create_all
    from profiles.models import ChannelIdentity, Order

    database_url = f"sqlite:///{work / 'app.db'}"
    engine = make_engine(database_url)
    try:
        create_all(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, salt=SALT)
        cast = sorted(DEMO_CAST.values())
        with factory.begin() as s:
            rows = s.execute(select(Order.customer_id, Order.id).where(Order.customer_id.in_(cast))
                             .order_by(Order.customer_id, Order.created_at.desc())).all()
        orders: dict[str, list[str]] = {}
        for customer_id, order_id in rows:
            orders.setdefault(customer_id, []).append(order_id)
        # the same sender naming as OurWorkload.sender, for every tag the run uses
        probe = OurWorkload("ours", "", orders, cast)
        for tag in ["warm", "sample", "long", *(f"c{c}" for c in LEVELS)]:
            for n in range(senders):
                probe.sender(tag, n)
        with factory.begin() as s:
            s.add_all(ChannelIdentity(channel="rest", external_id=sender, customer_id=customer)
                      for sender, customer in probe.links.items())
        return database_url, orders, cast, probe.links
    finally:
        engine.dispose()


# -- report ---------------------------------------------------------------------------------------------


def fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    ours, stock = results["ours"], results["stock"]

    def row(cells: list[str], widths: list[int]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    title = (f"Turn latency over the REST channel: our assistant vs stock `rasa init` moodbot "
             f"({results['machine']['cpus']} CPUs, rasa {results['machine']['rasa']})")
    lines += [title, "=" * len(title), ""]

    widths = [24, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]
    head = ["concurrency (turns)", "ours p50", "ours p95", "ours p99", "ours t/s",
            "stock p50", "stock p95", "stock p99", "stock t/s", "p50 ratio", "errors"]
    lines.append("Load (latency in ms; t/s = turns per second; ratio = ours p50 / stock p50; errors ours/stock)")
    lines.append(row(head, widths))
    lines.append(row(["-" * w for w in widths], widths))
    for level in results["levels"]:
        o, s = ours["levels"][str(level)], stock["levels"][str(level)]
        ratio = (o["p50_ms"] / s["p50_ms"]) if o["p50_ms"] and s["p50_ms"] else None
        label = f"{level:>2} conv ({o['turns']}/{s['turns']})"
        if o["capped"] or s["capped"]:
            label += " cap"
        lines.append(row([label, fmt(o["p50_ms"]), fmt(o["p95_ms"]), fmt(o["p99_ms"]), fmt(o["turns_per_s"], 1),
                          fmt(s["p50_ms"]), fmt(s["p95_ms"]), fmt(s["p99_ms"]), fmt(s["turns_per_s"], 1),
                          fmt(ratio, 2) + "x" if ratio else "-", f"{o['errors']}/{s['errors']}"], widths))
    lines.append("")

    widths = [44, 10, 10]
    lines.append(f"Long conversation ({LONG_TURNS} turns, one sender, sequential; ms)")
    lines.append(row(["", "ours", "stock"], widths))
    lines.append(row(["-" * w for w in widths], widths))
    lo, ls = ours["long"], stock["long"]
    for key, label in [("turn_1_ms", "turn 1   (median of turns 1-3)"),
                       ("turn_50_ms", "turn 50  (median of turns 49-51)"),
                       ("turn_100_ms", f"turn 100 (median of turns {LONG_TURNS - 2}-{LONG_TURNS})")]:
        lines.append(row([label, fmt(lo[key]), fmt(ls[key])], widths))
    lines.append(row(["ratio turn 100 / turn 1", fmt(lo["ratio_100_1"], 2) + "x" if lo["ratio_100_1"] else "-",
                      fmt(ls["ratio_100_1"], 2) + "x" if ls["ratio_100_1"] else "-"], widths))
    lines.append(row(["slope, ms added per turn (all 100)", fmt(lo["slope_ms_per_turn"], 2),
                      fmt(ls["slope_ms_per_turn"], 2)], widths))
    for when in ("after_turn_1", f"after_turn_{LONG_TURNS}"):
        po, ps = lo["tracker"].get(when, {}), ls["tracker"].get(when, {})
        lines.append(row([f"tracker events {when.replace('_', ' ')}", fmt(po.get("events")), fmt(ps.get("events"))],
                         widths))
        lines.append(row([f"GET tracker ms {when.replace('_', ' ')}", fmt(po.get("ms")), fmt(ps.get("ms"))], widths))
    lines.append(row(["errors", str(lo["errors"]), str(ls["errors"])], widths))
    lines.append("")

    widths = [44, 12, 12]
    lines.append("Memory (MiB, process and its children, read at the end of the run)")
    lines.append(row(["process", "VmRSS now", "VmHWM peak"], widths))
    lines.append(row(["-" * w for w in widths], widths))
    for key, label in [("ours_rasa", "ours: Rasa server"), ("ours_actions", "ours: action server"),
                       ("stock_rasa", "stock: Rasa server")]:
        m = results["memory"][key]
        lines.append(row([label, fmt(m["rss_mib"], 1), fmt(m["hwm_mib"], 1)], widths))
    lines.append("")

    widths = [44, 10, 10]
    lines.append("Errors (non-200, exceptions, empty replies; load + long conversation)")
    lines.append(row(["", "ours", "stock"], widths))
    lines.append(row(["-" * w for w in widths], widths))
    lines.append(row(["errors", str(ours["errors_total"]), str(stock["errors_total"])], widths))
    lines.append(row(["turns timed", str(ours["turns_total"]), str(stock["turns_total"])], widths))
    lines.append("")

    lines.append("Targets (informational; the run exits 0 either way)")
    for target in results["targets"]:
        mark = "met" if target["met"] else "NOT met"
        lines.append(f"  [{mark:^7}] {target['name']}: {target['value']}")
    return "\n".join(lines)


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    ours, stock = results["ours"], results["stock"]
    targets = []
    for level in results["levels"]:
        o, s = ours["levels"][str(level)]["p50_ms"], stock["levels"][str(level)]["p50_ms"]
        ratio = o / s if o and s else None
        targets.append({"name": f"p50 <= {TARGET_P50_RATIO}x stock utter turn at {level} conversation(s)",
                        "value": f"{fmt(ratio, 2)}x ({fmt(o)} ms vs {fmt(s)} ms)",
                        "met": bool(ratio is not None and ratio <= TARGET_P50_RATIO)})
    growth = ours["long"]["ratio_100_1"]
    targets.append({"name": f"turn-100 <= {TARGET_GROWTH}x turn-1 (ours, long conversation)",
                    "value": f"{fmt(growth, 2)}x", "met": bool(growth is not None and growth <= TARGET_GROWTH)})
    targets.append({"name": "zero errors (ours)", "value": str(ours["errors_total"]),
                    "met": ours["errors_total"] == 0})
    return targets


# -- main -----------------------------------------------------------------------------------------------


def rasa_version() -> str:
    try:
        import importlib.metadata as md

        return md.version("rasa")
    except Exception:  # noqa: BLE001
        return "?"


async def measure(ours: Workload, stock: Workload, levels: dict[int, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"ours": {"levels": {}}, "stock": {"levels": {}}}
    for workload in (stock, ours):
        problems = await warm_up(workload)
        out[workload.name]["warmup_problems"] = problems
        print(f"  warmed up {workload.name} ({WARMUP_PASSES} untimed conversations; problems: {len(problems)})",
              flush=True)
    out["ours"]["sample"] = await sample_replies(ours)
    out["stock"]["sample"] = await sample_replies(stock)
    for level, turns in levels.items():
        for workload in (stock, ours):
            result = await run_level(workload, level, turns, tag=f"c{level}")
            out[workload.name]["levels"][str(level)] = result
            print(f"  {workload.name:>5} @ {level:>2}: {result['turns']} turns in {result['seconds']}s, "
                  f"p50 {fmt(result['p50_ms'])} ms, errors {result['errors']}", flush=True)
    for workload in (stock, ours):
        out[workload.name]["long"] = await run_long(workload)
        print(f"  {workload.name:>5} long conversation: turn 1 {fmt(out[workload.name]['long']['turn_1_ms'])} ms, "
              f"turn 100 {fmt(out[workload.name]['long']['turn_100_ms'])} ms", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the turns per level (e.g. 0.25 for a quick look); default 1")
    parser.add_argument("--diagnose", action="store_true",
                        help="only our bot: one long conversation through a timing proxy in front of the action "
                             "server (action-server time vs the rest, per turn); writes turn_latency_diagnose.json")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temporary directory (databases, stock bot)")
    args = parser.parse_args(argv)

    if not MODEL.exists():
        print(f"no trained model at {MODEL.relative_to(ROOT)}: run `make train` first", file=sys.stderr)
        return 2
    levels = {c: max(c, int(t * args.scale)) for c, t in LEVELS.items()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-turn-latency-"))
    servers: list[Server] = []
    init: subprocess.Popen | None = None
    init_log = None
    base_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    started = time.monotonic()
    try:
        # 1. the stock bot: `rasa init` trains the moodbot (offline) while our servers load
        stock_dir = work / "stock"
        stock_dir.mkdir()
        if not args.diagnose:
            print(f"==> rasa init --no-prompt in {stock_dir} (trains the stock moodbot)", flush=True)
            init_log = open(RESULTS / "stock_init.log", "w")  # noqa: SIM115 (the server's log while it runs)
            init = subprocess.Popen([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(stock_dir)],
                                    cwd=stock_dir, env=base_env, stdout=init_log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

        # 2. our assistant, as the integration tests start it
        max_conversations = max(t for t in levels.values()) + 8
        database_url, orders, cast, links = prepare_database(work, senders=max_conversations)
        rasa_port, action_port, stock_port, proxy_port = free_port(), free_port(), free_port(), free_port()
        # with --diagnose Rasa calls the action server through the timing proxy (started in the run's loop)
        action_url = f"http://{HOST}:{proxy_port if args.diagnose else action_port}/webhook"
        env = {
            **base_env,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
            "PII_HASH_SALT": SALT,
            "TRACKER_DB": str(work / "tracker.db"),
            "ACTION_ENDPOINT_URL": action_url,
            "RASA_AUTH_TOKEN": RASA_AUTH_TOKEN,
            "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
            "RATE_LIMIT_PER_MINUTE": "0",  # the load is many turns a second per sender, on purpose
        }
        for log in ("ours_actions.log", "ours_rasa.log", "stock_rasa.log"):
            (RESULTS / log).unlink(missing_ok=True)
        actions = action_server("our action server", action_port, env, RESULTS / "ours_actions.log")
        ours_rasa = rasa_server("our Rasa server", rasa_port, env, RESULTS / "ours_rasa.log", token=RASA_AUTH_TOKEN)
        servers += [actions, ours_rasa]
        print(f"==> starting our action server (:{action_port}) and Rasa server (:{rasa_port})", flush=True)
        for server in (actions, ours_rasa):
            server.start()

        if args.diagnose:
            wait_ready(servers)
            print(f"==> servers ready after {time.monotonic() - started:.0f}s; diagnosing", flush=True)
            ours = OurWorkload("ours", f"http://{HOST}:{rasa_port}", orders, cast)
            ours.links.update(links)
            proxy = ActionProxy(f"http://{HOST}:{action_port}/webhook")
            diag = asyncio.run(diagnose(ours, proxy, proxy_port))
            diag["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            out = RESULTS / "turn_latency_diagnose.json"
            out.write_text(json.dumps(diag, ensure_ascii=False, indent=2, default=str))
            print()
            print(render_diagnosis(diag))
            print(f"\n(JSON: {out.relative_to(ROOT)})")
            return 0

        assert init is not None
        code = init.wait(timeout=INIT_TIMEOUT)
        init_log.close()
        init_log = None
        stock_models = sorted((stock_dir / "models").glob("*.tar.gz")) if (stock_dir / "models").exists() else []
        if code != 0 or not stock_models:
            raise StartFailed(f"`rasa init` failed (code {code}, models: {len(stock_models)}); "
                              f"see {RESULTS / 'stock_init.log'}")
        stock_rasa = ServerProcess("stock Rasa server",
                            [str(VENV_BIN / "rasa"), "run", "--enable-api", "--port", str(stock_port),
                             "--model", str(stock_models[-1])],
                                   base_env, RESULTS / "stock_rasa.log", f"http://{HOST}:{stock_port}/status",
                                   cwd=stock_dir)
        servers.append(stock_rasa)
        print(f"==> starting the stock Rasa server (:{stock_port}); waiting for all servers", flush=True)
        stock_rasa.start()
        wait_ready(servers)
        print(f"==> servers ready after {time.monotonic() - started:.0f}s; measuring", flush=True)

        ours = OurWorkload("ours", f"http://{HOST}:{rasa_port}", orders, cast)
        ours.links.update(links)
        stock = StockWorkload("stock", f"http://{HOST}:{stock_port}")
        measured = asyncio.run(measure(ours, stock, levels))

        for server in servers:
            assert server.process is not None
            if server.process.poll() is not None:
                print(f"warning: {server.name} exited during the run (code {server.process.returncode})",
                      file=sys.stderr)
        memory = {"ours_rasa": memory_of(ours_rasa.pid), "ours_actions": memory_of(actions.pid),
                  "stock_rasa": memory_of(stock_rasa.pid)}
        results: dict[str, Any] = {
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "rasa": rasa_version(),
                        "platform": platform.platform()},
            "levels": list(levels),
            "turns_per_level": {str(c): t for c, t in levels.items()},
            "level_time_cap_s": LEVEL_TIME_CAP,
            "warmup_conversations_per_bot": WARMUP_PASSES,
            "memory": memory,
            **measured,
        }
        for name in ("ours", "stock"):
            bot = results[name]
            bot["errors_total"] = sum(v["errors"] for v in bot["levels"].values()) + bot["long"]["errors"]
            bot["turns_total"] = sum(v["turns"] for v in bot["levels"].values()) + bot["long"]["turns"]
        results["targets"] = evaluate_targets(results)
        results["elapsed_s"] = round(time.monotonic() - started, 1)
        out = RESULTS / "turn_latency.json"
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
        print()
        print(render(results))
        print(f"\n(JSON: {out.relative_to(ROOT)}; logs: {RESULTS.relative_to(ROOT)}/*.log; "
              f"{results['elapsed_s']:.0f}s in all)")
        return 0
    except StartFailed as exc:
        print(f"a server failed to start: {exc}", file=sys.stderr)
        return 1
    finally:
        if init is not None and init.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(init.pid, signal.SIGTERM)
            try:
                init.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(init.pid, signal.SIGKILL)
                init.wait(timeout=10)
        if init_log is not None:
            init_log.close()
        for server in reversed(servers):
            server.stop()
        if not args.keep_tmp:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
