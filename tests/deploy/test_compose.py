"""docker-compose.yml: validated by docker-compose itself when installed, and checked structurally.

No Docker engine runs here; ``docker-compose config -q`` (Debian's ``docker-compose`` package,
``scripts/system_deps.sh``) resolves and validates the file with a test environment. The structural
checks parse the YAML: replicas, health checks, restart policies, no literal secrets, only nginx
published, the action server on the internal network only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "PII_HASH_SALT", "PII_VAULT_KEY", "WIDGET_TOKEN_SECRET",
           "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN")
TEST_ENV = {name: f"test-{name.lower()}" for name in SECRETS}
LONG_RUNNING = ("nginx", "rasa", "actions", "console", "postgres", "redis", "retention", "care")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _docker_compose(env_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker-compose", "--env-file", str(env_file), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, env={"PATH": "/usr/bin:/bin:/usr/local/bin"},
    )


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed (scripts/system_deps.sh)")
def test_docker_compose_validates_it_and_refuses_missing_secrets(tmp_path: Path) -> None:
    complete = tmp_path / "complete.env"
    complete.write_text("".join(f"{k}={v}\n" for k, v in TEST_ENV.items()))
    result = _docker_compose(complete)
    assert result.returncode == 0, result.stderr
    for missing in ("POSTGRES_PASSWORD", "RASA_AUTH_TOKEN"):
        partial = tmp_path / f"without-{missing}.env"
        partial.write_text("".join(f"{k}={v}\n" for k, v in TEST_ENV.items() if k != missing))
        result = _docker_compose(partial)
        assert result.returncode != 0 and missing in result.stderr, result.stderr


def test_the_stack_has_every_service(compose: dict[str, Any]) -> None:
    assert set(LONG_RUNNING) | {"migrate"} == set(compose["services"])


def test_the_retention_job_runs_on_a_schedule_with_a_configured_age(compose: dict[str, Any]) -> None:
    spec = compose["services"]["retention"]
    assert spec["command"] == ["retention"] and spec["networks"] == ["internal"]
    assert spec["environment"]["TRANSCRIPT_RETENTION_DAYS"].startswith("${TRANSCRIPT_RETENTION_DAYS:-")
    assert "retention)" in (ROOT / "deploy" / "entrypoint.sh").read_text()


def test_the_care_scheduler_is_its_own_service(compose: dict[str, Any]) -> None:
    spec = compose["services"]["care"]
    assert spec["command"] == ["care"] and spec["networks"] == ["internal"]
    assert spec["environment"]["CARE_INTERVAL_S"].startswith("${CARE_INTERVAL_S:-")
    assert "care)" in (ROOT / "deploy" / "entrypoint.sh").read_text()


@pytest.mark.parametrize("service", ["rasa", "actions"])
def test_two_replicas(compose: dict[str, Any], service: str) -> None:
    assert compose["services"][service]["deploy"]["replicas"] >= 2
    assert "container_name" not in compose["services"][service]  # replicas cannot share a name


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_health_checks_and_restart_policies(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    assert spec["healthcheck"]["test"], service
    assert spec["restart"] in {"always", "unless-stopped"}, service


def test_only_nginx_is_published(compose: dict[str, Any]) -> None:
    published = {name for name, spec in compose["services"].items() if spec.get("ports")}
    assert published == {"nginx"}


def test_the_action_server_postgres_and_redis_are_internal_only(compose: dict[str, Any]) -> None:
    assert compose["networks"]["internal"]["internal"] is True
    for service in ("actions", "postgres", "redis"):
        assert compose["services"][service]["networks"] == ["internal"], service


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    assert {"postgres-data", "redis-data"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


def test_no_literal_secrets(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text()
    for name in SECRETS:  # each secret is a required substitution: compose stops when it is unset
        assert re.search(rf"\${{{name}:\?", text), f"{name} is not required"
    secret_like = re.compile(r"PASSWORD|SECRET|TOKEN|SALT|_KEY$")
    for service, spec in compose["services"].items():
        for key, value in (spec.get("environment") or {}).items():
            if secret_like.search(key) and value not in ("", None):
                assert "${" in str(value), f"{service}: literal value for {key}"
            if "://" in str(value) and "@" in str(value):  # credentials inside URLs come from variables too
                assert re.search(r"://[^@]*\$\{[A-Z_]+:\?", str(value)), f"{service}: literal credentials in {key}"


def test_rasa_runs_the_production_profile_and_migrations_run_first(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["rasa"]["environment"]["RASA_ENDPOINTS"] == "bot/endpoints.production.yml"
    assert services["migrate"]["command"] == ["migrate"]
    for service in ("console", "actions"):
        assert services[service]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_nginx_routes_and_limits() -> None:
    conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    assert re.search(r"location /webhooks/ \{[^}]*proxy_pass http://rasa;", conf)
    assert re.search(r"location / \{[^}]*proxy_pass http://console;", conf)
    assert re.search(r"\(chat\|widget\)/ws[^}]*Upgrade \$http_upgrade[^}]*proxy_pass http://console;", conf)
    assert "client_max_body_size" in conf and "limit_req_zone $binary_remote_addr" in conf
    # only the channel webhooks reach Rasa: its HTTP API (/conversations, /model, ...) is not routed
    assert re.findall(r"location (\S+) \{[^}]*proxy_pass http://rasa;", conf) == ["/webhooks/wechat/", "/webhooks/"]
    # WeChat comes from a few Tencent addresses: no per-address limits there (signatures guard it)
    wechat = re.search(r"location /webhooks/wechat/ \{([^}]*)\}", conf)
    assert wechat and "limit_req" not in wechat.group(1) and "limit_conn" not in wechat.group(1)
    server_level = re.search(r"server \{(.*?)location", conf, re.S)
    assert server_level and "limit_conn" not in server_level.group(1)  # not inherited by the WeChat location


@pytest.mark.parametrize("dockerfile", ["bot/Dockerfile", "actions/Dockerfile", "desk/Dockerfile"])
def test_dockerfiles_use_the_pinned_versions_and_the_entrypoint(dockerfile: str) -> None:
    text = (ROOT / dockerfile).read_text()
    assert "-r requirements.txt -c constraints.txt" in text
    assert 'ENTRYPOINT ["deploy/entrypoint.sh"]' in text
    assert "USER app" in text
    compose = yaml.safe_load(COMPOSE.read_text())
    assert any(s.get("build", {}).get("dockerfile") == dockerfile for s in compose["services"].values())


def test_the_console_runs_as_replicas_sharing_redis(compose: dict[str, Any]) -> None:
    console = compose["services"]["console"]
    assert int(console["deploy"]["replicas"]) >= 2
    assert console["environment"]["REDIS_URL"].startswith("redis://")  # live updates, sign-in throttling
