"""Throughput and latency of 1 vs 2 replicas behind nginx, start-up time and peak memory of every server.

Runs the production topology of ``docker-compose.yml`` natively (``devtools/stack.py``: PostgreSQL,
redis-server, nginx, N Rasa servers with ``bot/endpoints.production.yml``, N action servers, the
console) once with N=1 and once with N=2, and drives each through nginx with the same load: CONCURRENCY
conversations at once, each saying the lines of SCRIPT one after the other, TURNS turns in all (after
an untimed warm-up). Prints one table and writes ``results/bench/scale.json``.

Targets (informational; exit status 0 when the run completed, 1 when a server failed to start, 2 when
``models/assistant.tar.gz`` is missing): >= 1.7x the turns/s with 2 replicas, every server ready within
30 s, peak memory of bot + actions (the sentiment model runs in the Rasa server's NLU pipeline) <= 1.5 GB.
On a 2-core machine two replicas share the same two cores with PostgreSQL, Redis, nginx and the load
generator, so the throughput target measures the machine as much as the design: see the CPU count printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.turn_latency import memory_of, percentile  # noqa: E402
from devtools.services import ServiceUnavailable  # noqa: E402
from devtools.stack import MODEL, Stack, StartFailed  # noqa: E402

RESULTS = ROOT / "results" / "bench"
SCRIPT = ["hello", "where is my order E20991231999?", "how long does delivery usually take?", "你好",
          "退货政策是什么", "thanks"]
CONCURRENCY = 32
TURNS = 960
WARMUP_TURNS = 96
TURN_TIMEOUT = 120
TARGET_SPEEDUP = 1.7
TARGET_READY_S = 30.0
TARGET_MEMORY_MIB = 1536.0


async def drive(url: str, tag: str, concurrency: int, turns: int) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    per_conversation = len(SCRIPT)
    conversations = [f"scale-{tag}-{uuid.uuid4().hex[:6]}-{n:04d}" for n in range(turns // per_conversation)]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for sender in conversations:
        queue.put_nowait(sender)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while not queue.empty():
            sender = queue.get_nowait()
            for line in SCRIPT:
                began = time.perf_counter()
                try:
                    async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": line},
                                            timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT)) as response:
                        body = await response.json(content_type=None)
                        if response.status != 200 or not body:
                            errors += 1
                except Exception:  # noqa: BLE001  counted, the run goes on
                    errors += 1
                latencies.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    return {"turns": len(latencies), "seconds": round(seconds, 2), "turns_per_s": round(len(latencies) / seconds, 2),
            "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99), "errors": errors}


def measure(replicas: int, concurrency: int, turns: int) -> dict[str, Any]:
    stack = Stack(replicas=replicas, log_dir=ROOT / "results" / "bench" / f"scale-{replicas}")
    print(f"==> {replicas} replica(s): starting PostgreSQL, Redis, nginx, {replicas} Rasa, {replicas} action "
          "server(s), console", flush=True)
    stack.start()
    try:
        ready = {server.name: round(server.ready_s or 0.0, 1) for server in stack.servers}
        print(f"    ready after {stack.started_s:.0f}s: {ready}", flush=True)
        asyncio.run(drive(stack.url, "warm", concurrency, WARMUP_TURNS))
        load = asyncio.run(drive(stack.url, f"r{replicas}", concurrency, turns))
        print(f"    {load['turns']} turns in {load['seconds']}s: {load['turns_per_s']} turns/s, "
              f"p50 {load['p50_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms, errors {load['errors']}", flush=True)
        memory = {server.name: memory_of(server.pid)["hwm_mib"] for server in stack.servers}
        return {"replicas": replicas, "ready_s": ready, "stack_ready_s": round(stack.started_s, 1),
                "load": load, "peak_mib": memory}
    finally:
        stack.stop()


def render(results: dict[str, Any]) -> str:
    one, two = results["runs"]["1"], results["runs"]["2"]
    lines = [f"Scale: nginx -> N Rasa replicas (production endpoints: PostgreSQL, Redis) on {results['cpus']} CPUs",
             f"load: {results['concurrency']} concurrent conversations, {one['load']['turns']} turns each run", ""]
    lines.append(f"{'replicas':<10}{'turns/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for run in (one, two):
        load = run["load"]
        lines.append(f"{run['replicas']:<10}{load['turns_per_s']:>10.1f}{load['p50_ms']:>10.0f}"
                     f"{load['p99_ms']:>10.0f}{load['errors']:>8}")
    lines.append(f"speed-up with 2 replicas: {results['speedup']:.2f}x (target {TARGET_SPEEDUP}x)")
    lines += ["", f"{'server (2-replica run)':<24}{'ready s':>10}{'peak MiB':>10}"]
    for name, ready in two["ready_s"].items():
        lines.append(f"{name:<24}{ready:>10.1f}{two['peak_mib'].get(name, 0):>10.0f}")
    lines += ["", "Targets (informational)"]
    for target in results["targets"]:
        lines.append(f"  [{'met' if target['met'] else 'NOT met':^7}] {target['name']}: {target['value']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=TURNS)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"no trained model at {MODEL.relative_to(ROOT)}: run `make train` first", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        runs = {str(n): measure(n, args.concurrency, args.turns) for n in (1, 2)}
    except (StartFailed, ServiceUnavailable) as exc:
        print(f"a server failed to start: {exc}", file=sys.stderr)
        return 1
    speedup = runs["2"]["load"]["turns_per_s"] / runs["1"]["load"]["turns_per_s"]
    worst_ready = max(v for run in runs.values() for k, v in run["ready_s"].items() if k != "nginx")
    bot_memory = max(run["peak_mib"].get("rasa-1", 0) + run["peak_mib"].get("actions-1", 0) for run in runs.values())
    results: dict[str, Any] = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(),
        "concurrency": args.concurrency, "runs": runs, "speedup": round(speedup, 2),
        "targets": [
            {"name": f">= {TARGET_SPEEDUP}x turns/s with 2 replicas", "value": f"{speedup:.2f}x",
             "met": speedup >= TARGET_SPEEDUP},
            {"name": f"every server ready within {TARGET_READY_S:.0f} s (started in parallel)",
             "value": f"slowest {worst_ready:.1f} s", "met": worst_ready <= TARGET_READY_S},
            {"name": f"peak memory of one Rasa server (NLU + sentiment) + one action server <= {TARGET_MEMORY_MIB:.0f} MiB",
             "value": f"{bot_memory:.0f} MiB", "met": bot_memory <= TARGET_MEMORY_MIB},
        ],
    }
    out = RESULTS / "scale.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print()
    print(render(results))
    print(f"\n(JSON: {out.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
