"""The console's sign-in, roles and names (issue 11, items 4, 9, 14, 15 and 16), written before the fixes.

* 4: a stranger's wrong passwords never lock the owner out (per address and per (user, address) pair;
  a distributed guesser is slowed, the owner's known address still passes).
* 9: ENVIRONMENT is one of a declared set; the published demo passwords are refused outside development.
* 14: an agent opens the queue and their own handoffs; another agent's or an ended one is supervisors' (403).
* 15: scrypt N=2^17 and old hashes upgraded when their owner signs in.
* 16: customers see an agent's display name, never the sign-in name.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from common.settings import ENVIRONMENTS, Settings, SettingsError
from desk.console.routes.auth import LoginThrottle
from desk.console.routes.widget import _history
from desk.console.users import DEMO_USERS
from desk.gateway import OutboundMessage
from desk.models import Agent
from desk.passwords import hash_password, verify_password
from tests.desk.console.conftest import PASSWORD, Console, enqueue, sign_in

ROOT = Path(__file__).resolve().parents[2]


# -- 4: sign-in throttling ----------------------------------------------------------------------------------


def test_a_strangers_wrong_passwords_do_not_lock_out_the_owner() -> None:
    throttle = LoginThrottle(per_user=5, per_ip=20, window_s=900)
    for _ in range(5):
        throttle.failed("supervisor", "203.0.113.9")
    assert throttle.retry_after("supervisor", "203.0.113.9") > 0  # the stranger waits
    assert throttle.retry_after("supervisor", "198.51.100.7") == 0  # the owner, elsewhere, does not


def test_a_distributed_guesser_is_slowed_but_the_owners_known_address_passes() -> None:
    throttle = LoginThrottle(per_user=5, per_ip=20, window_s=900)
    throttle.succeeded("supervisor", "198.51.100.7")  # the owner signed in from here before
    for n in range(200):  # one guess from each of 200 addresses: no pair and no address reaches its limit
        throttle.failed("supervisor", f"203.0.{n // 250}.{n % 250}")
    assert throttle.retry_after("supervisor", "192.0.2.55") > 0  # a new address now waits
    assert throttle.retry_after("supervisor", "198.51.100.7") == 0  # the owner's address does not
    assert throttle.retry_after("agent1", "192.0.2.55") == 0  # nor does anyone else


def test_the_owner_signs_in_after_a_stranger_failed_five_times(console: Console) -> None:
    throttle = console.app.state.login_throttle
    for _ in range(5):
        throttle.failed("agent1", "203.0.113.9")  # as if from another client address
    client = console.client()
    sign_in(client, "agent1")  # testclient's own address: not locked


def test_production_refuses_to_trust_every_forwarding_address() -> None:
    secrets = {"PII_HASH_SALT": "s" * 16, "PII_VAULT_KEY": "v" * 16, "WIDGET_TOKEN_SECRET": "w" * 16,
               "RASA_AUTH_TOKEN": "r" * 16, "ACTION_SERVER_TOKEN": "a" * 16, "ENVIRONMENT": "production"}
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        Settings.from_env({**secrets, "FORWARDED_ALLOW_IPS": "*"})
    assert Settings.from_env({**secrets, "FORWARDED_ALLOW_IPS": "172.30.0.10"}).forwarded_allow_ips == "172.30.0.10"
    assert Settings.from_env({}).forwarded_allow_ips == "127.0.0.1"


# -- 9: environments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["prod", "Production", "staging-prod", "live", "dev "])
def test_an_unknown_environment_refuses_to_start(environment: str) -> None:
    with pytest.raises(SettingsError, match="ENVIRONMENT must be one of"):
        Settings.from_env({"ENVIRONMENT": environment})


def test_the_declared_environments() -> None:
    assert set(ENVIRONMENTS) >= {"development", "test", "production"}
    assert Settings.from_env({}).environment == "development" and Settings.from_env({}).is_development
    assert not Settings.from_env({"ENVIRONMENT": "test"}).is_production
    secrets = {"PII_HASH_SALT": "s" * 16, "PII_VAULT_KEY": "v" * 16, "WIDGET_TOKEN_SECRET": "w" * 16,
               "RASA_AUTH_TOKEN": "r" * 16, "ACTION_SERVER_TOKEN": "a" * 16}
    for environment in ENVIRONMENTS:
        if environment in ("development", "test"):
            continue
        with pytest.raises(SettingsError):  # every production-like environment needs its secrets
            Settings.from_env({"ENVIRONMENT": environment})
        ready = Settings.from_env({"ENVIRONMENT": environment, **secrets})
        assert ready.is_production and ready.console_secure_cookies


def test_guards_ask_the_settings_not_the_string() -> None:
    scattered = []
    for folder in ("actions", "bot", "common", "desk", "profiles", "widget", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path.name != "settings.py" and re.search(r"environment\s*[!=]=|[!=]=\s*[\"']production", text):
                scattered.append(str(path.relative_to(ROOT)))
    assert scattered == []


@pytest.mark.parametrize("environment", ["test", "production"])
def test_the_published_demo_passwords_are_refused_outside_development(console: Console, environment: str) -> None:
    username, password, role, _name = DEMO_USERS[0]
    console.agents.add(username="demo-" + username, password=password, role=role, display_name="Demo")
    services = console.app.state.services
    console.app.state.services = dataclasses.replace(
        services, settings=dataclasses.replace(services.settings, environment=environment)
    )
    client = console.client()
    for language, wording in (("en", "published"), ("zh", "公开")):
        page = client.get("/login", headers={"Accept": "text/html"})
        token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
        refused = client.post("/login", data={"username": "demo-" + username, "password": password,
                                              "csrf_token": token},
                              headers={"Accept-Language": language}, follow_redirects=False)
        assert refused.status_code == 403 and wording in refused.text
    assert "desk_session" not in client.cookies
    sign_in(client, "agent1")  # a real password still signs in


def test_the_demo_passwords_sign_in_during_development(console: Console) -> None:
    username, password, role, _name = DEMO_USERS[0]
    console.agents.add(username="demo-" + username, password=password, role=role, display_name="Demo")
    sign_in(console.client(), "demo-" + username, password)


# -- 14: who opens which handoff ---------------------------------------------------------------------------

READS = ["/handoffs/{id}", "/api/handoffs/{id}", "/api/handoffs/{id}/messages", "/api/handoffs/{id}/notes",
         "/api/handoffs/{id}/stream"]


def _claimed_by_agent1(console: Console) -> tuple[int, Any, Any, Any]:
    handoff_id = enqueue(console.queue)
    holder, other, boss = console.client("agent1"), console.client("agent2"), console.client("boss")
    assert holder.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": holder.csrf}).status_code == 200
    return handoff_id, holder, other, boss


def test_another_agents_handoff_is_for_supervisors_only(console: Console) -> None:
    handoff_id, holder, other, boss = _claimed_by_agent1(console)
    for path in READS:
        url = path.format(id=handoff_id)
        refused = other.get(url, headers={"Accept-Language": "en"})
        assert refused.status_code == 403, url
        assert "supervisor" in refused.text
        assert "请主管" in other.get(url, headers={"Accept-Language": "zh"}).text
        assert "我要退款" not in refused.text and "陈*" not in refused.text
        if not url.endswith("/stream"):
            assert holder.get(url).status_code == 200, url
            assert boss.get(url).status_code == 200, url


def test_a_resolved_handoff_is_for_supervisors_only(console: Console) -> None:
    handoff_id, holder, other, boss = _claimed_by_agent1(console)
    assert holder.post(f"/api/handoffs/{handoff_id}/resolve", headers={"X-CSRF-Token": holder.csrf}).status_code == 200
    for path in READS:
        url = path.format(id=handoff_id)
        assert holder.get(url).status_code == 403, url  # over: not even its last holder
        assert other.get(url).status_code == 403, url
        if not url.endswith("/stream"):
            assert boss.get(url).status_code == 200, url


def test_a_queued_handoff_is_open_to_every_agent(console: Console) -> None:
    handoff_id = enqueue(console.queue)
    agent = console.client("agent2")
    assert agent.get(f"/api/handoffs/{handoff_id}").status_code == 200
    assert agent.get(f"/handoffs/{handoff_id}", headers={"Accept": "text/html"}).status_code == 200


# -- 15: password hashing ----------------------------------------------------------------------------------


def test_hashes_use_scrypt_n_2_17() -> None:
    scheme, n, r, p, _salt, _digest = hash_password(PASSWORD).split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)


def _old_hash(password: str) -> str:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_an_old_hash_is_upgraded_when_its_owner_signs_in(console: Console) -> None:
    old = _old_hash("an older password")
    with console.session_factory.begin() as session:
        session.scalars(select(Agent).where(Agent.username == "agent2")).one().password_hash = old

    def stored() -> str:
        with console.session_factory() as session:
            return session.scalars(select(Agent.password_hash).where(Agent.username == "agent2")).one()

    assert console.agents.authenticate("agent2", "a wrong password") is None
    assert stored() == old  # a failed sign-in changes nothing
    assert console.agents.authenticate("agent2", "an older password") is not None
    upgraded = stored()
    assert upgraded.split("$")[1] == str(2**17) and verify_password("an older password", upgraded)
    assert console.agents.authenticate("agent2", "an older password") is not None
    assert stored() == upgraded  # upgraded once


# -- 16: what customers see of an agent --------------------------------------------------------------------


def test_demo_display_names_do_not_name_the_sign_in() -> None:
    for username, _, _, name in DEMO_USERS:
        assert username.lower() not in name.lower()


class Recorder:
    carries_bot_lines = True

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, conversation_id: str, message: OutboundMessage) -> bool:
        self.sent.append(message)
        return True


@pytest.mark.parametrize("display_name, shown", [("小李", "小李"), ("Agent1", None), ("李 (agent1)", None)])
def test_customers_see_the_display_name_only(console_factory: Any, display_name: str, shown: str | None) -> None:
    recorder = Recorder()
    console = console_factory(gateways={"rest": recorder})
    with console.session_factory.begin() as session:
        session.scalars(select(Agent).where(Agent.username == "agent1")).one().display_name = display_name
    handoff_id, holder, _, _ = _claimed_by_agent1(console)
    conversation = console.queue.get(handoff_id).conversation_id
    assert holder.post(f"/api/handoffs/{handoff_id}/messages", json={"text": "您好，我来为您处理"},
                       headers={"X-CSRF-Token": holder.csrf}).status_code == 200
    frame = recorder.sent[-1].as_dict()
    assert frame["agent"] == shown and "agent1" not in str(frame).lower()
    history = asyncio.run(_history(console.app.state.services, conversation))
    agent_lines = [m for m in history["messages"] if m["from"] == "agent"]
    assert agent_lines and all(m.get("agent") == shown for m in agent_lines)
    assert "agent1" not in str(history).lower()
    # the console itself still says which agent wrote it
    lines = holder.get(f"/api/handoffs/{handoff_id}/messages").json()["messages"]
    assert [m["agent"] for m in lines if m["from"] == "agent"] == ["agent1"]
