"""The one launcher of our servers, for the integration tests, the scale/fault tests and the benchmarks.

Two layers:

* ``ServerProcess``: one server (Rasa, action server, console) as a child process with its own log
  file and health URL; ``start()`` returns at once, ``wait_ready()`` polls the health URL, and the
  time from ``start()`` to the first healthy answer is kept (``ready_s``). ``kill()`` (SIGKILL) and
  ``restart()`` are what the fault tests use. ``rasa_server``, ``action_server`` and ``console_server``
  build the command lines the way ``deploy/entrypoint.sh`` runs them.
* ``Stack``: the production topology of ``docker-compose.yml`` on loopback: a throwaway PostgreSQL
  (application database migrated with Alembic and seeded with the demo cast, plus the tracker
  database) and redis-server (``devtools/services.py``), N Rasa servers with the production
  endpoints (``bot/endpoints.production.yml``: compacting SQL tracker store on PostgreSQL, Redis lock
  store, event archive), N action servers (Rasa replica i calls action server i), the console, and
  nginx in front (``NginxServer``: the routing of ``deploy/nginx/nginx.conf``, ``/webhooks/`` round-robin
  across the Rasa replicas, the rest to the console). Every server starts in parallel.

Nothing here connects at import time; every port is a free loopback port; ``stop()`` ends every
process this module started (by its own process group) and removes the temporary directories.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from devtools.services import PostgresServer, RedisServer, ServiceUnavailable, free_port

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "assistant.tar.gz"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
START_TIMEOUT = 420.0
ACTION_TOKEN_HEADER = "X-Action-Token"


class StartFailed(RuntimeError):
    """A server exited during start-up or did not become healthy in time; the message names its log."""


def http_status(url: str, timeout: float = 2) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except Exception:
        return 0


# -- one server ------------------------------------------------------------------------------------------


@dataclass
class ServerProcess:
    """A server as a child process in its own process group (so its workers stop with it)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str
    cwd: Path = ROOT
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    ready_s: float | None = None
    _log: IO[str] | None = None

    def start(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a")  # noqa: SIM115 (closed when the process stops)
        self.started_at = time.monotonic()
        self.ready_s = None
        self.process = subprocess.Popen(
            self.args, cwd=self.cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        return http_status(self.health_url) == 200

    def poll_ready(self) -> bool:
        """True once healthy (records ``ready_s``); raises ``StartFailed`` when the process has exited."""
        if self.ready_s is not None:
            return True
        if not self.running:
            code = self.process.returncode if self.process is not None else None
            raise StartFailed(f"{self.name} exited during start-up (code {code}); see {self.log_path}")
        if self.healthy():
            self.ready_s = time.monotonic() - self.started_at
            return True
        return False

    def wait_ready(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        wait_all_ready([self], timeout)
        return self

    def _signal(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL, as a crash: no clean shutdown."""
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        if self.process is not None and self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        self.stop()
        return self.start().wait_ready(timeout)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def wait_all_ready(servers: Iterable[ServerProcess], timeout: float = START_TIMEOUT) -> None:
    """Poll every server until all are healthy; fail on the first that exits or at the deadline."""
    pending = list(servers)
    deadline = time.monotonic() + timeout
    while pending:
        pending = [server for server in pending if not server.poll_ready()]
        if pending and time.monotonic() > deadline:
            raise StartFailed(f"not ready after {timeout:.0f}s: {', '.join(s.name for s in pending)}; "
                              f"see {', '.join(str(s.log_path) for s in pending)}")
        if pending:
            time.sleep(0.25)


def rasa_server(
    name: str, port: int, env: dict[str, str], log_path: Path, *, token: str,
    endpoints: str = "bot/endpoints.yml", model: Path = MODEL, credentials: str = "bot/credentials.yml",
) -> ServerProcess:
    return ServerProcess(
        name,
        [str(VENV_BIN / "rasa"), "run", "--model", str(model), "--endpoints", endpoints,
         "--credentials", credentials, "--interface", HOST, "--port", str(port), "--enable-api",
         "--auth-token", token],
        env, log_path, f"http://{HOST}:{port}/status?token={token}",
    )


def action_server(name: str, port: int, env: dict[str, str], log_path: Path) -> ServerProcess:
    return ServerProcess(
        name, [str(VENV_BIN / "python"), "-m", "actions.server", "--actions", "actions", "--port", str(port)],
        env, log_path, f"http://{HOST}:{port}/health",
    )


def console_server(name: str, port: int, env: dict[str, str], log_path: Path) -> ServerProcess:
    return ServerProcess(
        name, [str(VENV_BIN / "python"), "-m", "desk.console"],
        {**env, "CONSOLE_HOST": HOST, "CONSOLE_PORT": str(port)}, log_path, f"http://{HOST}:{port}/health",
    )


@dataclass(frozen=True)
class EmbeddedTrio:
    """The action server, the Rasa server and the console on free ports over one embedded database."""

    servers: list[ServerProcess]
    rasa_url: str
    console_url: str


def embedded_trio(work: Path, database_url: str, log_dir: Path, *, salt: str, rasa_token: str, action_token: str,
                  log_prefix: str = "", drop: Iterable[str] = ()) -> EmbeddedTrio:
    """The three servers of ``make run`` (not started) with the environment the benches and the screenshot
    script share: this checkout's code, ``database_url``, a tracker store in ``work``, no rate limits, no
    queue sweeping; ``drop`` names variables of this process's environment not to pass on."""
    rasa_port, action_port, console_port = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in set(drop)}
    env.update({
        "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore",
        "DATABASE_URL": database_url, "PII_HASH_SALT": salt, "TRACKER_DB": str(work / "tracker.db"),
        "ACTION_ENDPOINT_URL": f"http://{HOST}:{action_port}/webhook", "RASA_AUTH_TOKEN": rasa_token,
        "ACTION_SERVER_TOKEN": action_token, "RASA_URL": f"http://{HOST}:{rasa_port}",
        "RATE_LIMIT_PER_MINUTE": "0", "QUEUE_SWEEP_S": "3600",
    })
    servers = [
        action_server("action server", action_port, env, log_dir / f"{log_prefix}actions.log"),
        rasa_server("Rasa server", rasa_port, env, log_dir / f"{log_prefix}rasa.log", token=rasa_token),
        console_server("console", console_port, env, log_dir / f"{log_prefix}console.log"),
    ]
    return EmbeddedTrio(servers, f"http://{HOST}:{rasa_port}", f"http://{HOST}:{console_port}")


# -- nginx -----------------------------------------------------------------------------------------------

NGINX_CONF = """\
# generated by devtools/stack.py from the routing of deploy/nginx/nginx.conf (loopback, no rate limits:
# the load test is many conversations from one address; the production limits are tested on their own)
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 4096; }}

http {{
  server_tokens off;
  client_max_body_size 64k;
  client_body_buffer_size 64k;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  proxy_read_timeout {timeout}s;
  proxy_send_timeout {timeout}s;
  log_format upstream '$request_method $uri $status upstream=$upstream_addr rt=$request_time';
  access_log {dir}/access.log upstream;
  map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}

  upstream rasa    {{ {rasa_servers} keepalive 32; }}
{replica_upstreams}
  upstream console {{ server {host}:{console_port}; keepalive 16; }}
  # tests only: "X-Test-Replica: N" pins a request to replica N, so a load test can alternate the
  # replicas on every turn of a conversation; without the header requests are round-robined
  map $http_x_test_replica $rasa_pool {{ default rasa; {replica_map} }}

  server {{
    listen {host}:{port};
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    add_header X-Upstream $upstream_addr always;

    location = /nginx-health {{ access_log off; return 200 "ok\\n"; }}

    location /webhooks/ {{
      proxy_set_header Connection "";
      proxy_pass http://$rasa_pool;
    }}

    location ~ ^/(chat|widget)/ws$ {{
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
      proxy_pass http://console;
    }}

    location / {{
      proxy_set_header Connection "";
      proxy_pass http://console;
    }}
  }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


def nginx_server(directory: Path, port: int, rasa_ports: list[int], console_port: int,
                 timeout_s: int = 60) -> ServerProcess:
    """nginx in the foreground with a generated config in ``directory`` (``access.log`` names the upstream);
    ``timeout_s``: how long it waits for an upstream's answer before it replies 504."""
    binary = nginx_binary()
    if binary is None:
        raise ServiceUnavailable("nginx is not installed: apt-get install -y nginx (scripts/system_deps.sh)")
    directory.mkdir(parents=True, exist_ok=True)
    # max_fails=0: a replica being restarted by a fault test is retried on the next request, never shunned
    servers = " ".join(f"server {HOST}:{p} max_fails=0;" for p in rasa_ports)
    pinned = "\n".join(f"  upstream rasa_{i} {{ server {HOST}:{p} max_fails=0; keepalive 16; }}"
                        for i, p in enumerate(rasa_ports))
    (directory / "nginx.conf").write_text(NGINX_CONF.format(
        dir=directory, host=HOST, port=port, console_port=console_port, rasa_servers=servers, timeout=int(timeout_s),
        replica_upstreams=pinned, replica_map=" ".join(f'"{i}" rasa_{i};' for i in range(len(rasa_ports))),
        user="user root;" if os.geteuid() == 0 else "",
    ))
    return ServerProcess(
        "nginx", [binary, "-p", str(directory), "-c", str(directory / "nginx.conf")], dict(os.environ),
        directory / "nginx.out", f"http://{HOST}:{port}/nginx-health",
    )


def upstream_counts(access_log: Path, path_prefix: str = "/webhooks/") -> dict[str, int]:
    """Requests per upstream address in nginx's access log (``log_format upstream`` above)."""
    counts: dict[str, int] = {}
    if not access_log.exists():
        return counts
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1].startswith(path_prefix) and parts[3].startswith("upstream="):
            for address in parts[3][len("upstream="):].split(","):
                address = address.strip()
                counts[address] = counts.get(address, 0) + 1
    return counts


# -- the production topology ------------------------------------------------------------------------------

RASA_AUTH_TOKEN = "stack-rasa-token"
ACTION_SERVER_TOKEN = "stack-action-token"
SALT = "stack-salt"


@dataclass
class Stack:
    """PostgreSQL + Redis + N Rasa + N action servers + console behind nginx, on loopback."""

    replicas: int = 2
    log_dir: Path = ROOT / "results" / "stack"
    extra_env: dict[str, str] = field(default_factory=dict)
    with_console: bool = True
    upstream_timeout_s: int = 60  # nginx's wait for a Rasa or console answer (then 504)
    postgres: PostgresServer = field(default_factory=PostgresServer)
    redis: RedisServer = field(default_factory=RedisServer)
    rasa: list[ServerProcess] = field(default_factory=list)
    actions: list[ServerProcess] = field(default_factory=list)
    console: ServerProcess | None = None
    nginx: ServerProcess | None = None
    database_url: str = ""
    tracker_db_url: str = ""
    nginx_port: int = 0
    started_s: float = 0.0
    _work: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.nginx_port}"

    @property
    def servers(self) -> list[ServerProcess]:
        return [*self.actions, *self.rasa, *([self.console] if self.console else []),
                *([self.nginx] if self.nginx else [])]

    def env(self, **extra: str) -> dict[str, str]:
        """The environment every application process gets (as ``x-app-env`` in docker-compose.yml)."""
        tracker = self.tracker_db_url.rsplit("/", 1)[-1]
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONWARNINGS": "ignore",
            "DATABASE_URL": self.database_url,
            "TRACKER_DB_URL": self.tracker_db_url,
            "REDIS_URL": self.redis.url,
            "PII_HASH_SALT": SALT,
            "SEED_DEMO_DATA": "false",
            "RASA_AUTH_TOKEN": RASA_AUTH_TOKEN,
            "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
            "POSTGRES_HOST": HOST,
            "POSTGRES_PORT": str(self.postgres.port),
            "POSTGRES_USER": self.postgres.superuser,
            "POSTGRES_PASSWORD": "",
            "TRACKER_POSTGRES_DB": tracker,
            "REDIS_HOST": HOST,
            "REDIS_PORT": str(self.redis.port),
            "REDIS_PASSWORD": "",
            "OUTBOX_DIR": str((self._work or ROOT / "var") / "outbox"),
            "OUTBOX_FLUSH_S": "2",
            **self.extra_env,
            **extra,
        }

    def start(self, timeout: float = START_TIMEOUT) -> Stack:
        if not MODEL.exists():
            raise StartFailed(f"no trained model at {MODEL}: run scripts/train.sh (make train) first")
        began = time.monotonic()
        self._work = Path(tempfile.mkdtemp(prefix="stack-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for old in self.log_dir.glob("*.log"):
            old.unlink()
        try:
            self.postgres.start()
            self.redis.start()
            self.database_url = self.postgres.create_database("assistant")
            self.tracker_db_url = self.postgres.create_database("rasa")
            prepare_database(self.database_url)
            rasa_ports = [free_port() for _ in range(self.replicas)]
            action_ports = [free_port() for _ in range(self.replicas)]
            console_port, self.nginx_port = free_port(), free_port()
            for i in range(self.replicas):
                self.actions.append(action_server(f"actions-{i + 1}", action_ports[i], self.env(),
                                                  self.log_dir / f"actions-{i + 1}.log"))
                self.rasa.append(rasa_server(
                    f"rasa-{i + 1}", rasa_ports[i],
                    self.env(ACTION_ENDPOINT_URL=f"http://{HOST}:{action_ports[i]}/webhook"),
                    self.log_dir / f"rasa-{i + 1}.log", token=RASA_AUTH_TOKEN,
                    endpoints="bot/endpoints.production.yml",
                ))
            if self.with_console:
                self.console = console_server("console", console_port,
                                              self.env(RASA_URL=f"http://{HOST}:{rasa_ports[0]}"),
                                              self.log_dir / "console.log")
            self.nginx = nginx_server(self._work / "nginx", self.nginx_port, rasa_ports, console_port,
                                      self.upstream_timeout_s)
            for server in self.servers:
                server.start()
            wait_all_ready(self.servers, timeout)
            self.started_s = time.monotonic() - began
            return self
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        if self.nginx is not None:
            access = self.nginx.log_path.parent / "access.log"
            if access.exists():
                shutil.copy(access, self.log_dir / "nginx-access.log")
        self.redis.stop()
        self.postgres.stop()
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None

    def access_log(self) -> Path:
        assert self.nginx is not None
        return self.nginx.log_path.parent / "access.log"

    def rasa_address(self, index: int) -> str:
        return self.rasa[index].health_url.split("/")[2]

    def say(self, sender: str, text: str, timeout: float = 60) -> tuple[list[dict[str, Any]], str]:
        """One customer line through nginx: (the bot's messages, the Rasa replica that answered)."""
        request = urllib.request.Request(
            f"{self.url}/webhooks/rest/webhook", data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"[]"), response.headers.get("X-Upstream", "")

    def tracker(self, sender: str, replica: int = 0) -> dict[str, Any]:
        address = self.rasa_address(replica)
        with urllib.request.urlopen(f"http://{address}/conversations/{sender}/tracker?token={RASA_AUTH_TOKEN}",
                                    timeout=30) as response:
            return json.loads(response.read())


def prepare_database(database_url: str) -> None:
    """``alembic upgrade head`` (as the compose ``migrate`` service does), then the demo customers."""
    from alembic import command
    from alembic.config import Config

    from common.db import make_engine, make_session_factory
    from demo.seed import seed_demo

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = database_url
    command.upgrade(config, "head")
    engine = make_engine(database_url)
    try:
        seed_demo(make_session_factory(engine), salt=SALT)
    finally:
        engine.dispose()
