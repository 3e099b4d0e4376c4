"""Wait until every URL answers 200 (printing progress), or fail when a watched process exits."""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--pids", nargs="*", type=int, default=[])
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    start = time.monotonic()
    pending = list(args.urls)
    while pending:
        pending = [u for u in pending if not ready(u)]
        if not pending:
            break
        dead = [p for p in args.pids if not alive(p)]
        if dead:
            print(f"\nerror: a server exited during start-up (pid {dead}); see logs/", file=sys.stderr)
            return 1
        waited = time.monotonic() - start
        if waited > args.timeout:
            print(f"\nerror: not ready after {args.timeout:.0f}s: {pending}", file=sys.stderr)
            return 1
        print(f"\r    waiting for {len(pending)} server(s)... {waited:4.0f}s", end="", flush=True)
        time.sleep(1)
    print(f"\r    ready after {time.monotonic() - start:.0f}s" + " " * 20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
