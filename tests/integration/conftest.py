"""Real servers for integration tests: one action server and one Rasa server per test session.

They run the trained model (``models/assistant.tar.gz``, made by ``scripts/train.sh``) against a
fresh SQLite database seeded with the demo customers, on free loopback ports, started by the shared
launcher (``devtools/stack.py``, also used by the scale tests and the benchmarks).
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_session_factory
from demo.seed import seed_demo
from desk.schema import create_all
from devtools.services import free_port
from devtools.stack import ServerProcess, StartFailed, action_server, http_status, rasa_server, wait_all_ready

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "assistant.tar.gz"
START_TIMEOUT = 420
# the WeChat channel runs in safe (AES) mode against devtools/wechat_sim on WECHAT_API_BASE (test_wechat.py)
WECHAT_ENV = {
    "WECHAT_TOKEN": "integration-wechat-token",
    "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "WECHAT_APP_ID": "wx00integration01",
    "WECHAT_APP_SECRET": "integration-wechat-secret",
    "WECHAT_MODE": "safe",
}
# the Rasa HTTP API needs this token (the channels' webhooks do not); Rasa sends the second to the action server
RASA_AUTH_TOKEN = "integration-rasa-token"
ACTION_SERVER_TOKEN = "integration-action-token"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)


@dataclass
class Assistant:
    rasa_url: str
    action_url: str
    session_factory: sessionmaker
    servers: list[ServerProcess]
    log_dir: Path
    wechat_api_port: int = 0
    token: str = RASA_AUTH_TOKEN
    work_dir: Path | None = None  # the SQLite files of this run (app.db, tracker.db)

    def say(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"[]")

    def texts(self, sender: str, text: str, **kwargs: Any) -> list[str]:
        return [m.get("text", "") for m in self.say(sender, text, **kwargs)]

    def tracker(self, sender: str) -> dict[str, Any]:
        url = f"{self.rasa_url}/conversations/{sender}/tracker?token={self.token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())

    def trigger(self, sender: str, intent: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.rasa_url}/conversations/{sender}/trigger_intent?output_channel=latest&token={self.token}",
            data=json.dumps({"name": intent}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def healthy(self) -> bool:
        return http_status(f"{self.rasa_url}/status?token={self.token}") == 200 and http_status(f"{self.action_url}/health") == 200



def shared_assistant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The one server pair of this pytest session, started on first use and stopped at the end.

    Tests outside this folder (the console's browser test) reach it through this function; it is
    kept on the pytest session because this conftest may be imported twice (as ``conftest`` and as
    ``tests.integration.conftest``), and a second pair of servers costs a minute and 1.2 GB.
    """
    bot = getattr(request.session, "_shared_assistant", None)
    if bot is None:
        servers = _servers(tmp_path_factory)
        bot = next(servers)
        request.session._shared_assistant = bot  # type: ignore[attr-defined]
        request.config.add_cleanup(lambda: next(servers, None))
    return bot


def _servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run scripts/train.sh (make train) first")
    work = tmp_path_factory.mktemp("assistant")
    database_url = f"sqlite:///{work / 'app.db'}"
    engine = make_engine(database_url)
    create_all(engine)
    seed_demo(make_session_factory(engine), salt="integration-salt")
    rasa_port, action_port, wechat_api_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "PII_HASH_SALT": "integration-salt",
        "TRACKER_DB": str(work / "tracker.db"),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        **WECHAT_ENV,
        "RASA_AUTH_TOKEN": RASA_AUTH_TOKEN,
        "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
        "WECHAT_API_BASE": f"http://127.0.0.1:{wechat_api_port}",
    }
    logs = ROOT / "results" / "integration"
    servers = [
        action_server("action server", action_port, env, logs / "actions.log"),
        rasa_server("Rasa server", rasa_port, env, logs / "rasa.log", token=RASA_AUTH_TOKEN),
    ]
    for log in ("actions.log", "rasa.log"):
        (logs / log).unlink(missing_ok=True)
    bot = Assistant(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        session_factory=make_session_factory(engine),
        servers=servers,
        log_dir=logs,
        wechat_api_port=wechat_api_port,
        work_dir=work,
    )
    try:
        for server in servers:
            server.start()
        try:
            wait_all_ready(servers, START_TIMEOUT)
        except StartFailed as exc:
            pytest.fail(str(exc))
        yield bot
    finally:
        for server in servers:
            server.stop()
        engine.dispose()
