"""Keeps ``make run``'s servers running, as compose's restart policy does in production.

    python scripts/supervise.py --log-dir logs 'actions=.venv/bin/python -m actions.server ...' 'rasa=...'

Each ``name=command`` runs as a child process, its output appended to ``<log-dir>/<name>.log``. When one
exits on its own it is started again after a pause that doubles with each exit in a row (1 s, 2 s, 4 s ...
up to 30 s; back to 1 s once it has run for a minute), with a line saying so on standard error and in
``<log-dir>/supervise.log``; the others keep running. SIGINT or SIGTERM stops every child (SIGTERM, then
SIGKILL after a grace period) and ends with exit code 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

STABLE_S = 60.0  # running this long resets the pause
GRACE_S = 10.0  # SIGTERM, then SIGKILL


def backoff_s(failures: int, *, base: float = 1.0, ceiling: float = 30.0) -> float:
    """The pause before the restart that follows ``failures`` exits in a row (1-based)."""
    return min(ceiling, base * 2 ** max(0, failures - 1))


@dataclass
class Service:
    name: str
    command: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self.log is None:
            self.log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.process = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None


class Supervisor:
    def __init__(self, services: list[Service], log_dir: Path, *, base: float, ceiling: float) -> None:
        self.services = services
        self.base, self.ceiling = base, ceiling
        self.stopping = False
        self._log = open(log_dir / "supervise.log", "a", encoding="utf-8")  # noqa: SIM115

    def say(self, line: str) -> None:
        stamped = f"{time.strftime('%H:%M:%S')} supervise: {line}"
        print(stamped, file=sys.stderr, flush=True)
        self._log.write(stamped + "\n")
        self._log.flush()

    def run(self) -> int:
        for service in self.services:
            service.start()
        while not self.stopping:
            now = time.monotonic()
            for service in self.services:
                if service.restart_at is not None:
                    if now >= service.restart_at:
                        service.start()
                        self.say(f"{service.name} started again (pid {service.process.pid})")  # type: ignore[union-attr]
                    continue
                assert service.process is not None
                code = service.process.poll()
                if code is None:
                    continue
                service.failures = 1 if now - service.started_at >= STABLE_S else service.failures + 1
                pause = backoff_s(service.failures, base=self.base, ceiling=self.ceiling)
                service.restart_at = now + pause
                self.say(f"{service.name} stopped (exit code {code}); restarting in {pause:g}s "
                         f"(see {service.log_path})")
            time.sleep(0.1)
        self.stop_all()
        return 0

    def stop_all(self) -> None:
        running = [s.process for s in self.services if s.process is not None and s.process.poll() is None]
        for process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for service in self.services:
            if service.log is not None:
                service.log.close()
        self.say("stopped every server")
        self._log.close()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    # each child leads its own process group: its own children (workers) stop with it
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[tuple[str, list[str]]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log-dir", type=Path, default=Path("logs"))
    parser.add_argument("--backoff-base", type=float, default=1.0, help="first pause in seconds")
    parser.add_argument("--backoff-max", type=float, default=30.0, help="longest pause in seconds")
    parser.add_argument("services", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args(argv)
    services = []
    for spec in args.services:
        name, sep, command = spec.partition("=")
        if not sep or not name.isidentifier() or not command.strip():
            parser.error(f"expected NAME=COMMAND, got {spec!r}")
        services.append((name, shlex.split(command)))
    return args, services


def main(argv: list[str] | None = None) -> int:
    args, specs = parse(argv)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor([Service(name, command, args.log_dir / f"{name}.log") for name, command in specs],
                            args.log_dir, base=args.backoff_base, ceiling=args.backoff_max)

    def stop(signum: int, _frame: object) -> None:
        supervisor.stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    return supervisor.run()


if __name__ == "__main__":
    raise SystemExit(main())
