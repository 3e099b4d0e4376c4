"""Throwaway servers for tests: a PostgreSQL cluster and a redis-server on free loopback ports.

Both come from Debian packages (``scripts/system_deps.sh``: ``postgresql``, ``redis-server``) and keep
nothing: the cluster lives in a temporary directory that is removed when it stops.

PostgreSQL's ``initdb`` refuses to run as root. When the tests run as root (CI containers) the cluster
is created and started as the ``postgres`` user that the Debian package adds (``runuser -u postgres``),
in a directory handed to that user; as any other user it simply runs as that user. Authentication is
``trust`` on 127.0.0.1 only: it is a throwaway cluster that no other machine can reach.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class ServiceUnavailable(RuntimeError):
    """The server's binary is missing or it did not start; the message says how to fix it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise ServiceUnavailable(f"the server exited with code {process.returncode}") from None
            if time.monotonic() > deadline:
                raise ServiceUnavailable(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s") from None
            time.sleep(0.05)


def postgres_bindir() -> Path | None:
    """The directory with ``initdb`` and ``pg_ctl``: Debian's versioned one (newest), else the PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


@dataclass
class PostgresServer:
    """One throwaway PostgreSQL cluster: ``start()``, ``create_database(name)``, ``url(name)``, ``stop()``."""

    port: int = field(default_factory=free_port)
    superuser: str = "postgres"
    directory: Path | None = None
    _run_as: str | None = None
    _options: str = ""

    def start(self, timeout: float = 60) -> PostgresServer:
        bindir = postgres_bindir()
        if bindir is None:
            raise ServiceUnavailable(
                "PostgreSQL is not installed: apt-get install -y postgresql (scripts/system_deps.sh installs it)"
            )
        self.directory = Path(tempfile.mkdtemp(prefix="pg-test-"))
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as the Debian package's postgres user
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ServiceUnavailable("running as root needs the 'postgres' user (apt-get install postgresql)") from exc
            os.chown(self.directory, user.pw_uid, user.pw_gid)
            self._run_as = "postgres"
        data = self.directory / "data"
        self._run(
            [str(bindir / "initdb"), "-D", str(data), "-U", self.superuser, "-A", "trust", "-E", "UTF8",
             "--locale=C", "--no-sync"],
            timeout=timeout,
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._options = options
        self._run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(self.directory / "server.log"), "-o", options,
             "-w", "-t", str(int(timeout)), "start"],
            timeout=timeout + 5,
        )
        wait_for_port(self.port, timeout=timeout)
        return self

    def stop(self) -> None:
        if self.directory is None:
            return
        bindir = postgres_bindir()
        if bindir is not None and (self.directory / "data" / "postmaster.pid").exists():
            self._run([str(bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop"],
                      timeout=30, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    def halt(self) -> None:
        """Stop the server but keep the cluster (an outage); ``resume()`` starts it again on the same port."""
        assert self.directory is not None, "the cluster was never started"
        self._run([str(postgres_bindir() / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop"],
                  timeout=60)

    def resume(self, timeout: float = 60) -> None:
        assert self.directory is not None, "the cluster was never started"
        self._run([str(postgres_bindir() / "pg_ctl"), "-D", str(self.directory / "data"), "-l",
                   str(self.directory / "server.log"), "-o", self._options, "-w", "-t", str(int(timeout)), "start"],
                  timeout=timeout + 5)
        wait_for_port(self.port, timeout=timeout)

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (empty, or a copy of ``template``) and return its SQLAlchemy URL."""
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.superuser, dbname="postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def _run(self, command: list[str], *, timeout: float, check: bool = True) -> None:
        if self._run_as:
            command = ["runuser", "-u", self._run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.directory)
        if check and result.returncode != 0:
            log = self.directory / "server.log" if self.directory else None
            tail = log.read_text()[-2000:] if log and log.exists() else ""
            raise ServiceUnavailable(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}{tail}")


@dataclass
class RedisServer:
    """One throwaway redis-server (``scripts/services.sh redis PORT``): ``start()``, ``url``, ``stop()``."""

    port: int = field(default_factory=free_port)
    _process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15) -> RedisServer:
        if shutil.which("redis-server") is None:
            raise ServiceUnavailable("redis-server is not installed: apt-get install -y redis-server")
        self._process = subprocess.Popen(
            [str(ROOT / "scripts" / "services.sh"), "redis", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self._process, timeout)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A redis-server of the caller's own for the ``with`` block; a missing redis-server fails the test."""
    import pytest

    server = RedisServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()
